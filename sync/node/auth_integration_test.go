//go:build linux

package node

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"ctq/engine/ctnetlink"
	"ctq/internal/nstest"
	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/link"
	"ctq/sync/wire"
)

// startAuthNode runs a ctq node in ns over an authenticated UDP link keyed
// by key (hex) until the test ends.
func startAuthNode(t *testing.T, ns *nstest.NS, dir, side, iface, local, peer, key string) *Node {
	t.Helper()
	block := fmt.Sprintf("UDP Default {\n\t\tIPv4_address %s\n\t\tIPv4_Destination_Address %s\n\t\tPort 3780\n\t\tInterface %s\n\t\tAuthKey %s\n\t}",
		local, peer, iface, key)
	return startNode(t, ns, dir, side, iface, local, peer, block, nil)
}

// startNode runs a ctq FTFW node in ns with the link blocks given, and
// log as its logger (nil: none), until the test ends.
func startNode(t *testing.T, ns *nstest.NS, dir, side, iface, local, peer, blocks string, log func(slog.Level, string)) *Node {
	t.Helper()
	n, _ := startNodeMode(t, ns, dir, side, iface, local, peer, modeFTFW, blocks, log)
	return n
}

// startNodeMode is startNode with a mode block (and Options) of choice;
// it returns the node's table too.
func startNodeMode(t *testing.T, ns *nstest.NS, dir, side, iface, local, peer, mode, blocks string, log func(slog.Level, string)) (*Node, *ctnetlink.Live) {
	t.Helper()
	n, live := newNodeMode(t, ns, dir, side, iface, local, peer, mode, blocks, log)
	runNode(t, n, side)
	return n, live
}

// newNodeMode makes the node startNodeMode runs, and returns its table
// too.
func newNodeMode(t *testing.T, ns *nstest.NS, dir, side, iface, local, peer, mode, blocks string, log func(slog.Level, string)) (*Node, *ctnetlink.Live) {
	t.Helper()
	cfg, err := config.Parse(side+".conf", fmt.Appendf(nil, confText, dir, side, iface, local, peer, mode, blocks))
	if err != nil {
		t.Fatal(err)
	}
	var l link.Link
	if err := ns.Do(func() error {
		var err error
		l, err = link.OpenSet(cfg.Sync.Links, cfg.Sync.ErrorQueueLength)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	live := openLive(t, ns)
	n, err := New(cfg, Options{Kernel: live, Link: l, Log: log})
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	return n, live
}

// hasSport reports whether the node's external cache holds a flow from
// source port sport.
func hasSport(t *testing.T, n *Node, sport uint16) bool {
	t.Helper()
	entries, err := n.External(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Key.Sport == sport {
			return true
		}
	}
	return false
}

// nodeStats returns a node's counters.
func nodeStats(t *testing.T, n *Node) Stats {
	t.Helper()
	s, err := n.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestAuthPair runs two ctq nodes with the same AuthKey: flows replicate,
// and datagrams without a valid trailer sent to the backup's port are
// dropped and counted without touching its caches or stalling the link.
func TestAuthPair(t *testing.T) {
	nstest.Require(t)
	a, b := nstest.Joined(t, "ctqa", addrA, "ctqb", addrB)
	key := strings.Repeat("5a", 32)
	dir := t.TempDir()
	na := startAuthNode(t, a, dir, "a", "ctqa", addrA, addrB, key)
	nb := startAuthNode(t, b, dir, "b", "ctqb", addrB, addrA, key)

	addFlow := func(sport int) {
		a.Run(t, "conntrack", "-I", "-t", "600", "-p", "tcp", "-s", "198.51.100.10", "-d", "198.51.100.20",
			"--sport", fmt.Sprint(sport), "--dport", "22", "--state", "ESTABLISHED", "-u", "SEEN_REPLY,ASSURED")
	}
	addFlow(40000)
	nstest.WaitFor(t, "the first flow in B's external cache", func() bool { return hasSport(t, nb, 40000) })

	// Forgeries: a flow of A's range keyed with another key, the same
	// datagram without a trailer (what conntrackd sends), and a runt.
	forged := flow(1)
	plain := build(t, ctMsg(wire.MsgCTNew, 1, forged))
	fl := &fakeLink{max: 1472}
	wrong, err := link.NewAuth(fl, bytes.Repeat([]byte{0xa5}, 32))
	if err != nil {
		t.Fatal(err)
	}
	if err := wrong.Send(plain); err != nil {
		t.Fatal(err)
	}
	before := nodeStats(t, nb).Auth
	if err := a.Do(func() error {
		c, err := net.Dial("udp4", addrB+":3780")
		if err != nil {
			return err
		}
		defer c.Close()
		for _, d := range [][]byte{fl.sent[0], plain, plain[:10]} {
			if _, err := c.Write(d); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	nstest.WaitFor(t, "the forgeries counted", func() bool {
		s := nodeStats(t, nb).Auth
		return s.BadMAC-before.BadMAC == 2 && s.Short-before.Short == 1
	})

	// The real peer goes on: a later flow replicates, the forged one
	// never appears.
	addFlow(40001)
	nstest.WaitFor(t, "the second flow in B's external cache", func() bool { return hasSport(t, nb, 40001) })
	if hasSport(t, nb, uint16(forged.Sport)) {
		t.Fatal("the forged flow reached B's external cache")
	}
	entries, err := nb.Internal(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Key == cache.KeyOf(&forged) {
			t.Fatal("the forged flow reached B's internal cache")
		}
	}
	// A hears from B at least once a second (ACKs, ALIVEs); wait for it.
	nstest.WaitFor(t, "A accepts an authenticated datagram", func() bool { return nodeStats(t, na).Auth.Accepted > 0 })
	sb, sa := nodeStats(t, nb), nodeStats(t, na)
	if sb.Auth.Accepted == 0 || sb.Auth.Replayed+sb.Auth.Stale+sb.Auth.Reflected != 0 {
		t.Errorf("B's auth stats %+v", sb.Auth)
	}
	if sa.Auth.Accepted == 0 || sa.Auth.Dropped() != 0 {
		t.Errorf("A's auth stats %+v", sa.Auth)
	}
	if len(sb.RecvErrors) != 0 {
		t.Errorf("B's node saw rejected messages %v", sb.RecvErrors)
	}
}
