//go:build linux

package link

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"
	"ctq/sync/config"
)

func TestUDP(t *testing.T) {
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "add", "l1", "mtu", "1400", "type", "veth", "peer", "name", "l2")
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "l1")
	ns.Run(t, "ip", "addr", "add", "192.0.2.2/24", "dev", "l2")
	ns.Run(t, "ip", "link", "set", "l1", "up")
	ns.Run(t, "ip", "link", "set", "l2", "up")
	a1, a2 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	c1 := config.Link{Transport: config.TransportUDP, Address: a1, Destination: a2, Port: 3780,
		Interface: "l1", Checksum: true, RcvSocketBuffer: 1 << 20, SndSocketBuffer: 1 << 20}
	c2 := config.Link{Transport: config.TransportUDP, Address: a2, Destination: a1, Port: 3780}
	var l1, l2 *UDP
	if err := ns.Do(func() error {
		var err error
		if l1, err = OpenUDP(&c1); err != nil {
			return err
		}
		l2, err = OpenUDP(&c2)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l2.Close()

	if l1.MaxPayload() != 1372 || l2.MaxPayload() != 1472 {
		t.Errorf("max payload %d, %d; want 1372 (MTU 1400), 1472 (default)", l1.MaxPayload(), l2.MaxPayload())
	}
	if got := l1.LocalAddr(); got != netip.AddrPortFrom(a1, 3780) {
		t.Errorf("bound to %v", got)
	}
	sent1 := exchange(t, l1, l2, []byte("sync messages, whole"))
	sent2 := exchange(t, l2, l1, []byte("sync messages, whole"))
	want1 := Stats{SentBytes: 20 * sent1, SentDatagrams: sent1, RecvBytes: 20, RecvDatagrams: 1}
	want2 := Stats{SentBytes: 20 * sent2, SentDatagrams: sent2, RecvBytes: 20, RecvDatagrams: 1}
	if l1.Stats() != want1 || l2.Stats() != want2 {
		t.Errorf("stats %+v %+v, want %+v, %+v", l1.Stats(), l2.Stats(), want1, want2)
	}

	// Checksum off sets SO_NO_CHECK on the send socket; the buffers are
	// forced (the kernel reports twice the value asked).
	c2.Checksum = false
	c2.Port = 3781
	var l3 *UDP
	if err := ns.Do(func() (err error) { l3, err = OpenUDP(&c2); return err }); err != nil {
		t.Fatal(err)
	}
	defer l3.Close()
	for _, tc := range []struct {
		u    *UDP
		opt  int
		want int
	}{{l1, unix.SO_NO_CHECK, 0}, {l3, unix.SO_NO_CHECK, 1}, {l1, unix.SO_SNDBUF, 2 << 20}} {
		raw, err := tc.u.send.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var got int
		raw.Control(func(fd uintptr) { got, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, tc.opt) })
		if err != nil || got != tc.want {
			t.Errorf("option %d: %d, %v; want %d", tc.opt, got, err, tc.want)
		}
	}

	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l1.Recv(make([]byte, 10)); err == nil || l1.Stats().RecvErrors != 0 {
		t.Errorf("recv after close: %v, errors %d", err, l1.Stats().RecvErrors)
	}

	bad := config.Link{Transport: config.TransportTCP}
	if _, err := OpenUDP(&bad); err == nil {
		t.Error("TCP link opened as UDP")
	}
	missing := c1
	missing.Interface = "nosuch0"
	if err := ns.Do(func() error { _, err := OpenUDP(&missing); return err }); err == nil {
		t.Error("unknown interface: no error")
	}
}

// exchange sends msg from one link until the other receives it (a fresh
// veth pair may not carry traffic at once) and returns how many datagrams
// were sent.
func exchange(t *testing.T, from, to Link, msg []byte) uint64 {
	t.Helper()
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 2000)
		n, err := to.Recv(buf)
		if err != nil {
			got <- nil
			return
		}
		got <- buf[:n]
	}()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for sent := uint64(1); ; sent++ {
		if err := from.Send(msg); err != nil {
			t.Fatal(err)
		}
		select {
		case b := <-got:
			if !bytes.Equal(b, msg) {
				t.Fatalf("received %q, want %q", b, msg)
			}
			return sent
		case <-tick.C:
		case <-deadline:
			t.Fatal("nothing received")
		}
	}
}

// nobody is the uid and gid the unprivileged binds run as.
const nobody = 65534

// tryBind makes a UDP socket of addr's family with SO_REUSEADDR and
// SO_REUSEPORT (whatever lets a socket share a port) and binds it to addr
// and port; it returns the bind's error. With uid != 0 the calling thread
// first drops to that uid and gid (setresuid on this thread only: the
// caller's thread must never run Go code again, as in nstest's Do).
func tryBind(addr netip.Addr, port int, uid int) error {
	if uid != 0 {
		// Raw syscalls: the libc-style wrappers would change every
		// thread of the test process.
		if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, 0, 0, 0); e != 0 {
			return e
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
			return e
		}
		if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(uid), uintptr(uid), uintptr(uid)); e != 0 {
			return e
		}
		if got, _, _ := unix.RawSyscall(unix.SYS_GETEUID, 0, 0, 0); int(got) != uid {
			return fmt.Errorf("still uid %d", got)
		}
	}
	family := unix.AF_INET6
	var sa unix.Sockaddr = &unix.SockaddrInet6{Port: port, Addr: addr.As16()}
	if addr.Is4() {
		family = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: port, Addr: addr.As4()}
	}
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	for _, opt := range []int{unix.SO_REUSEADDR, unix.SO_REUSEPORT} {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, opt, 1); err != nil {
			return err
		}
	}
	return unix.Bind(fd, sa)
}

