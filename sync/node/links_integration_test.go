//go:build linux

package node

import (
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"ctq/internal/nstest"
	"ctq/sync/wire"
)

// TestTwoLinks runs a ctq pair over two dedicated links (two veth pairs):
// flows go over the Default link, and when its interface goes down, over
// the other one, which status then shows as active.
func TestTwoLinks(t *testing.T) {
	nstest.Require(t)
	a, b := nstest.Joined(t, "ctqa", addrA, "ctqb", addrB)
	a.Run(t, "ip", "link", "add", "ctqa2", "type", "veth", "peer", "name", "ctqb2", "netns", b.Name())
	a.Run(t, "ip", "addr", "add", "198.51.100.1/24", "dev", "ctqa2")
	b.Run(t, "ip", "addr", "add", "198.51.100.2/24", "dev", "ctqb2")
	a.Run(t, "ip", "link", "set", "ctqa2", "up")
	b.Run(t, "ip", "link", "set", "ctqb2", "up")
	blocks := func(if1, l1, p1, if2, l2, p2 string) string {
		return fmt.Sprintf(`UDP Default {
		IPv4_address %s
		IPv4_Destination_Address %s
		Port 3780
		Interface %s
	}
	UDP {
		IPv4_address %s
		IPv4_Destination_Address %s
		Port 3780
		Interface %s
	}`, l1, p1, if1, l2, p2, if2)
	}
	dir := t.TempDir()
	var logMu sync.Mutex
	var logA []string
	na := startNode(t, a, dir, "a", "ctqa", addrA, addrB, blocks("ctqa", addrA, addrB, "ctqa2", "198.51.100.1", "198.51.100.2"),
		func(_ slog.Level, msg string) {
			logMu.Lock()
			defer logMu.Unlock()
			logA = append(logA, msg)
		})
	nb := startNode(t, b, dir, "b", "ctqb", addrB, addrA, blocks("ctqb", addrB, addrA, "ctqb2", "198.51.100.2", "198.51.100.1"), nil)

	addFlow := func(sport int) {
		a.Run(t, "conntrack", "-I", "-t", "600", "-p", "udp", "-s", "203.0.113.10", "-d", "203.0.113.20",
			"--sport", fmt.Sprint(sport), "--dport", "53")
	}
	active := func(n *Node) string {
		for _, ls := range nodeStats(t, n).Links {
			if ls.Active {
				return ls.Interface
			}
		}
		return ""
	}
	if got := active(na); got != "ctqa" {
		t.Fatalf("A's active link %q, want ctqa (Default)", got)
	}
	addFlow(1000)
	nstest.WaitFor(t, "the first flow in B", func() bool { return hasSport(t, nb, 1000) })

	a.Run(t, "ip", "link", "set", "ctqa", "down")
	nstest.WaitFor(t, "A on its second link", func() bool { return active(na) == "ctqa2" })
	addFlow(1001)
	nstest.WaitFor(t, "the second flow in B", func() bool { return hasSport(t, nb, 1001) })
	st := nodeStats(t, na)
	if len(st.Links) != 2 || st.Links[1].Stats.SentDatagrams == 0 {
		t.Errorf("A's links: %+v", st.Links)
	}
	nstest.WaitFor(t, "the switch in A's log", func() bool {
		logMu.Lock()
		defer logMu.Unlock()
		return slices.ContainsFunc(logA, func(l string) bool {
			return strings.HasPrefix(l, "dedicated link ctqa2 (line ") && strings.HasSuffix(l, ") is now the active one (was ctqa)")
		})
	})
}

// TestTwoLinksAuth: with an AuthKey on both links, each link checks its
// own datagrams: a forgery sent to the backup link is dropped and counted
// and does not make that link the active one.
func TestTwoLinksAuth(t *testing.T) {
	nstest.Require(t)
	a, b := nstest.Joined(t, "ctqa", addrA, "ctqb", addrB)
	a.Run(t, "ip", "link", "add", "ctqa2", "type", "veth", "peer", "name", "ctqb2", "netns", b.Name())
	a.Run(t, "ip", "addr", "add", "198.51.100.1/24", "dev", "ctqa2")
	b.Run(t, "ip", "addr", "add", "198.51.100.2/24", "dev", "ctqb2")
	a.Run(t, "ip", "link", "set", "ctqa2", "up")
	b.Run(t, "ip", "link", "set", "ctqb2", "up")
	key := strings.Repeat("3c", 32)
	blocks := func(if1, l1, p1, if2, l2, p2 string) string {
		return fmt.Sprintf(`UDP Default {
		IPv4_address %s
		IPv4_Destination_Address %s
		Port 3780
		Interface %s
		AuthKey %s
	}
	UDP {
		IPv4_address %s
		IPv4_Destination_Address %s
		Port 3780
		Interface %s
		AuthKey %s
	}`, l1, p1, if1, key, l2, p2, if2, key)
	}
	dir := t.TempDir()
	startNode(t, a, dir, "a", "ctqa", addrA, addrB, blocks("ctqa", addrA, addrB, "ctqa2", "198.51.100.1", "198.51.100.2"), nil)
	nb := startNode(t, b, dir, "b", "ctqb", addrB, addrA, blocks("ctqb", addrB, addrA, "ctqb2", "198.51.100.2", "198.51.100.1"), nil)
	a.Run(t, "conntrack", "-I", "-t", "600", "-p", "udp", "-s", "203.0.113.10", "-d", "203.0.113.20", "--sport", "1000", "--dport", "53")
	nstest.WaitFor(t, "the flow in B", func() bool { return hasSport(t, nb, 1000) })

	// A plain datagram (no trailer) to B's backup link, from A's side.
	plain := build(t, ctMsg(wire.MsgCTNew, 1, flow(7)))
	if err := a.Do(func() error {
		c, err := net.Dial("udp", "198.51.100.2:3780")
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write(plain)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	nstest.WaitFor(t, "the forgery counted", func() bool { return nodeStats(t, nb).Auth.Dropped() == 1 })
	st := nodeStats(t, nb)
	if len(st.Links) != 2 || !st.Links[0].Active {
		t.Errorf("B's links after a forgery on the backup link: %+v", st.Links)
	}
	if hasSport(t, nb, uint16(flow(7).Sport)) {
		t.Error("the forged flow is in B's external cache")
	}
}
