//go:build linux

package link

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"
	"ctq/sync/config"
)

// TestSetNetns runs a two-link Set between two namespaces joined by two
// veth pairs, sa1-sb1 (192.0.2.0/24, 2001:db8:1::/64) and sa2-sb2
// (198.51.100.0/24, 2001:db8:2::/64, the Default link), over UDP and over
// IPv6 multicast. Traffic takes the Default link; when sa2 goes down both
// sides move to the other link (A by admin down, B by carrier loss) and
// nothing sent after is lost; a datagram of valid messages that arrives on
// the backup link makes it active again.
func TestSetNetns(t *testing.T) {
	nstest.Require(t)
	udp := func(local, remote, ifname string) config.Link {
		return config.Link{Transport: config.TransportUDP, Address: netip.MustParseAddr(local),
			Destination: netip.MustParseAddr(remote), Port: 3780, Interface: ifname, Checksum: true}
	}
	mcast := func(_, _, ifname string) config.Link {
		return config.Link{Transport: config.TransportMulticast, Address: group6, Port: 3780,
			Interface: ifname, Checksum: true}
	}
	for _, tc := range []struct {
		name string
		conf func(local, remote, ifname string) config.Link
		// backup is where a plain socket of B sends to reach A's link 1,
		// zone is its interface in B ("" for none).
		backup, zone string
	}{
		{"UDP", udp, "198.51.100.1:3780", ""},
		{"Multicast6", mcast, "[ff12::db8:3780]:3780", "sb2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := nstest.Joined(t, "sa1", "192.0.2.1", "sb1", "192.0.2.2")
			a.Run(t, "ip", "link", "add", "sa2", "type", "veth", "peer", "name", "sb2", "netns", b.Name())
			a.Run(t, "ip", "addr", "add", "198.51.100.1/24", "dev", "sa2")
			b.Run(t, "ip", "addr", "add", "198.51.100.2/24", "dev", "sb2")
			// IPv6 addresses usable at once (nodad) that stay when sa2
			// goes down (keep_addr_on_down, a sysctl of A's namespace):
			// multicast is sent from one.
			a.Run(t, "sysctl", "-q", "-w", "net.ipv6.conf.sa2.keep_addr_on_down=1")
			for _, c := range []struct {
				ns         *nstest.NS
				addr, name string
			}{{a, "2001:db8:1::1/64", "sa1"}, {b, "2001:db8:1::2/64", "sb1"}, {a, "2001:db8:2::1/64", "sa2"}, {b, "2001:db8:2::2/64", "sb2"}} {
				c.ns.Run(t, "ip", "addr", "add", c.addr, "dev", c.name, "nodad")
			}
			a.Run(t, "ip", "link", "set", "sa2", "up")
			b.Run(t, "ip", "link", "set", "sb2", "up")
			// A Set does not start on a link without carrier.
			nstest.WaitFor(t, "the second veth pair up", func() bool {
				return strings.Contains(a.Run(t, "ip", "-o", "link", "show", "sa2"), "state UP") &&
					strings.Contains(b.Run(t, "ip", "-o", "link", "show", "sb2"), "state UP")
			})
			ca := []config.Link{tc.conf("192.0.2.1", "192.0.2.2", "sa1"), tc.conf("198.51.100.1", "198.51.100.2", "sa2")}
			cb := []config.Link{tc.conf("192.0.2.2", "192.0.2.1", "sb1"), tc.conf("198.51.100.2", "198.51.100.1", "sb2")}
			ca[1].Default, cb[1].Default = true, true
			setFailover(t, a, b, ca, cb, tc.backup, tc.zone)
		})
	}
}

