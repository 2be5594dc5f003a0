//go:build linux

package link

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"ctq/sync/config"
)

const (
	// udpOverhead is what conntrackd takes off the MTU for its buffer
	// (IPv4 20 + UDP 8).
	udpOverhead = 28
	// udp6Overhead is the same over IPv6 (IPv6 40 + UDP 8). conntrackd
	// takes the IPv4 overhead off over IPv6 too, so that its fullest
	// datagrams are fragmented; ctq keeps them within the MTU.
	udp6Overhead = 48
	// defaultMTU is used when the link names no interface.
	defaultMTU = 1500
)

// UDP is a UDP link, unicast or multicast.
//
// Unicast (OpenUDP): a receive socket bound to the local address and port
// (any source accepted, as conntrackd does; without conntrackd's
// SO_REUSEADDR, so that no other socket, of any user, can bind the same
// port on that address or the wildcard and take the peer's datagrams)
// and an unbound
// send socket (ephemeral source port) that sends to the destination
// address and the same port. A link-local IPv6 address takes the
// interface named by Interface as its scope, on both sockets, as
// conntrackd does.
//
// Multicast (OpenMulticast): a receive socket bound to the group and port
// that joins the group on the link's interface (IPv4: the one holding
// IPv4_interface; IPv6: Interface), and a send socket that sends to the
// group out of that interface, without loopback, with a TTL or hop limit
// of 1. conntrackd 1.4.7 binds its IPv4 receive socket to 0.0.0.0, which
// also takes unicast to any local address (fixed in 1.4.9, netfilter
// bugzilla 1819); this binds to the group, as 1.4.9 does. The receive
// socket keeps conntrackd's SO_REUSEADDR, so that several listeners of a
// namespace (another node, a conntrackd, a capture) can join the group on
// the same port. The risk: any local user can bind the group and port too
// (SO_REUSEADDR) and read the group's datagrams, as any host of the
// segment can; what it sends is taken only with an AuthKey. A multicast
// link is for a segment of trusted hosts.
type UDP struct {
	recv, send *net.UDPConn
	// recvRaw is recv's descriptor, for its drop count.
	recvRaw syscall.RawConn
	// sendRaw is send's descriptor and sa the destination as a socket
	// address: Send calls sendto itself so that an IPv6 scope is an
	// interface index of the link's namespace, not a name the net
	// package would look up in whatever namespace the sending thread is.
	sendRaw    syscall.RawConn
	sa         unix.Sockaddr
	dst        netip.AddrPort
	maxPayload int

	sentBytes, sentDatagrams, sendErrors atomic.Uint64
	recvBytes, recvDatagrams, recvErrors atomic.Uint64

	// dropsMu guards drops, the receive socket's drop count as last read,
	// and dropsRaw, the kernel's 32-bit counter it was read from.
	dropsMu  sync.Mutex
	drops    uint64
	dropsRaw uint32
}

// OpenUDP opens a UDP link in the calling thread's network namespace.
func OpenUDP(l *config.Link) (*UDP, error) {
	if l.Transport != config.TransportUDP {
		return nil, fmt.Errorf("open UDP link: link of line %d is %s", l.Line, l.Transport)
	}
	network, overhead := "udp4", udpOverhead
	if l.Address.Is6() {
		network, overhead = "udp6", udp6Overhead
	}
	ifindex, mtu, err := iface(l.Interface)
	if err != nil {
		return nil, fmt.Errorf("open UDP link: %w", err)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return setOpts(c, func(fd int) error {
			// No SO_REUSEADDR (conntrackd sets it): for UDP it lets any
			// other socket with it, of any user, bind the same address
			// and port (or the wildcard) and take the peer's datagrams.
			if l.RcvSocketBuffer > 0 {
				if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, l.RcvSocketBuffer); err != nil {
					return fmt.Errorf("SO_RCVBUFFORCE: %w", err)
				}
			}
			return nil
		})
	}}
	local := netip.AddrPortFrom(scoped(l.Address, ifindex), uint16(l.Port))
	rc, err := lc.ListenPacket(context.Background(), network, local.String())
	if err != nil {
		return nil, fmt.Errorf("open UDP link: listen %s: %w", local, err)
	}
	u, err := newUDP(rc.(*net.UDPConn), network, l, netip.AddrPortFrom(l.Destination, uint16(l.Port)),
		ifindex, mtu-overhead, func(int) error { return nil })
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("open UDP link: %w", err)
	}
	return u, nil
}

// newUDP opens the send socket of a link (sendOpts, then more) and returns
// the link of it and the receive socket rc. dst is sent to with ifindex as
// its scope when it needs one.
func newUDP(rc *net.UDPConn, network string, l *config.Link, dst netip.AddrPort, ifindex, maxPayload int,
	more func(fd int) error) (*UDP, error) {
	rraw, err := rc.SyscallConn()
	if err != nil {
		return nil, fmt.Errorf("receive socket: %w", err)
	}
	sc, err := net.ListenUDP(network, nil)
	if err != nil {
		return nil, fmt.Errorf("send socket: %w", err)
	}
	raw, err := sc.SyscallConn()
	if err == nil {
		err = setOpts(raw, func(fd int) error {
			if err := sendOpts(fd, l); err != nil {
				return err
			}
			return more(fd)
		})
	}
	if err != nil {
		sc.Close()
		return nil, fmt.Errorf("send socket: %w", err)
	}
	return &UDP{
		recv:       rc,
		recvRaw:    rraw,
		send:       sc,
		sendRaw:    raw,
		sa:         sockaddr(dst, ifindex),
		dst:        dst,
		maxPayload: maxPayload,
	}, nil
}

