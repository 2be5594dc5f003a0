package nstest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Joined creates two namespaces joined by a veth pair: interface ifA with
// addrA/24 in a, ifB with addrB/24 in b. It returns once the kernel
// reports both ends up (a link that is not up yet drops what is sent).
func Joined(t testing.TB, ifA, addrA, ifB, addrB string) (a, b *NS) {
	t.Helper()
	a, b = New(t), New(t)
	a.Run(t, "ip", "link", "add", ifA, "type", "veth", "peer", "name", ifB, "netns", b.Name())
	a.Run(t, "ip", "addr", "add", addrA+"/24", "dev", ifA)
	b.Run(t, "ip", "addr", "add", addrB+"/24", "dev", ifB)
	a.Run(t, "ip", "link", "set", ifA, "up")
	b.Run(t, "ip", "link", "set", ifB, "up")
	WaitFor(t, "the veth pair up", func() bool {
		return strings.Contains(a.Run(t, "ip", "-o", "link", "show", ifA), "state UP") &&
			strings.Contains(b.Run(t, "ip", "-o", "link", "show", ifB), "state UP")
	})
	return a, b
}

// WaitFor polls cond until it holds, failing the test after 30 seconds
// (a bound on the wait, not a speed assertion).
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StartConntrackd runs `conntrackd -C conf` in the namespace until the test
// ends (SIGTERM, SIGKILL after 5 s), and waits until its control socket
// sock exists. When the test failed, conntrackd's output and its log file
// logFile are logged.
func (n *NS) StartConntrackd(t testing.TB, conf, sock, logFile string) {
	t.Helper()
	if _, err := exec.LookPath("conntrackd"); err != nil {
		t.Fatalf("conntrackd is needed: %v", err)
	}
	cmd := exec.Command("ip", "netns", "exec", n.Name(), "conntrackd", "-C", conf)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start conntrackd: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			log, _ := os.ReadFile(logFile)
			t.Logf("conntrackd output: %s\nlog:\n%s", out.Bytes(), log)
		}
	})
	WaitFor(t, "conntrackd's control socket", func() bool {
		_, err := os.Stat(sock)
		return err == nil
	})
}
