//go:build linux

package link

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"
	"ctq/sync/config"
)

// group6 is the IPv6 group of the tests: ff12::/16 is link-local scope
// with the transient flag set (not a permanently assigned group), and the
// group ID 0xdb8:3780 takes the documentation prefix's digits and the
// conntrackd port, so it is nobody's.
var group6 = netip.MustParseAddr("ff12::db8:3780")

// joined6 is nstest.Joined with IPv6 addresses added (nodad: usable at
// once): a6 on ifA in a, b6 on ifB in b, each with its prefix.
func joined6(t *testing.T, ifA, a6, ifB, b6 string) (a, b *nstest.NS) {
	t.Helper()
	a, b = nstest.Joined(t, ifA, "192.0.2.1", ifB, "192.0.2.2")
	a.Run(t, "ip", "addr", "add", a6, "dev", ifA, "nodad")
	b.Run(t, "ip", "addr", "add", b6, "dev", ifB, "nodad")
	return a, b
}

// sockInt reads an integer socket option of a link's send socket.
func sockInt(t *testing.T, u *UDP, level, opt int) int {
	t.Helper()
	var v int
	var err error
	if cerr := u.sendRaw.Control(func(fd uintptr) { v, err = unix.GetsockoptInt(int(fd), level, opt) }); cerr != nil {
		t.Fatal(cerr)
	}
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMulticast6(t *testing.T) {
	nstest.Require(t)
	a, b := joined6(t, "m6a", "2001:db8::1/64", "m6b", "2001:db8::2/64")
	c1 := config.Link{Transport: config.TransportMulticast, Address: group6, Port: 3780,
		Interface: "m6a", Checksum: true}
	c2 := c1
	c2.Interface = "m6b"
	var l1, l2 *UDP
	if err := a.Do(func() (err error) { l1, err = OpenMulticast(&c1); return err }); err != nil {
		t.Fatal(err)
	}
	defer l1.Close()
	if err := b.Do(func() (err error) { l2, err = OpenMulticast(&c2); return err }); err != nil {
		t.Fatal(err)
	}
	defer l2.Close()

	if got := l1.LocalAddr(); got.Addr().WithZone("") != group6 || got.Port() != 3780 {
		t.Errorf("bound to %v, want the group", got)
	}
	var ifindex int
	if err := a.Do(func() error {
		i, _, err := iface("m6a")
		ifindex = i
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		opt, want int
	}{
		{"IPV6_MULTICAST_LOOP", unix.IPV6_MULTICAST_LOOP, 0},
		{"IPV6_MULTICAST_HOPS", unix.IPV6_MULTICAST_HOPS, 1},
		{"IPV6_MULTICAST_IF", unix.IPV6_MULTICAST_IF, ifindex},
	} {
		if got := sockInt(t, l1, unix.IPPROTO_IPV6, tc.opt); got != tc.want {
			t.Errorf("%s %d, want %d", tc.name, got, tc.want)
		}
	}
	if l1.MaxPayload() != 1500-48 {
		t.Errorf("max payload %d, want 1452 (MTU 1500 less IPv6 and UDP headers)", l1.MaxPayload())
	}
	exchange(t, l1, l2, []byte("to the IPv6 group"))
	exchange(t, l2, l1, []byte("and back"))

	// A group of wider scope needs no Interface: the kernel picks the
	// interface by its multicast route (ff00::/8 on m6a, the only one).
	c3 := c1
	c3.Address, c3.Interface, c3.Port = netip.MustParseAddr("ff15::db8:3780"), "", 3781
	if err := a.Do(func() error {
		l, err := OpenMulticast(&c3)
		if err != nil {
			return err
		}
		defer l.Close()
		if l.MaxPayload() != defaultMTU-48 {
			t.Errorf("max payload %d without an interface, want %d", l.MaxPayload(), defaultMTU-48)
		}
		return nil
	}); err != nil {
		t.Error(err)
	}
}

// TestUDP6 runs UDP unicast over global and link-local IPv6 addresses; a
// link-local address takes Interface as its scope.
func TestUDP6(t *testing.T) {
	nstest.Require(t)
	a, b := joined6(t, "u6a", "2001:db8::1/64", "u6b", "2001:db8::2/64")
	a.Run(t, "ip", "addr", "add", "fe80::db8:1/64", "dev", "u6a", "nodad")
	b.Run(t, "ip", "addr", "add", "fe80::db8:2/64", "dev", "u6b", "nodad")
	for _, tc := range []struct {
		name, a, b string
		port       int
	}{
		{"global", "2001:db8::1", "2001:db8::2", 3780},
		{"link-local", "fe80::db8:1", "fe80::db8:2", 3781},
	} {
		t.Run(tc.name, func(t *testing.T) {
			aa, ba := netip.MustParseAddr(tc.a), netip.MustParseAddr(tc.b)
			c1 := config.Link{Transport: config.TransportUDP, Address: aa, Destination: ba, Port: tc.port,
				Interface: "u6a", Checksum: true}
			c2 := config.Link{Transport: config.TransportUDP, Address: ba, Destination: aa, Port: tc.port,
				Interface: "u6b", Checksum: true}
			var l1, l2 *UDP
			if err := a.Do(func() (err error) { l1, err = OpenUDP(&c1); return err }); err != nil {
				t.Fatal(err)
			}
			defer l1.Close()
			if err := b.Do(func() (err error) { l2, err = OpenUDP(&c2); return err }); err != nil {
				t.Fatal(err)
			}
			defer l2.Close()
			if got := l1.LocalAddr(); got.Addr().WithZone("") != aa || got.Port() != uint16(tc.port) {
				t.Errorf("bound to %v", got)
			}
			if l1.MaxPayload() != 1452 {
				t.Errorf("max payload %d, want 1452", l1.MaxPayload())
			}
			exchange(t, l1, l2, []byte("over IPv6"))
			exchange(t, l2, l1, []byte("over IPv6, back"))
		})
	}
	// Without Interface, a link-local address has no scope: refused.
	c := config.Link{Transport: config.TransportUDP, Address: netip.MustParseAddr("fe80::db8:1"),
		Destination: netip.MustParseAddr("fe80::db8:2"), Port: 3782}
	if err := a.Do(func() error {
		l, err := OpenUDP(&c)
		if err == nil {
			l.Close()
		}
		return err
	}); err == nil {
		t.Error("link-local address without Interface: no error")
	}
}

// TestTCP6 runs a TCP link over link-local IPv6 addresses, scoped by
// Interface.
func TestTCP6(t *testing.T) {
	nstest.Require(t)
	a, b := joined6(t, "t6a", "fe80::db8:1/64", "t6b", "fe80::db8:2/64")
	aa, ba := netip.MustParseAddr("fe80::db8:1"), netip.MustParseAddr("fe80::db8:2")
	c1 := config.Link{Transport: config.TransportTCP, Address: aa, Destination: ba, Port: 3780, Interface: "t6a"}
	c2 := config.Link{Transport: config.TransportTCP, Address: ba, Destination: aa, Port: 3780, Interface: "t6b"}
	var l1, l2 *TCP
	if err := a.Do(func() (err error) {
		l1, err = openTCP(&c1, 16, 50*time.Millisecond, 200*time.Millisecond)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l1.Close()
	if err := b.Do(func() (err error) {
		l2, err = openTCP(&c2, 16, 50*time.Millisecond, 200*time.Millisecond)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if l1.MaxPayload() != 1500-60 {
		t.Errorf("max payload %d, want 1440 (MTU 1500 less IPv6 and TCP headers)", l1.MaxPayload())
	}
	// What is sent before the connection is up waits in the error queue.
	one, two := stream(t, 6, 1), stream(t, 4, 100)
	l1.Send(one)
	l2.Send(two)
	if got := recvStream(t, l2, len(one)); !bytes.Equal(got, one) {
		t.Errorf("received %x, want %x", got, one)
	}
	if got := recvStream(t, l1, len(two)); !bytes.Equal(got, two) {
		t.Errorf("received %x, want %x", got, two)
	}
}
