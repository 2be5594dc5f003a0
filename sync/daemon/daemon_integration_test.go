//go:build linux

package daemon

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctq/internal/nstest"
	"ctq/sync/control"
)

// bench makes a namespace with the veth pair of nodeConf (d1, the other
// end, has no address: what the node sends goes nowhere) and returns the
// daemon configuration of a node there, with its scratch directory.
func bench(t *testing.T) (Config, string) {
	t.Helper()
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "d0")
	ns.Run(t, "ip", "link", "set", "d0", "up")
	ns.Run(t, "ip", "link", "set", "d1", "up")
	dir := t.TempDir()
	return Config{
		ConfigPath: writeConf(t, dir, "a.conf", fmt.Sprintf(nodeConf, dir)),
		NetNS:      ns.Name(),
	}, dir
}

// TestNotifiesSystemd runs a node as under a Type=notify unit with a
// watchdog: systemd hears READY, then keep-alives, then STOPPING.
func TestNotifiesSystemd(t *testing.T) {
	cfg, dir := bench(t)
	sock := filepath.Join(dir, "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", "")
	cfg.Notify = SystemdNotifier()
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	next := func() string {
		t.Helper()
		ln.SetReadDeadline(time.Now().Add(30 * time.Second))
		buf := make([]byte, 512)
		k, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:k])
	}
	if got := next(); !strings.HasPrefix(got, "READY=1\nSTATUS=replicating over 1 link(s), mode NOTRACK") {
		t.Errorf("first notification %q, want READY", got)
	}
	if got := next(); got != "WATCHDOG=1" {
		t.Errorf("second notification %q, want a watchdog keep-alive", got)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	for got := next(); got != "STOPPING=1"; got = next() {
		if got != "WATCHDOG=1" {
			t.Fatalf("notification %q, want STOPPING", got)
		}
	}
}

// TestStartStop runs a node in the background, checks what it holds
// while it runs and that Stop releases it all; then Run in the
// foreground until its context ends.
func TestStartStop(t *testing.T) {
	cfg, dir := bench(t)
	var stderr strings.Builder
	cfg.Stderr = &stderr
	lock, ctl := filepath.Join(dir, "lock"), filepath.Join(dir, "ctl.sock")
	n, err := Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	waitUp(t, ctl)
	if !n.Running() || n.Socket() != ctl {
		t.Errorf("running %v, socket %q", n.Running(), n.Socket())
	}
	for _, p := range []string{lock, ctl} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("while the node runs: %v", err)
		}
	}
	if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "lockfile `"+lock+"' exists and is locked") {
		t.Errorf("second node with the same lock file: %v", err)
	}
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
	if n.Running() {
		t.Error("running after Stop")
	}
	for _, p := range []string{lock, ctl} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("after Stop: %v", err)
		}
	}
	if !strings.Contains(stderr.String(), "ctq: sync node started, control socket "+ctl+"\n") {
		t.Errorf("stderr: %q", stderr.String())
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		// Not waitUp: t.Fatal belongs to the test's goroutine. Run's
		// context ends once the node answers, or after 30s.
		defer cancel()
		for range 300 {
			if _, err := control.Do(ctx, ctl, control.Request{Verb: "status"}); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	if err := Run(ctx, cfg); err != nil {
		t.Errorf("Run until the context ends: %v", err)
	}
	if _, err := os.Stat(lock); !os.IsNotExist(err) {
		t.Errorf("lock file after Run: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil || strings.Count(string(b), "[notice] sync node stopped\n") != 2 {
		t.Errorf("log: %v\n%s", err, b)
	}
}

// waitUp waits until the node of control socket sock answers a status
// request.
func waitUp(t *testing.T, sock string) {
	t.Helper()
	nstest.WaitFor(t, "the node answering on "+sock, func() bool {
		_, err := control.Do(context.Background(), sock, control.Request{Verb: "status"})
		return err == nil
	})
}

// TestServesMetrics runs a node with MetricsAddress and scrapes it: the
// node's own counters and the table's, from one endpoint in the node's
// namespace.
func TestServesMetrics(t *testing.T) {
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "add", "d0", "type", "veth", "peer", "name", "d1")
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "d0")
	ns.Run(t, "ip", "link", "set", "d0", "up")
	ns.Run(t, "ip", "link", "set", "d1", "up")
	dir := t.TempDir()
	conf := strings.Replace(fmt.Sprintf(nodeConf, dir), "General {", "General {\n\tMetricsAddress 127.0.0.1:9101", 1)
	n, err := Start(context.Background(), Config{ConfigPath: writeConf(t, dir, "a.conf", conf), NetNS: ns.Name()})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Stop()
	var body []byte
	err = ns.Do(func() error {
		c, err := net.DialTimeout("tcp", "127.0.0.1:9101", 10*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := io.WriteString(c, "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		body, err = io.ReadAll(resp.Body)
		return err
	})
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	for _, want := range []string{"\nctq_sync_up 1\n", "\nctq_sync_cache_entries{cache=\"internal\"} ", "\nctq_conntrack_entries ", "\nctq_build_info{", "# TYPE ctq_sync_kernel_events_total counter\n"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("scrape lacks %q:\n%s", want, body)
		}
	}
	if err := n.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}