// setFailover opens Sets of links ca in a and cb in b and runs the
// failover steps of TestSetNetns.
func setFailover(t *testing.T, a, b *nstest.NS, ca, cb []config.Link, backup, zone string) {
	var la, lb Link
	if err := a.Do(func() (err error) { la, err = OpenSet(ca, 0); return err }); err != nil {
		t.Fatal(err)
	}
	defer la.Close()
	if err := b.Do(func() (err error) { lb, err = OpenSet(cb, 0); return err }); err != nil {
		t.Fatal(err)
	}
	defer lb.Close()
	sa, sb := la.(*Set), lb.(*Set)
	nstest.WaitFor(t, "both links up on both sides", func() bool {
		for _, s := range []*Set{sa, sb} {
			for _, l := range s.Links() {
				if !l.Up {
					return false
				}
			}
		}
		return true
	})
	if activeOf(sa) != 1 || activeOf(sb) != 1 {
		t.Fatalf("active links %d, %d; want the Default, 1", activeOf(sa), activeOf(sb))
	}

	exchange(t, sa, sb, []byte("on the Default link"))
	if st := sa.Links(); st[0].Stats.SentDatagrams != 0 || st[1].Stats.SentDatagrams == 0 {
		t.Errorf("A sent on the backup link: %+v", st)
	}

	// sa2 goes down: A moves (admin down), B moves (no carrier on sb2).
	a.Run(t, "ip", "link", "set", "dev", "sa2", "down")
	nstest.WaitFor(t, "both sides on link 0", func() bool { return activeOf(sa) == 0 && activeOf(sb) == 0 })
	if st := sb.Links(); st[1].Up || !st[0].Up {
		t.Errorf("B's links after sa2 went down: %+v", st)
	}
	const n = 50
	got := make(chan string, n)
	go func() {
		buf := make([]byte, 100)
		for sent := 0; sent < n; {
			k, err := sb.Recv(buf)
			if err != nil {
				close(got)
				return
			}
			// Skip a second copy of what exchange sent.
			if m := string(buf[:k]); strings.HasPrefix(m, "after ") {
				got <- m
				sent++
			}
		}
	}()
	for i := range n {
		if err := sa.Send(fmt.Appendf(nil, "after %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range n {
		select {
		case m, ok := <-got:
			if want := fmt.Sprintf("after %d", i); !ok || m != want {
				t.Fatalf("received %q, want %q", m, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("datagram %d of %d not received", i, n)
		}
	}
	if st := sa.Links(); st[0].Stats.SentDatagrams != n {
		t.Errorf("A's link 0 sent %d, want %d", st[0].Stats.SentDatagrams, n)
	}

	// sa2 comes back up: both stay on link 0 until a datagram of valid
	// messages arrives on link 1, here from a plain socket of B's
	// namespace to A's link 1.
	a.Run(t, "ip", "link", "set", "dev", "sa2", "up")
	nstest.WaitFor(t, "link 1 up on both sides", func() bool { return sa.Links()[1].Up && sb.Links()[1].Up })
	if activeOf(sa) != 0 || activeOf(sb) != 0 {
		t.Errorf("active links %d, %d after link 1 came back; want 0", activeOf(sa), activeOf(sb))
	}
	var raw *net.UDPConn
	if err := b.Do(func() error {
		dst := netip.MustParseAddrPort(backup)
		if zone != "" {
			ifi, err := net.InterfaceByName(zone)
			if err != nil {
				return err
			}
			dst = netip.AddrPortFrom(dst.Addr().WithZone(fmt.Sprint(ifi.Index)), dst.Port())
		}
		var err error
		if raw, err = net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(dst)); err != nil || zone == "" {
			return err
		}
		// Not to B's own link 1.
		c, err := raw.SyscallConn()
		if err != nil {
			return err
		}
		return setOpts(c, func(fd int) error {
			return unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, 0)
		})
	}); err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	exchange(t, rawLink{raw}, sa, alive(t, 1))
	if activeOf(sa) != 1 {
		t.Fatalf("A: link %d active after a datagram on link 1", activeOf(sa))
	}
	// A now sends on link 1, which makes it B's active link too.
	exchange(t, sa, sb, alive(t, 2))
	if activeOf(sb) != 1 {
		t.Errorf("B: link %d active after a datagram on link 1", activeOf(sb))
	}
}

// rawLink is a connected UDP socket as a Link, for exchange.
type rawLink struct{ c *net.UDPConn }

func (r rawLink) Send(b []byte) error          { _, err := r.c.Write(b); return err }
func (r rawLink) Recv(buf []byte) (int, error) { return r.c.Read(buf) }
func (r rawLink) MaxPayload() int              { return 1472 }
func (r rawLink) Stats() Stats                 { return Stats{} }
func (r rawLink) Close() error                 { return r.c.Close() }

// TestOpenSetLinks opens sets of links that name no interface: one link is
// the link itself; of several without Default the first is active, and
// their names are their addresses.
func TestOpenSetLinks(t *testing.T) {
	ns := nstest.New(t)
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/32", "dev", "lo")
	u := func(port int) config.Link {
		return config.Link{Transport: config.TransportUDP, Address: netip.MustParseAddr("192.0.2.1"),
			Destination: netip.MustParseAddr("192.0.2.1"), Port: port, Checksum: true}
	}
	var set Link
	err := ns.Do(func() error {
		one, err := OpenSet([]config.Link{u(3780)}, 0)
		if err != nil {
			return err
		}
		if _, ok := one.(*UDP); !ok {
			t.Errorf("one link opened as %T", one)
		}
		one.Close()

		bad := u(3782)
		bad.Address = netip.MustParseAddr("198.51.100.1")
		if l, err := OpenSet([]config.Link{u(3780), bad}, 0); err == nil || !strings.Contains(err.Error(), "198.51.100.1:3782") {
			t.Errorf("a link that cannot open: %v", err)
			if l != nil {
				l.Close()
			}
		}

		var err2 error
		set, err2 = OpenSet([]config.Link{u(3780), u(3781)}, 0)
		return err2
	})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	s := set.(*Set)
	if s.watch != nil {
		t.Error("interfaces watched though no link names one")
	}
	st := s.Links()
	if !st[0].Active || st[1].Active || st[0].Name != "192.0.2.1:3780" || st[1].Name != "192.0.2.1:3781" ||
		!st[0].Up || !st[1].Up || st[0].Transport != config.TransportUDP {
		t.Errorf("links %+v", st)
	}
	// Link 0 sends to its own address and port, and receives.
	exchange(t, s, s, []byte("to myself"))
	if st := s.Links(); st[0].Stats.RecvDatagrams == 0 || st[1].Stats.RecvDatagrams != 0 {
		t.Errorf("links %+v", st)
	}
}

// TestSetJunkOnBackup: one junk byte sent to the backup link's port does
// not make it the active link (nor, as A would then send there, B's); a
// valid message there does.
func TestSetJunkOnBackup(t *testing.T) {
	a, b, ca, cb := authPair(t)
	for i := range ca {
		ca[i].AuthKey, cb[i].AuthKey, ca[i].AuthKeyLine, cb[i].AuthKeyLine = nil, nil, 0, 0
	}
	la, lb := openIn(t, a, ca), openIn(t, b, cb)
	defer la.Close()
	defer lb.Close()
	sa := la.(*Set)
	inA, inB := receiver(la), receiver(lb)
	sendUntil(t, la, inB, alive(t, 1))
	sendRaw(t, b, "198.51.100.1:3780", []byte{0})
	nstest.WaitFor(t, "the junk byte read", func() bool { return sa.Links()[1].Stats.RecvDatagrams == 1 })
	if got := <-inA; !bytes.Equal(got, []byte{0}) {
		t.Fatalf("A received %q", got)
	}
	if activeOf(sa) != 0 {
		t.Fatalf("A: link %d active after a junk byte on link 1", activeOf(sa))
	}
	sendRaw(t, b, "198.51.100.1:3780", alive(t, 2))
	nstest.WaitFor(t, "A on link 1 after a valid message there", func() bool { return activeOf(sa) == 1 })
}
