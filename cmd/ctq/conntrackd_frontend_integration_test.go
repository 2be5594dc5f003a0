//go:build linux

package main

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctq/internal/nstest"
)

// linkConntrackd links ctq as conntrackd in a directory of its own and
// returns the link's path.
func linkConntrackd(t *testing.T, bin string) string {
	t.Helper()
	link := filepath.Join(t.TempDir(), "conntrackd")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// frontEnd runs ctq linked as conntrackd with args in ns and returns its
// combined output and exit code.
func frontEnd(t *testing.T, ns *nstest.NS, link string, args ...string) (string, int) {
	t.Helper()
	return runExit(t, "ip", append([]string{"netns", "exec", ns.Name(), link}, args...)...)
}

// TestConntrackdFrontEndPrimaryBackup runs the client calls of
// conntrackd's primary-backup.sh (upstream doc/sync) with ctq linked as
// conntrackd, against nodes that ctq, linked as conntrackd, started with
// -d: backup on a node that is not running (-s fails, a stale lock file
// is removed, -d starts it, then -t, -n), primary (-c, -f, -R, -B), fault
// (-t). Every call exits as the script expects; the flows of A reach B's
// kernel table; examples/keepalived-notify.sh drives the node too; -k
// stops the node and removes its lock file and socket.
func TestConntrackdFrontEndPrimaryBackup(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	bin := buildCtq(t)
	link := linkConntrackd(t, bin)
	a, b := nstest.Joined(t, "ctqa", "192.0.2.1", "ctqb", "192.0.2.2")
	const dst = "203.0.113.21"
	want := udpFlows(t, a, "198.51.100.21", dst, 2000, 2004)
	dir := t.TempDir()
	confA, confB := writeSyncConfs(t, dir, syncTestConf, syncTestConf, "192.0.2.1", "192.0.2.2")
	lockB, sockB := filepath.Join(dir, "b.lock"), filepath.Join(dir, "b.sock")
	ctd := func(ns *nstest.NS, conf string, args ...string) (string, int) {
		t.Helper()
		return frontEnd(t, ns, link, append([]string{"-C", conf}, args...)...)
	}
	t.Cleanup(func() {
		ctd(a, confA, "-k")
		ctd(b, confB, "-k")
	})

	// A runs (conntrackd -d returns once it is ready), under a systemd
	// that listens: the parent names the background process the main
	// one (MAINPID), which then says READY=1.
	notifySock := filepath.Join(dir, "notify.sock")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifySock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if out, rc := runExit(t, "env", "NOTIFY_SOCKET="+notifySock, "ip", "netns", "exec", a.Name(), link, "-C", confA, "-d"); rc != 0 || out != "" {
		t.Fatalf("conntrackd -d on A: exit %d: %q", rc, out)
	}
	var notes []string
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	for !slices.Contains(notes, "READY=1") {
		buf := make([]byte, 4096)
		n, err := nc.Read(buf)
		if err != nil {
			t.Fatalf("systemd notifications of conntrackd -d: %q, then %v", notes, err)
		}
		notes = append(notes, strings.Split(string(buf[:n]), "\n")[0])
	}
	if !strings.HasPrefix(notes[0], "MAINPID=") {
		t.Errorf("systemd notifications of conntrackd -d: %q, want MAINPID= first", notes)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.sock")); err != nil {
		t.Fatalf("A's control socket once conntrackd -d returned: %v", err)
	}

	// backup on B, not running: -s fails as conntrackd's does.
	out, rc := ctd(b, confB, "-s")
	if rc != 1 || !strings.HasSuffix(out, "[ERROR] can't connect: is conntrackd running? appropriate permissions?\n") {
		t.Errorf("conntrackd -s without a daemon: exit %d: %q", rc, out)
	}
	// A crashed conntrackd's lock file (empty, nobody holds it) refuses the
	// start, as conntrackd's does; the script removes it.
	if err := os.WriteFile(lockB, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, rc := ctd(b, confB, "-d"); rc != 1 || !strings.Contains(out, "lockfile `"+lockB+"' exists") {
		t.Errorf("conntrackd -d with a stale lock file: exit %d: %q", rc, out)
	}
	if err := os.Remove(lockB); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if out, rc := ctd(b, confB, "-d"); rc != 0 || out != "" {
		t.Fatalf("conntrackd -d on B: exit %d: %q", rc, out)
	}
	t.Logf("conntrackd -d returned after %v", time.Since(start))
	for _, p := range []string{lockB, sockB} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("after conntrackd -d: %v", err)
		}
	}
	if out, rc := ctd(b, confB, "-d"); rc != 1 || !strings.Contains(out, "lockfile `"+lockB+"' exists") {
		t.Errorf("a second conntrackd -d: exit %d: %q", rc, out)
	}
	for _, args := range [][]string{{"-t"}, {"-n"}} {
		if out, rc := ctd(b, confB, args...); rc != 0 || out != "" {
			t.Errorf("backup: conntrackd %s: exit %d: %q", args[0], rc, out)
		}
	}
	nstest.WaitFor(t, "A's flows in B's external cache (conntrackd -n, then -e)", func() bool {
		ctd(b, confB, "-n")
		out, _ := ctd(b, confB, "-e")
		return slices.Equal(syncTuples(out, dst), want)
	})
	if out, rc := ctd(b, confB, "-s"); rc != 0 || !strings.HasPrefix(out, "cache internal:\ncurrent active connections:\t") {
		t.Errorf("conntrackd -s: exit %d:\n%s", rc, out)
	}

	// primary on B.
	for _, opt := range []string{"-c", "-f", "-R", "-B"} {
		if out, rc := ctd(b, confB, opt); rc != 0 || out != "" {
			t.Errorf("primary: conntrackd %s: exit %d: %q", opt, rc, out)
		}
	}
	if got := syncTuples(b.Run(t, "conntrack", "-L"), dst); !slices.Equal(got, want) {
		t.Errorf("B's kernel table after primary: %q, want %q", got, want)
	}
	out, _ = ctd(b, confB, "-i")
	if got := syncTuples(out, dst); !slices.Equal(got, want) {
		t.Errorf("B's internal cache after -R: %q, want %q", got, want)
	}
	// fault on B.
	if out, rc := ctd(b, confB, "-t"); rc != 0 || out != "" {
		t.Errorf("fault: conntrackd -t: exit %d: %q", rc, out)
	}

	// examples/keepalived-notify.sh (ctq's statements) drives the node
	// conntrackd -d started.
	if log, rc := notify(t, bin, confB, "MASTER"); rc != 0 {
		t.Errorf("keepalived-notify.sh MASTER against the node of conntrackd -d: exit %d: %s", rc, log)
	}

	// -k stops B: lock file and socket go.
	if out, rc := ctd(b, confB, "-k"); rc != 0 || out != "" {
		t.Errorf("conntrackd -k: exit %d: %q", rc, out)
	}
	nstest.WaitFor(t, "B's lock file and socket removed", func() bool {
		_, err1 := os.Stat(lockB)
		_, err2 := os.Stat(sockB)
		return os.IsNotExist(err1) && os.IsNotExist(err2)
	})
}

