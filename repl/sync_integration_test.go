//go:build linux

package repl

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/internal/nstest"
)

// syncBench makes a namespace with the veth pair of syncConf and writes
// the configuration; it returns the namespace, the scratch directory and
// the configuration's path.
func syncBench(t *testing.T) (*nstest.NS, string, string) {
	t.Helper()
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "d0")
	ns.Run(t, "ip", "link", "set", "d0", "up")
	ns.Run(t, "ip", "link", "set", "d1", "up")
	dir := t.TempDir()
	conf := filepath.Join(dir, "a.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, syncConf, dir), 0o600); err != nil {
		t.Fatal(err)
	}
	return ns, dir, conf
}

// TestSyncStartStop runs a node in the background of a session in a
// namespace of its own, asks it for its status and stops it.
func TestSyncStartStop(t *testing.T) {
	ns, dir, conf := syncBench(t)
	var out, errb bytes.Buffer
	s := NewSession(Config{Stdout: &out, Stderr: &errb, NetNS: ns.Name(), OpenLive: openLive})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	run := func(script string) {
		t.Helper()
		out.Reset()
		if err := s.Run(ctx, "", script); err != nil {
			t.Fatalf("%s: %v (stderr %s)", script, err, errb.String())
		}
	}
	// A lock file in the way (another node's) stops the start.
	lockFile := filepath.Join(dir, "lock")
	if err := os.WriteFile(lockFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Run(ctx, "", `sync start "`+conf+`"`); err == nil || !strings.Contains(err.Error(), "lockfile `"+lockFile+"' exists, perhaps conntrackd already running?") {
		t.Errorf("start with the lock file taken: %v", err)
	}
	// A lock file of a process that is gone (a killed node) is stale.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(lockFile, fmt.Appendf(nil, "%d\n", dead.Process.Pid), 0o600); err != nil {
		t.Fatal(err)
	}
	run(`sync start "` + conf + `"`)
	run(`sync stop "` + conf + `"`)
	run(`sync start "` + conf + `"`)
	if b, err := os.ReadFile(lockFile); err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock file of the running node: %q, %v", b, err)
	}
	if err := s.Run(ctx, "", `sync start "`+conf+`"`); err == nil || !strings.Contains(err.Error(), "already runs") {
		t.Errorf("second start: %v", err)
	}
	run(`sync status "` + conf + `"`)
	if !strings.Contains(out.String(), "cache external:") || !strings.Contains(out.String(), "datagrams sent:") {
		t.Errorf("status:\n%s", out.String())
	}
	// Without a path, requests go to the node the session started (the
	// default configuration files do not exist here).
	run(`sync status`)
	if !strings.Contains(out.String(), "cache external:") {
		t.Errorf("status without a path:\n%s", out.String())
	}
	run(`sync dump external "` + conf + `"`)
	if out.Len() != 0 {
		t.Errorf("external cache of a node without a peer:\n%s", out.String())
	}
	run(`sync commit "` + conf + `"`)
	if !strings.HasPrefix(out.String(), "0 entries committed") {
		t.Errorf("commit: %q", out.String())
	}
	run(`sync flush "` + conf + `"; sync resync "` + conf + `"`)
	run(`sync refresh "` + conf + `"; sync bulk "` + conf + `"; sync purge "` + conf + `"; sync flush internal "` + conf + `"`)
	run(`sync flush kernel "` + conf + `"`)
	if out.String() != "kernel table flushed\n" {
		t.Errorf("flush kernel: %q", out.String())
	}
	// serve ... sync exports the node's counters.
	prom := filepath.Join(dir, "m.prom")
	run(`serve textfile "` + prom + `" sync "` + conf + `"`)
	if b, err := os.ReadFile(prom); err != nil || !strings.Contains(string(b), "ctq_sync_up 1\n") ||
		!strings.Contains(string(b), `ctq_sync_cache_entries{cache="internal"} `) || !strings.Contains(string(b), "ctq_conntrack_entries ") {
		t.Errorf("serve textfile with sync: %v\n%s", err, b)
	}
	run(`sync stop`)
	if s.daemon != nil {
		t.Error("sync stop without a path left the session's node running")
	}
	run(`serve textfile "` + prom + `" sync "` + conf + `"`)
	if b, err := os.ReadFile(prom); err != nil || !strings.Contains(string(b), "ctq_sync_up 0\n") {
		t.Errorf("serve textfile with sync, node stopped: %v\n%s", err, b)
	}
	if _, err := os.Stat(lockFile); !os.IsNotExist(err) {
		t.Errorf("lock file after stop: %v", err)
	}
	logText, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"[notice] sync node started: mode NOTRACK, 1 dedicated link(s), 0 entries in the internal cache\n",
		"[notice] commit: nothing to commit (the external cache is empty)\n",
		"[notice] purge of the kernel table scheduled in 1m0s\n",
		"[notice] sync node stopped\n",
	} {
		if !strings.Contains(string(logText), want) {
			t.Errorf("log file lacks %q:\n%s", want, logText)
		}
	}
	if s.daemon != nil {
		t.Error("the session still holds the node after sync stop")
	}
	if _, err := os.Stat(filepath.Join(dir, "ctl.sock")); !os.IsNotExist(err) {
		t.Errorf("control socket after stop: %v", err)
	}
	// A new node may start once the old one stopped; the session's end
	// stops it.
	run(`sync start "` + conf + `"`)
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "ctl.sock")); !os.IsNotExist(err) {
		t.Errorf("control socket after Close: %v", err)
	}
}

// TestSyncNotifiesSystemd checks that a session's node tells systemd
// (sync/daemon's tests cover the watchdog): READY, then STOPPING.
func TestSyncNotifiesSystemd(t *testing.T) {
	ns, dir, conf := syncBench(t)
	sock := filepath.Join(dir, "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "")
	var out, errb bytes.Buffer
	s := NewSession(Config{Stdout: &out, Stderr: &errb, NetNS: ns.Name(), OpenLive: openLive})
	defer s.Close()
	ctx := context.Background()
	if err := s.Run(ctx, "", `sync start "`+conf+`"`); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 512)
	for _, want := range []string{"READY=1\n", "STOPPING=1"} {
		ln.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		if got := string(buf[:n]); !strings.HasPrefix(got, want) {
			t.Errorf("notification %q, want %q", got, want)
		}
		if want == "READY=1\n" {
			if err := s.Run(ctx, "", `sync stop "`+conf+`"`); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// openLive is cmd/ctq's live opener on Linux.
func openLive(netns string) (engine.Source, error) {
	return ctnetlink.OpenLive(&ctnetlink.LiveConfig{NetNS: netns})
}
