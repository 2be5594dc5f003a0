package engine

import (
	"bufio"
	"context"
	"errors"
	"maps"
	"math"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"
)

// ftpHelper assigns conntrack's ftp helper to connections to port 21 (as
// in the reference captures, helper.nft).
const ftpHelper = `table inet helpers {
  ct helper ftp-standard { type "ftp" protocol tcp; }
  chain out {
    type filter hook output priority 10; policy accept;
    tcp dport 21 ct helper set "ftp-standard"
  }
}
`

// ftpSession runs an FTP control connection to 192.0.2.1:21 in ns. With
// passive, the client asks for a passive data connection and the server
// answers 227 with port 50000; else the client offers an active one (PORT
// with port 50001). Conntrack's ftp helper reads either and expects the
// data connection (one per control connection: the ftp helper keeps one
// expectation per master). It returns the client's port.
func ftpSession(t *testing.T, ns *nstest.NS, passive bool) int {
	t.Helper()
	var client net.Conn
	// The sockets are opened in the namespace (inNetNS is in
	// events_integration_test.go).
	var ln net.Listener
	if err := inNetNS(t, ns.Name(), func() error {
		var err error
		if ln, err = net.Listen("tcp", "192.0.2.1:21"); err != nil {
			return err
		}
		client, err = net.DialTimeout("tcp", "192.0.2.1:21", 5*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Cleanup(func() { client.Close() })
	if err := client.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { server.Close() })
	if err := server.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	cr, sr := bufio.NewReader(client), bufio.NewReader(server)
	say := func(c net.Conn, r *bufio.Reader, line string) {
		t.Helper()
		if _, err := c.Write([]byte(line + "\r\n")); err != nil {
			t.Fatal(err)
		}
		if got, err := r.ReadString('\n'); err != nil || got != line+"\r\n" {
			t.Fatalf("read %q, %v; sent %q", got, err, line)
		}
	}
	// The helper reads a command only after a line it has seen end (the
	// first line of each direction is not parsed).
	say(server, cr, "220 ctq test server")
	say(client, sr, "USER ctq")
	say(server, cr, "331 Password required.")
	if passive {
		say(client, sr, "PASV")
		say(server, cr, "227 Entering Passive Mode (192,0,2,1,195,80).")
	} else {
		say(client, sr, "PORT 192,0,2,1,195,81")
		say(server, cr, "200 PORT command successful.")
	}
	return client.LocalAddr().(*net.TCPAddr).Port
}

// expLine is one line of `conntrack -L expect`, split into its parts.
type expLine struct {
	timeout                    int
	expected, mask, master     map[string]string
	flags                      []string
	class, helper, zone, extra string
}

func parseExpLine(t *testing.T, line string) expLine {
	t.Helper()
	fields := strings.Fields(line)
	if len(fields) == 0 {
		t.Fatalf("empty expect line")
	}
	l := expLine{expected: map[string]string{}, mask: map[string]string{}, master: map[string]string{}}
	var err error
	if l.timeout, err = strconv.Atoi(fields[0]); err != nil {
		t.Fatalf("expect line %q: %v", line, err)
	}
	part := l.expected
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			l.flags = append(l.flags, f)
		case k == "mask-src":
			part = l.mask
		case k == "master-src":
			part = l.master
		case k == "class":
			l.class = v
			continue
		case k == "helper":
			l.helper = v
			continue
		case k == "zone":
			l.zone = v
			continue
		}
		if ok {
			part[strings.TrimPrefix(strings.TrimPrefix(k, "mask-"), "master-")] = v
		}
	}
	return l
}

// expectParts is what conntrack shows of e, in expLine's layout.
func expectParts(e *Expect) (expected, mask, master map[string]string) {
	tuple := func(src, dst netip.Addr, sport, dport int) map[string]string {
		return map[string]string{"src": src.String(), "dst": dst.String(),
			"sport": strconv.Itoa(sport), "dport": strconv.Itoa(dport)}
	}
	expected = tuple(e.Src, e.Dst, e.Sport, e.Dport)
	expected["proto"] = strconv.Itoa(e.ProtoNum)
	return expected, tuple(e.MaskSrc, e.MaskDst, e.MaskSport, e.MaskDport),
		tuple(e.MasterSrc, e.MasterDst, e.MasterSport, e.MasterDport)
}

// scanExpects collects copies of the expectations a scan yields.
func scanExpects(t *testing.T, l *Live) []Expect {
	t.Helper()
	var out []Expect
	st, err := l.ScanExpect(context.Background(), func(e *Expect) error {
		out = append(out, *e)
		return nil
	})
	if err != nil || st.Received != len(out) || st.Skipped != 0 {
		t.Fatalf("ScanExpect: %v (%+v for %d)", err, st, len(out))
	}
	return out
}

