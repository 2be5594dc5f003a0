//go:build linux

package link

import (
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"ctq/internal/nstest"
	"ctq/sync/config"
)

// logLines collects a Set's log.
type logLines struct {
	mu    sync.Mutex
	lines []string
}

func (l *logLines) log(level slog.Level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, level.String()+" "+msg)
}

func (l *logLines) has(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, line := range l.lines {
		if line == s {
			return true
		}
	}
	return false
}

// TestLinkStates takes dedicated links down as conntrackd sees it: the
// carrier lost (the veth's peer end down) is NO-CARRIER, admin down is
// DOWN, and the active link going down logs the link that takes over or,
// with none, "no dedicated links available!". One link naming an
// interface is watched as well (it was returned bare and always shown
// RUNNING).
func TestLinkStates(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	for _, c := range [][2]string{{"a1", "b1"}, {"a2", "b2"}} {
		ns.Run(t, "ip", "link", "add", c[0], "type", "veth", "peer", "name", c[1])
		ns.Run(t, "ip", "link", "set", c[0], "up")
		ns.Run(t, "ip", "link", "set", c[1], "up")
	}
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "a1")
	ns.Run(t, "ip", "addr", "add", "198.51.100.1/24", "dev", "a2")
	nstest.WaitFor(t, "the veths up", func() bool {
		return strings.Contains(ns.Run(t, "ip", "-o", "link", "show", "a1"), "state UP") &&
			strings.Contains(ns.Run(t, "ip", "-o", "link", "show", "a2"), "state UP")
	})
	udp := func(local, remote, ifname string, port int) config.Link {
		return config.Link{Transport: config.TransportUDP, Address: netip.MustParseAddr(local),
			Destination: netip.MustParseAddr(remote), Port: port, Interface: ifname}
	}
	state := func(l Link, i int) func() string {
		return func() string { return l.(*Set).Links()[i].State }
	}
	waitState := func(what string, get func() string, want string) {
		t.Helper()
		nstest.WaitFor(t, what, func() bool { return get() == want })
	}

	t.Run("one link", func(t *testing.T) {
		var logs logLines
		var l Link
		if err := ns.Do(func() (err error) {
			l, err = OpenSetWith([]config.Link{udp("192.0.2.1", "192.0.2.2", "a1", 3780)}, Options{Log: logs.log})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		if _, ok := l.(*Set); !ok {
			t.Fatalf("one link naming an interface opened as %T, want a watched *Set", l)
		}
		if got := state(l, 0)(); got != StateRunning {
			t.Fatalf("state %s, want RUNNING", got)
		}
		ns.Run(t, "ip", "link", "set", "b1", "down") // a1 loses its carrier
		waitState("a1 NO-CARRIER", state(l, 0), StateNoCarrier)
		nstest.WaitFor(t, "the log line", func() bool { return logs.has("ERROR no dedicated links available!") })
		if ls := l.(*Set).Links()[0]; ls.Up || !ls.Active {
			t.Errorf("link %+v, want down and still active", ls)
		}
		ns.Run(t, "ip", "link", "set", "a1", "down")
		waitState("a1 DOWN", state(l, 0), StateDown)
		ns.Run(t, "ip", "link", "set", "a1", "up")
		ns.Run(t, "ip", "link", "set", "b1", "up")
		waitState("a1 RUNNING", state(l, 0), StateRunning)
	})

	t.Run("two links", func(t *testing.T) {
		var logs logLines
		var l Link
		if err := ns.Do(func() (err error) {
			l, err = OpenSetWith([]config.Link{udp("192.0.2.1", "192.0.2.2", "a1", 3781),
				udp("198.51.100.1", "198.51.100.2", "a2", 3781)}, Options{Log: logs.log})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ns.Run(t, "ip", "link", "set", "b1", "down")
		waitState("a1 NO-CARRIER", state(l, 0), StateNoCarrier)
		nstest.WaitFor(t, "the failover's log line", func() bool { return logs.has("INFO device `a2' becomes dedicated link") })
		if !l.(*Set).Links()[1].Active {
			t.Error("a2 not active after a1 lost its carrier")
		}
		ns.Run(t, "ip", "link", "set", "a2", "down")
		waitState("a2 DOWN", state(l, 1), StateDown)
		nstest.WaitFor(t, "the log line", func() bool { return logs.has("ERROR no dedicated links available!") })
	})
}