// iface is the index and MTU of the named interface; 0 and defaultMTU
// when name is empty.
func iface(name string) (index, mtu int, err error) {
	if name == "" {
		return 0, defaultMTU, nil
	}
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, 0, fmt.Errorf("interface %s: %w", name, err)
	}
	return ifi.Index, ifi.MTU, nil
}

// needsScope reports whether a is an address that only means something
// with an interface: IPv6 link-local unicast and interface- or link-local
// multicast (ff01::/16, ff02::/16, ff12::/16 ...); the kernel refuses to
// bind them or send to them without one.
func needsScope(a netip.Addr) bool {
	return a.Is6() && (a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() || a.IsInterfaceLocalMulticast())
}

// scoped gives a the interface of index ifindex as zone when it needs
// one, as conntrackd sets the scope of its IPv6 addresses to the index of
// Interface. The zone is the index in decimal, which the net package
// takes as is, never a name it would look up in the namespace of some
// other thread.
func scoped(a netip.Addr, ifindex int) netip.Addr {
	if ifindex != 0 && needsScope(a) {
		return a.WithZone(strconv.Itoa(ifindex))
	}
	return a
}

// sockaddr is ap as a socket address, with ifindex as scope when the
// address needs one.
func sockaddr(ap netip.AddrPort, ifindex int) unix.Sockaddr {
	if ap.Addr().Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}
	}
	sa := &unix.SockaddrInet6{Port: int(ap.Port()), Addr: ap.Addr().As16()}
	if needsScope(ap.Addr()) {
		sa.ZoneId = uint32(ifindex)
	}
	return sa
}

// sendOpts sets the options of a send socket: SO_NO_CHECK for "Checksum
// off" (no UDP checksum), SO_SNDBUFFORCE for SndSocketBuffer.
func sendOpts(fd int, l *config.Link) error {
	if !l.Checksum {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NO_CHECK, 1); err != nil {
			return fmt.Errorf("SO_NO_CHECK: %w", err)
		}
	}
	if l.SndSocketBuffer > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, l.SndSocketBuffer); err != nil {
			return fmt.Errorf("SO_SNDBUFFORCE: %w", err)
		}
	}
	return nil
}

// setOpts runs fn on a socket's descriptor.
func setOpts(c syscall.RawConn, fn func(fd int) error) error {
	var ferr error
	if err := c.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// Send sends one datagram to the destination.
func (u *UDP) Send(b []byte) error {
	var serr error
	err := u.sendRaw.Write(func(fd uintptr) bool {
		serr = unix.Sendto(int(fd), b, 0, u.sa)
		return serr != unix.EAGAIN
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		u.sendErrors.Add(1)
		return fmt.Errorf("send to %s: %w", u.dst, err)
	}
	u.sentBytes.Add(uint64(len(b)))
	u.sentDatagrams.Add(1)
	return nil
}

// Recv reads one datagram.
func (u *UDP) Recv(buf []byte) (int, error) {
	// Read, not ReadFrom: the source is not needed, and the net package
	// would look the scope of a link-local source up by name.
	n, err := u.recv.Read(buf)
	if err != nil {
		if !isClosed(err) {
			u.recvErrors.Add(1)
		}
		return 0, fmt.Errorf("receive: %w", err)
	}
	u.recvBytes.Add(uint64(n))
	u.recvDatagrams.Add(1)
	return n, nil
}

// isClosed reports whether err is the error of a closed socket.
func isClosed(err error) bool {
	return errors.Is(err, net.ErrClosed)
}

// MaxPayload is the interface MTU less 28 (IPv4) or 48 (IPv6).
func (u *UDP) MaxPayload() int {
	return u.maxPayload
}

// LocalAddr is the address the receive socket is bound to.
func (u *UDP) LocalAddr() netip.AddrPort {
	return u.recv.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Stats returns the traffic counters; RecvDropped is the kernel's count
// for the receive socket, read now (the last count read once the link is
// closed).
func (u *UDP) Stats() Stats {
	return Stats{
		SentBytes: u.sentBytes.Load(), SentDatagrams: u.sentDatagrams.Load(), SendErrors: u.sendErrors.Load(),
		RecvBytes: u.recvBytes.Load(), RecvDatagrams: u.recvDatagrams.Load(), RecvErrors: u.recvErrors.Load(),
		RecvDropped: u.recvDropped(),
	}
}

// recvDropped reads the drop count of the receive socket (SO_MEMINFO's
// SK_MEMINFO_DROPS, the kernel's sk_drops, which /proc/net/udp shows) and
// widens the kernel's 32 bits by counting its wraps between reads.
func (u *UDP) recvDropped() uint64 {
	u.dropsMu.Lock()
	defer u.dropsMu.Unlock()
	var mem [unix.SK_MEMINFO_VARS]uint32
	ok := false
	// A closed socket keeps the last count.
	_ = u.recvRaw.Control(func(fd uintptr) {
		n := uint32(unsafe.Sizeof(mem))
		_, _, e := unix.Syscall6(unix.SYS_GETSOCKOPT, fd, unix.SOL_SOCKET, unix.SO_MEMINFO,
			uintptr(unsafe.Pointer(&mem[0])), uintptr(unsafe.Pointer(&n)), 0)
		ok = e == 0 && n > unix.SK_MEMINFO_DROPS*4
	})
	if ok {
		raw := mem[unix.SK_MEMINFO_DROPS]
		u.drops += uint64(raw - u.dropsRaw)
		u.dropsRaw = raw
	}
	return u.drops
}

// Close closes both sockets; a blocked Recv returns.
func (u *UDP) Close() error {
	err1 := u.recv.Close()
	err2 := u.send.Close()
	if err1 != nil {
		return fmt.Errorf("close UDP link: %w", err1)
	}
	if err2 != nil {
		return fmt.Errorf("close UDP link: %w", err2)
	}
	return nil
}