// listExpect is `conntrack -L expect`, one line per expectation.
func listExpect(t *testing.T, ns *nstest.NS) []string {
	t.Helper()
	out := strings.TrimSpace(ns.Run(t, "conntrack", "-L", "expect"))
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func TestLiveExpect(t *testing.T) {
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	ctx := context.Background()
	if got := scanExpects(t, l); len(got) != 0 {
		t.Fatalf("%d expectations in a new namespace", len(got))
	}
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/32", "dev", "lo")
	rules := filepath.Join(t.TempDir(), "helper.nft")
	if err := os.WriteFile(rules, []byte(ftpHelper), 0o644); err != nil {
		t.Fatal(err)
	}
	ns.Run(t, "nft", "-f", rules)
	passivePort, activePort := ftpSession(t, ns, true), ftpSession(t, ns, false)

	scanned := time.Now()
	exps := scanExpects(t, l)
	lines := listExpect(t, ns)
	drift := int(math.Ceil(time.Since(scanned).Seconds()))
	if len(exps) != 2 || len(lines) != 2 {
		t.Fatalf("ScanExpect found %d expectations, conntrack %d:\n%s", len(exps), len(lines), strings.Join(lines, "\n"))
	}
	byDport := map[string]*Expect{}
	for i := range exps {
		e := &exps[i]
		byDport[strconv.Itoa(e.Dport)] = e
		clientPort := passivePort
		if e.Dport == 50001 {
			clientPort = activePort
		}
		if e.Family != "ipv4" || e.Proto != "tcp" || e.MasterProto != "tcp" || e.MasterSport != clientPort ||
			e.MasterDport != 21 || e.Helper != "ftp" || e.Flags != 0 || e.Permanent ||
			e.Has&(HasExpTimeout|HasExpID|HasExpMask|HasExpMaster|HasExpHelper|HasExpClass|HasExpFlags) !=
				HasExpTimeout|HasExpID|HasExpMask|HasExpMaster|HasExpHelper|HasExpClass|HasExpFlags {
			t.Errorf("expectation %+v", *e)
		}
	}
	for _, line := range lines {
		c := parseExpLine(t, line)
		e := byDport[c.expected["dport"]]
		if e == nil {
			t.Errorf("conntrack lists an expectation the scan did not return: %s", line)
			continue
		}
		expected, mask, master := expectParts(e)
		if !maps.Equal(expected, c.expected) || !maps.Equal(mask, c.mask) || !maps.Equal(master, c.master) {
			t.Errorf("expectation\n%v %v %v\nconntrack\n%s", expected, mask, master, line)
		}
		if d := e.Timeout - c.timeout; d < 0 || d > drift+1 || c.class != strconv.Itoa(e.Class) ||
			c.helper != e.Helper || len(c.flags) != 0 {
			t.Errorf("timeout %d class %d helper %q, conntrack: %s", e.Timeout, e.Class, e.Helper, line)
		}
	}
	passive, active := byDport["50000"], byDport["50001"]
	if passive == nil || active == nil {
		t.Fatalf("expected ports 50000 and 50001, got %v", slices.Sorted(maps.Keys(byDport)))
	}

	// Delete one: conntrack no longer lists it; a second delete finds none.
	if err := l.DeleteExpect(ctx, passive); err != nil {
		t.Fatalf("DeleteExpect: %v", err)
	}
	if lines := listExpect(t, ns); len(lines) != 1 || !strings.Contains(lines[0], "dport=50001 ") {
		t.Errorf("after DeleteExpect conntrack lists %q", lines)
	}
	if err := l.DeleteExpect(ctx, passive); !errors.Is(err, ErrNotFound) {
		t.Errorf("second DeleteExpect = %v, want ErrNotFound", err)
	}

	// Create one on the same master.
	made := *passive
	made.Dport, made.Has = 50010, 0
	made.Timeout = 100
	if err := l.CreateExpect(ctx, &made); err != nil {
		t.Fatalf("CreateExpect: %v", err)
	}
	out := ns.Run(t, "conntrack", "-G", "expect", "-s", "192.0.2.1", "-d", "192.0.2.1", "-p", "tcp",
		"--sport", "0", "--dport", "50010", "--reply-port-src", "1", "--reply-port-dst", "1")
	if c := parseExpLine(t, strings.TrimSpace(out)); c.master["sport"] != strconv.Itoa(passivePort) || c.helper != "ftp" {
		t.Errorf("created expectation: %s", out)
	}
	if err := l.CreateExpect(ctx, &made); !errors.Is(err, unix.EEXIST) {
		t.Errorf("CreateExpect of an existing expectation = %v", err)
	}
	orphan := made
	orphan.Dport, orphan.MasterSport = 50011, 1
	if err := l.CreateExpect(ctx, &orphan); !errors.Is(err, unix.ENOENT) ||
		!strings.Contains(err.Error(), "the master connection does not exist") {
		t.Errorf("CreateExpect without a master = %v", err)
	}

	// Flushes: another family's leaves them, their family's takes them.
	if err := l.Flush(ctx, TableExpect, AF_INET6); err != nil || len(listExpect(t, ns)) != 2 {
		t.Errorf("Flush(expect, ipv6) = %v, %d left", err, len(listExpect(t, ns)))
	}
	if err := l.Flush(ctx, TableExpect, AF_INET); err != nil || len(listExpect(t, ns)) != 0 {
		t.Errorf("Flush(expect, ipv4) = %v, %d left", err, len(listExpect(t, ns)))
	}
	if err := l.CreateExpect(ctx, &made); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(ctx, TableExpect, AF_UNSPEC); err != nil || len(listExpect(t, ns)) != 0 {
		t.Errorf("Flush(expect) = %v, %d left", err, len(listExpect(t, ns)))
	}
}