// TestUDPPortNotShared: once a unicast link is open, no other socket of
// its namespace can bind its port, neither the same address nor the
// wildcard, with SO_REUSEADDR and SO_REUSEPORT, as root or as nobody: the
// peer's datagrams reach the node's socket only.
func TestUDPPortNotShared(t *testing.T) {
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "add", "s1", "type", "veth", "peer", "name", "s2")
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "s1")
	ns.Run(t, "ip", "addr", "add", "2001:db8::1/64", "dev", "s1", "nodad")
	ns.Run(t, "ip", "link", "set", "s1", "up")
	for _, tc := range []struct {
		local, peer string
		wildcard    netip.Addr
	}{
		{"192.0.2.1", "192.0.2.2", netip.IPv4Unspecified()},
		{"2001:db8::1", "2001:db8::2", netip.IPv6Unspecified()},
	} {
		local := netip.MustParseAddr(tc.local)
		c := config.Link{Transport: config.TransportUDP, Address: local, Destination: netip.MustParseAddr(tc.peer),
			Port: 3780, Checksum: true}
		var u *UDP
		if err := ns.Do(func() (err error) { u, err = OpenUDP(&c); return err }); err != nil {
			t.Fatal(err)
		}
		for _, addr := range []netip.Addr{local, tc.wildcard} {
			for _, uid := range []int{0, nobody} {
				err := ns.Do(func() error { return tryBind(addr, c.Port, uid) })
				if !errors.Is(err, unix.EADDRINUSE) {
					t.Errorf("bind %s port %d as uid %d beside the link: %v, want EADDRINUSE", addr, c.Port, uid, err)
				}
			}
		}
		u.Close()
	}
}

// TestUDPRecvDropped: datagrams the kernel drops at a link's receive
// socket (its buffer full while nobody reads) show in Stats.RecvDropped,
// also through a Set.
func TestUDPRecvDropped(t *testing.T) {
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "add", "d1", "type", "veth", "peer", "name", "d2")
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "d1")
	ns.Run(t, "ip", "addr", "add", "198.51.100.1/24", "dev", "d1")
	ns.Run(t, "ip", "link", "set", "d1", "up")
	c := config.Link{Transport: config.TransportUDP, Address: netip.MustParseAddr("192.0.2.1"),
		Destination: netip.MustParseAddr("192.0.2.2"), Port: 3780, Checksum: true, RcvSocketBuffer: 4096}
	c2 := c
	c2.Address = netip.MustParseAddr("198.51.100.1")
	var l Link
	if err := ns.Do(func() (err error) {
		l, err = OpenSet([]config.Link{c, c2}, 0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	// The Set reads its links at once: flood a bare UDP link instead,
	// opened beside it on another port.
	c.Port = 3781
	var u *UDP
	if err := ns.Do(func() (err error) { u, err = OpenUDP(&c); return err }); err != nil {
		t.Fatal(err)
	}
	defer u.Close()
	const sent = 2000
	flood := func(port int) error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		dst := &unix.SockaddrInet4{Port: port, Addr: [4]byte{192, 0, 2, 1}}
		payload := make([]byte, 1000)
		for range sent {
			if err := unix.Sendto(fd, payload, 0, dst); err != nil {
				return err
			}
		}
		return nil
	}
	if err := ns.Do(func() error { return flood(3781) }); err != nil {
		t.Fatal(err)
	}
	st := u.Stats()
	if st.RecvDropped == 0 || st.RecvDropped >= sent {
		t.Fatalf("%d of %d datagrams dropped by the kernel, want some but not all", st.RecvDropped, sent)
	}
	// What was queued is read; the count stays.
	buf := make([]byte, 2000)
	for range sent - st.RecvDropped {
		if _, err := u.Recv(buf); err != nil {
			t.Fatal(err)
		}
	}
	if got := u.Stats(); got.RecvDropped != st.RecvDropped || got.RecvDatagrams != sent-st.RecvDropped {
		t.Fatalf("after reading: %+v, want %d dropped and the rest received", got, st.RecvDropped)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if got := u.Stats().RecvDropped; got != st.RecvDropped {
		t.Errorf("closed link: %d dropped, want the last count %d", got, st.RecvDropped)
	}

	// A Set sums its links' drops; each link shows its own. The Set's
	// readers hand one datagram on and wait for Recv: the rest queues in
	// the socket.
	if err := ns.Do(func() error { return flood(3780) }); err != nil {
		t.Fatal(err)
	}
	set := l.(*Set)
	if got := set.Stats().RecvDropped; got == 0 {
		t.Errorf("Set: nothing dropped of %d datagrams", sent)
	}
	if links := set.Links(); links[0].Stats.RecvDropped == 0 || links[1].Stats.RecvDropped != 0 {
		t.Errorf("Set's links: %+v", links)
	}
}
