//go:build linux

package nstest

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ctq/internal/netns"
)

// TestNamespace creates a namespace in a subtest, loads and lists an
// entry there, and checks that the namespace is gone after the subtest.
func TestNamespace(t *testing.T) {
	RequireCommand(t, "conntrack")
	var name string
	t.Run("inside", func(t *testing.T) {
		n := New(t)
		name = n.Name()
		if !strings.HasPrefix(name, "ctqt-testnamespac-") || len(name) != len("ctqt-testnamespac-")+6 {
			t.Errorf("namespace name %q", name)
		}
		if _, err := os.Stat(filepath.Join(netns.Dir, name)); err != nil {
			t.Fatalf("namespace file: %v", err)
		}
		for _, s := range []string{"nf_conntrack_acct", "nf_conntrack_timestamp"} {
			if got := strings.TrimSpace(n.Run(t, "cat", "/proc/sys/net/netfilter/"+s)); got != "1" {
				t.Errorf("%s = %q inside the namespace, want 1", s, got)
			}
		}
		if out := n.Run(t, "ip", "-o", "link", "show", "lo"); !strings.Contains(out, "UP") {
			t.Errorf("lo is not up: %s", out)
		}
		n.Load(t, []string{
			"# comment lines are fine",
			"-I -t 60 -s 198.18.0.1 -d 198.18.0.2 -p udp --sport 1 --dport 2",
		})
		if out := n.Run(t, "conntrack", "-L"); !strings.Contains(out, "src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2") {
			t.Errorf("loaded entry not listed: %q", out)
		}
	})
	if _, err := os.Stat(filepath.Join(netns.Dir, name)); !os.IsNotExist(err) {
		t.Errorf("namespace %s still exists after its test: %v", name, err)
	}
}

// TestDo checks that Do runs its function inside the namespace: a new
// namespace has lo and nothing else, and an address added there shows.
func TestDo(t *testing.T) {
	Require(t)
	n := New(t)
	n.Run(t, "ip", "addr", "add", "198.18.0.9/32", "dev", "lo")
	var names []string
	var addrs []net.Addr
	if err := n.Do(func() error {
		ifs, err := net.Interfaces()
		if err != nil {
			return err
		}
		for _, i := range ifs {
			names = append(names, i.Name)
		}
		addrs, err = net.InterfaceAddrs()
		return err
	}); err != nil {
		t.Fatalf("Do: %v", err)
	}
	if len(names) != 1 || names[0] != "lo" {
		t.Errorf("interfaces in the namespace: %v, want [lo]", names)
	}
	if !slices.ContainsFunc(addrs, func(a net.Addr) bool { return a.String() == "198.18.0.9/32" }) {
		t.Errorf("addresses in the namespace: %v, want 198.18.0.9/32 among them", addrs)
	}
	want := errors.New("from fn")
	if err := n.Do(func() error { return want }); err != want {
		t.Errorf("Do returned %v, want fn's error", err)
	}
}

// TestFTPExpectation runs a passive and an active session and checks the
// expectations conntrack lists for them.
func TestFTPExpectation(t *testing.T) {
	RequireCommand(t, "conntrack", "nft")
	n := New(t)
	passive, active := n.FTPExpectation(t, true), n.FTPExpectation(t, false)
	if passive.DataPort != FTPFirstDataPort || active.DataPort != FTPFirstDataPort+1 {
		t.Errorf("data ports %d, %d", passive.DataPort, active.DataPort)
	}
	lines := strings.Split(strings.TrimSpace(n.Run(t, "conntrack", "-L", "expect")), "\n")
	if len(lines) != 2 {
		t.Fatalf("conntrack -L expect: %q, want 2 lines", lines)
	}
	for _, f := range []FTP{passive, active} {
		if f.Client.Addr().String() != FTPAddr || f.Client.Port() == 21 {
			t.Errorf("client %v", f.Client)
		}
		want := fmt.Sprintf("proto=6 src=%s dst=%s sport=0 dport=%d mask-src=255.255.255.255 "+
			"mask-dst=255.255.255.255 sport=0 dport=65535 master-src=%s master-dst=%s sport=%d dport=21 ",
			FTPAddr, FTPAddr, f.DataPort, FTPAddr, FTPAddr, f.Client.Port())
		if !slices.ContainsFunc(lines, func(l string) bool {
			return strings.Contains(l, want) && strings.HasSuffix(l, " helper=ftp")
		}) {
			t.Errorf("no expectation %q in\n%s", want, strings.Join(lines, "\n"))
		}
	}
}
