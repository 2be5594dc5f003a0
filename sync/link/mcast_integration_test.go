//go:build linux

package link

import (
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"
	"ctq/sync/config"
)

func TestMulticast(t *testing.T) {
	// Two namespaces: a multicast datagram looping into its own namespace
	// would carry a local source address and be dropped as martian.
	ns1, ns2 := nstest.Joined(t, "m1", "192.0.2.1", "m2", "192.0.2.2")
	group := netip.MustParseAddr("225.0.0.50")
	c1 := config.Link{Transport: config.TransportMulticast, Address: group, Port: 3780,
		InterfaceAddr: netip.MustParseAddr("192.0.2.1"), Interface: "m1", Checksum: true}
	c2 := c1
	c2.InterfaceAddr, c2.Interface = netip.MustParseAddr("192.0.2.2"), "m2"
	var l1, l2 Link
	if err := ns1.Do(func() (err error) { l1, err = Open(&c1, config.DefaultErrorQueueLength); return err }); err != nil {
		t.Fatal(err)
	}
	if err := ns2.Do(func() (err error) { l2, err = Open(&c2, config.DefaultErrorQueueLength); return err }); err != nil {
		t.Fatal(err)
	}
	defer l1.Close()
	defer l2.Close()
	u1 := l1.(*UDP)
	if got := u1.LocalAddr(); got != netip.AddrPortFrom(group, 3780) {
		t.Errorf("bound to %v, want the group", got)
	}
	raw, err := u1.send.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var loop int
	raw.Control(func(fd uintptr) { loop, err = unix.GetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP) })
	if err != nil || loop != 0 {
		t.Errorf("IP_MULTICAST_LOOP %d, %v", loop, err)
	}
	exchange(t, l1, l2, []byte("to the group"))

	for _, tc := range []struct {
		l    config.Link
		want string
	}{
		{config.Link{Transport: config.TransportTCP}, "open TCP link: link of line 0 needs a local and a destination address"},
		{config.Link{Transport: config.TransportMulticast, Address: netip.MustParseAddr("ff02::1")}, "the group ff02::1 needs an Interface"},
		{config.Link{Transport: config.TransportMulticast, Address: netip.MustParseAddr("2001:db8::1")}, "2001:db8::1 is not a multicast group"},
		{config.Link{Transport: config.TransportMulticast, Address: netip.MustParseAddr("ff05::db8"), Interface: "nosuch0"}, "interface nosuch0"},
		{config.Link{Transport: config.TransportUDP}, "open multicast link: link of line 0 is UDP"},
	} {
		var err error
		if tc.l.Transport == config.TransportUDP {
			_, err = OpenMulticast(&tc.l)
		} else {
			_, err = Open(&tc.l, config.DefaultErrorQueueLength)
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.l.Transport, err, tc.want)
		}
	}
}
