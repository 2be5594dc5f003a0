package link

import (
	"fmt"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"ctq/sync/config"
)

// OpenMulticast opens an IPv4 multicast link in the calling thread's
// network namespace.
func OpenMulticast(l *config.Link) (*UDP, error) {
	if l.Transport != config.TransportMulticast {
		return nil, fmt.Errorf("open multicast link: link of line %d is %s", l.Line, l.Transport)
	}
	if !l.Address.Is4() {
		return nil, fmt.Errorf("open multicast link: IPv6 multicast is not implemented yet")
	}
	mtu, err := interfaceMTU(l.Interface)
	if err != nil {
		return nil, fmt.Errorf("open multicast link: %w", err)
	}
	group, ifaddr := l.Address.As4(), l.InterfaceAddr.As4()
	local := netip.AddrPortFrom(l.Address, uint16(l.Port))
	rc, err := groupSocket(l, group, ifaddr)
	if err != nil {
		return nil, fmt.Errorf("open multicast link: receive socket on %s: %w", local, err)
	}
	sc, err := net.ListenUDP("udp4", nil)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("open multicast link: send socket: %w", err)
	}
	raw, err := sc.SyscallConn()
	if err == nil {
		err = setOpts(raw, func(fd int) error {
			if err := sendOpts(fd, l); err != nil {
				return err
			}
			if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_LOOP, 0); err != nil {
				return fmt.Errorf("IP_MULTICAST_LOOP: %w", err)
			}
			if err := unix.SetsockoptInet4Addr(fd, unix.IPPROTO_IP, unix.IP_MULTICAST_IF, ifaddr); err != nil {
				return fmt.Errorf("IP_MULTICAST_IF %s: %w", l.InterfaceAddr, err)
			}
			return nil
		})
	}
	if err != nil {
		rc.Close()
		sc.Close()
		return nil, fmt.Errorf("open multicast link: %w", err)
	}
	return &UDP{
		recv:       rc,
		send:       sc,
		dst:        local,
		maxPayload: mtu - udpOverhead,
	}, nil
}

// groupSocket makes the receive socket of a multicast link: bound to the
// group and port (net.ListenPacket would bind a multicast address's
// wildcard instead), SO_REUSEADDR, the receive buffer forced, and the group
// joined on the interface of ifaddr.
func groupSocket(l *config.Link, group, ifaddr [4]byte) (*net.UDPConn, error) {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
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
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: l.Port, Addr: group}); err != nil {
		return nil, fmt.Errorf("bind: %w", err)
	}
	mreq := &unix.IPMreq{Multiaddr: group, Interface: ifaddr}
	if err := unix.SetsockoptIPMreq(fd, unix.IPPROTO_IP, unix.IP_ADD_MEMBERSHIP, mreq); err != nil {
		return nil, fmt.Errorf("join the group on %s: %w", l.InterfaceAddr, err)
	}
	pc, err := net.FilePacketConn(f)
	if err != nil {
		return nil, fmt.Errorf("socket: %w", err)
	}
	return pc.(*net.UDPConn), nil
}
