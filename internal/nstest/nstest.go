// Package nstest gives tests a network namespace of their own, with a
// private conntrack table, created with ip(8) and removed when the test
// ends. Tests that use it need root (CAP_SYS_ADMIN, CAP_NET_ADMIN): they
// are integration tests, kept in *_integration_test.go files, and skip with
// a message without root unless CTQ_INTEGRATION=require (see Require).
package nstest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// NS is a network namespace made for one test.
type NS struct {
	name string

	// mu guards the FTP state of FTPExpectation.
	mu sync.Mutex
	// ftpLn is the FTP server's listener, open once the namespace has the
	// FTP address and rules.
	ftpLn net.Listener
	// ftpSessions counts the FTP sessions run; it picks their data ports.
	ftpSessions int
}

// tagLen bounds the part of a namespace name taken from the test name.
const tagLen = 12

// New creates a network namespace with a unique name (prefix "ctqt-" +
// short test-derived tag + random suffix), brings lo up, enables
// net.netfilter.nf_conntrack_acct=1 and nf_conntrack_timestamp=1 inside it,
// and removes it in t.Cleanup (even on failure). It calls Require first,
// so without root or ip(8) it skips the test (fails it under
// CTQ_INTEGRATION=require); as root it fails the test (t.Fatal) if it
// cannot make the namespace.
func New(t testing.TB) *NS {
	t.Helper()
	Require(t)
	var suffix [3]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		t.Fatalf("nstest: random namespace suffix: %v", err)
	}
	n := &NS{name: "ctqt-" + tag(t.Name()) + "-" + hex.EncodeToString(suffix[:])}
	if out, err := exec.Command("ip", "netns", "add", n.name).CombinedOutput(); err != nil {
		t.Fatalf("nstest: ip netns add %s: %v: %s (tests touching the kernel need root)",
			n.name, err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", n.name).CombinedOutput(); err != nil {
			t.Errorf("nstest: ip netns del %s: %v: %s", n.name, err, bytes.TrimSpace(out))
		}
	})
	t.Cleanup(func() { // before the namespace goes
		n.mu.Lock()
		defer n.mu.Unlock()
		if n.ftpLn != nil {
			n.ftpLn.Close()
		}
	})
	n.Run(t, "ip", "link", "set", "lo", "up")
	n.Run(t, "sysctl", "-q", "-w",
		"net.netfilter.nf_conntrack_acct=1", "net.netfilter.nf_conntrack_timestamp=1")
	return n
}

// tag is a short lower-case alphanumeric form of a test name.
func tag(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if b.Len() == tagLen {
			break
		}
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "test"
	}
	return b.String()
}

// Name is the namespace's name as `ip netns` knows it.
func (n *NS) Name() string {
	return n.name
}

// Run runs a command inside the namespace (ip netns exec NAME ...) and
// returns stdout; t.Fatal on failure with stderr.
func (n *NS) Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	return n.run(t, nil, name, args...)
}

func (n *NS) run(t testing.TB, stdin []byte, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.name, name}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("nstest: in %s: %s %s: %v: %s", n.name, name, strings.Join(args, " "), err,
			bytes.TrimSpace(stderr.Bytes()))
	}
	return stdout.String()
}

// Load loads conntrack -o save lines (one per line) into the namespace
// with `conntrack -R`. conntrack parses all lines before it runs any and
// stops at the first kernel error, which fails the test.
func (n *NS) Load(t testing.TB, lines []string) {
	t.Helper()
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	n.run(t, b.Bytes(), "conntrack", "-R", "-")
}