// TestConntrackdFrontEndFailedCommit: a commit the kernel refuses
// entries of exits 1 through ctq's conntrackd client (conntrackd's own
// exits 0), with the node's ERROR line; the node runs in the foreground
// (no -d), as systemd's conntrackd.service (Type=notify) runs it: it
// tells NOTIFY_SOCKET it is ready, and logs conntrackd's lines at start
// and stop.
func TestConntrackdFrontEndFailedCommit(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	bin := buildCtq(t)
	link := linkConntrackd(t, bin)
	a, b := nstest.Joined(t, "ctqa", "192.0.2.1", "ctqb", "192.0.2.2")
	const src, dst = "198.51.100.22", "203.0.113.22"
	want := udpFlows(t, a, src, dst, 3000, 3003)
	dir := t.TempDir()
	textB := strings.Replace(syncTestConf, "\tLockFile", "\tLogFile %[1]s/%[2]s.log\n\tLockFile", 1)
	confA, confB := writeSyncConfs(t, dir, syncTestConf, textB, "192.0.2.1", "192.0.2.2")
	startSyncDaemon(t, bin, a, confA)
	// As systemd's conntrackd.service runs it (Type=notify, no -d).
	notifySock := filepath.Join(dir, "notify.sock")
	nc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notifySock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fg := startSyncDaemonCmd(t, "env", "NOTIFY_SOCKET="+notifySock, "ip", "netns", "exec", b.Name(), link, "-C", confB)
	nc.SetReadDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 4096)
	if n, err := nc.Read(buf); err != nil || !strings.Contains(string(buf[:n]), "READY=1") {
		t.Errorf("systemd notification of the foreground node: %q, %v; want READY=1", buf[:n], err)
	}
	ctd := func(args ...string) (string, int) {
		t.Helper()
		return frontEnd(t, b, link, append([]string{"-C", confB}, args...)...)
	}
	nstest.WaitFor(t, "B's external cache", func() bool {
		ctd("-n")
		out, _ := ctd("-e")
		return slices.Equal(syncTuples(out, dst), want)
	})
	// Entries of another source with the reply tuples of A's flows: the
	// kernel refuses to create A's.
	for port := 3000; port < 3003; port++ {
		p := strconv.Itoa(port)
		b.Run(t, "conntrack", "-I", "-p", "udp", "-s", "198.18.0.22", "-d", dst, "--sport", p, "--dport", "53",
			"-t", "600", "--reply-src", dst, "--reply-dst", src, "--reply-port-src", "53", "--reply-port-dst", p)
	}
	if out, rc := ctd("-c"); rc != 1 || !strings.HasPrefix(out, "ERROR: commit failed: the kernel refused") {
		t.Errorf("conntrackd -c refused by the kernel: exit %d, %q; want 1 and the node's ERROR line", rc, out)
	}
	if out, rc := ctd("-k"); rc != 0 || out != "" {
		t.Errorf("conntrackd -k: exit %d: %q", rc, out)
	}
	if err := fg.wait(t); err != nil {
		t.Errorf("conntrackd in the foreground after -k: %v", err)
	}
	for _, l := range []string{"[notice] -- starting in console mode --\n", "[notice] ---- shutdown received ----\n"} {
		if !strings.Contains(fg.out.String(), l) {
			t.Errorf("console output lacks conntrackd's %q:\n%s", l, fg.out.String())
		}
	}
	log, err := os.ReadFile(filepath.Join(dir, "b.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"[notice] -- starting in console mode --\n", "[notice] ---- shutdown received ----\n"} {
		if !strings.Contains(string(log), l) {
			t.Errorf("LogFile lacks %q:\n%s", l, log)
		}
	}
}
