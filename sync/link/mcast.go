//go:build linux

package link

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"ctq/sync/config"
)

// OpenMulticast opens an IPv4 or IPv6 multicast link in the calling
// thread's network namespace.
//
// IPv4: the group is joined on, and sent out of, the interface that holds
// IPv4_interface (InterfaceAddr). IPv6: on the interface named by Interface
// (conntrackd ignores IPv6_interface and takes the index of Interface);
// a link-local group (ff02::/16, ff12::/16) needs it, other scopes let the
// kernel pick the interface when Interface is empty.
func OpenMulticast(l *config.Link) (*UDP, error) {
	if l.Transport != config.TransportMulticast {
		return nil, fmt.Errorf("open multicast link: link of line %d is %s", l.Line, l.Transport)
	}
	if !l.Address.IsMulticast() {
		return nil, fmt.Errorf("open multicast link: %s is not a multicast group", l.Address)
	}
	if l.Address.Is6() {
		return openMulticast6(l)
	}
	_, mtu, err := iface(l.Interface)
	if err != nil {
		return nil, fmt.Errorf("open multicast link: %w", err)
	}
	group, ifaddr := l.Address.As4(), l.InterfaceAddr.As4()
	local := netip.AddrPortFrom(l.Address, uint16(l.Port))
	rc, err := groupSocket(l, group, ifaddr)
	if err != nil {
		return nil, fmt.Errorf("open multicast link: receive socket on %s: %w", local, err)
	}
	u, err := newUDP(rc, "udp4", l, local, 0, mtu-udpOverhead, func(fd int) error {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0); err != nil {
			return fmt.Errorf("IP_MULTICAST_LOOP: %w", err)
		}
		if err := unix.SetsockoptInet4Addr(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, ifaddr); err != nil {
			return fmt.Errorf("IP_MULTICAST_IF %s: %w", l.InterfaceAddr, err)
		}
		return nil
	})
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("open multicast link: %w", err)
	}
	return u, nil
}

// openMulticast6 opens an IPv6 multicast link: the receive socket is bound
// to the group and port (with the interface as scope when the group needs
// one) and joins the group on the interface (IPV6_JOIN_GROUP); the send
// socket sends to the group out of the interface (IPV6_MULTICAST_IF)
// without loopback (IPV6_MULTICAST_LOOP 0) with a hop limit of 1
// (IPV6_MULTICAST_HOPS: the kernel's default for multicast, which
// conntrackd leaves alone, set here explicitly).
func openMulticast6(l *config.Link) (*UDP, error) {
	if l.Interface == "" && needsScope(l.Address) {
		return nil, fmt.Errorf("open multicast link: the group %s needs an Interface", l.Address)
	}
	ifindex, mtu, err := iface(l.Interface)
	if err != nil {
		return nil, fmt.Errorf("open multicast link: %w", err)
	}
	local := netip.AddrPortFrom(l.Address, uint16(l.Port))
	rc, err := groupSocket6(l, ifindex)
	if err != nil {
		return nil, fmt.Errorf("open multicast link: receive socket on %s: %w", local, err)
	}
	u, err := newUDP(rc, "udp6", l, local, ifindex, mtu-udp6Overhead, func(fd int) error {
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_LOOP, 0); err != nil {
			return fmt.Errorf("IPV6_MULTICAST_LOOP: %w", err)
		}
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_HOPS, 1); err != nil {
			return fmt.Errorf("IPV6_MULTICAST_HOPS: %w", err)
		}
		if ifindex != 0 {
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_MULTICAST_IF, ifindex); err != nil {
				return fmt.Errorf("IPV6_MULTICAST_IF %s: %w", l.Interface, err)
			}
		}
		return nil
	})
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("open multicast link: %w", err)
	}
	return u, nil
}

// groupSocket makes the receive socket of a multicast link: bound to the
// group and port (net.ListenPacket would bind a multicast address's
// wildcard instead), SO_REUSEADDR, the receive buffer forced, and the group
// joined on the interface of ifaddr.
func groupSocket(l *config.Link, group, ifaddr [4]byte) (*net.UDPConn, error) {
	return boundSocket(unix.AF_INET, l, &unix.SockaddrInet4{Port: l.Port, Addr: group}, func(fd int) error {
		mreq := &unix.IPMreq{Multiaddr: group, Interface: ifaddr}
		if err := unix.SetsockoptIPMreq(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq); err != nil {
			return fmt.Errorf("join the group on %s: %w", l.InterfaceAddr, err)
		}
		return nil
	})
}

// groupSocket6 is groupSocket for IPv6: bound to the group and port, with
// the interface as scope when the group needs one, and the group joined on
// the interface of index ifindex (0: the kernel's choice).
func groupSocket6(l *config.Link, ifindex int) (*net.UDPConn, error) {
	sa := &unix.SockaddrInet6{Port: l.Port, Addr: l.Address.As16()}
	if needsScope(l.Address) {
		sa.ZoneId = uint32(ifindex)
	}
	return boundSocket(unix.AF_INET6, l, sa, func(fd int) error {
		mreq := &unix.IPv6Mreq{Multiaddr: l.Address.As16(), Interface: uint32(ifindex)}
		if err := unix.SetsockoptIPv6Mreq(fd, unix.IPPROTO_IPV6, unix.IPV6_JOIN_GROUP, mreq); err != nil {
			return fmt.Errorf("join the group on %s: %w", l.Interface, err)
		}
		return nil
	})
}

// boundSocket makes a UDP socket of family, SO_REUSEADDR, its receive
// buffer forced to RcvSocketBuffer, bound to sa, and then runs join.
func boundSocket(family int, l *config.Link, sa unix.Sockaddr, join func(fd int) error) (*net.UDPConn, error) {
	fd, err := unix.Socket(family, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	f := os.NewFile(uintptr(fd), "multicast")
	defer f.Close()
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return nil, fmt.Errorf("SO_REUSEADDR: %w", err)
	}
	if l.RcvSocketBuffer > 0 {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, l.RcvSocketBuffer); err != nil {
			return nil, fmt.Errorf("SO_RCVBUFFORCE: %w", err)
		}
	}
	if err := unix.Bind(fd, sa); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	if err := join(fd); err != nil {
		return nil, err
	}
	pc, err := net.FilePacketConn(f)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	return pc.(*net.UDPConn), nil
}
