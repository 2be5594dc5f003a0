package link

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"

	"ctq/sync/config"
)

const (
	// udpOverhead is what conntrackd takes off the MTU for its buffer
	// (IPv4 20 + UDP 8).
	udpOverhead = 28
	// defaultMTU is used when the link names no interface.
	defaultMTU = 1500
)

// UDP is a UDP link, unicast or multicast.
//
// Unicast (OpenUDP): a receive socket bound to the local address and port
// (SO_REUSEADDR; any source accepted, as conntrackd does) and an unbound
// send socket (ephemeral source port) that sends to the destination
// address and the same port.
//
// Multicast (OpenMulticast): a receive socket bound to the group and port
// that joins the group on the interface of IPv4_interface, and a send
// socket that sends to the group out of that interface, without loopback,
// with TTL 1. conntrackd 1.4.7 binds its receive socket to 0.0.0.0, which
// also takes unicast to any local address (fixed in 1.4.9, netfilter
// bugzilla 1819); this binds to the group, as 1.4.9 does.
type UDP struct {
	recv, send *net.UDPConn
	dst        netip.AddrPort
	maxPayload int

	sentBytes, sentDatagrams, sendErrors atomic.Uint64
	recvBytes, recvDatagrams, recvErrors atomic.Uint64
}

// OpenUDP opens a UDP link in the calling thread's network namespace.
func OpenUDP(l *config.Link) (*UDP, error) {
	if l.Transport != config.TransportUDP {
		return nil, fmt.Errorf("open UDP link: link of line %d is %s", l.Line, l.Transport)
	}
	network := "udp4"
	if l.Address.Is6() {
		network = "udp6"
	}
	mtu, err := interfaceMTU(l.Interface)
	if err != nil {
		return nil, fmt.Errorf("open UDP link: %w", err)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		return setOpts(c, func(fd int) error {
			if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
				return fmt.Errorf("SO_REUSEADDR: %w", err)
			}
			if l.RcvSocketBuffer > 0 {
				if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, l.RcvSocketBuffer); err != nil {
					return fmt.Errorf("SO_RCVBUFFORCE: %w", err)
				}
			}
			return nil
		})
	}}
	local := netip.AddrPortFrom(l.Address, uint16(l.Port))
	rc, err := lc.ListenPacket(context.Background(), network, local.String())
	if err != nil {
		return nil, fmt.Errorf("open UDP link: listen %s: %w", local, err)
	}
	sc, err := net.ListenUDP(network, nil)
	if err != nil {
		rc.Close()
		return nil, fmt.Errorf("open UDP link: send socket: %w", err)
	}
	raw, err := sc.SyscallConn()
	if err == nil {
		err = setOpts(raw, func(fd int) error { return sendOpts(fd, l) })
	}
	if err != nil {
		rc.Close()
		sc.Close()
		return nil, fmt.Errorf("open UDP link: %w", err)
	}
	return &UDP{
		recv:       rc.(*net.UDPConn),
		send:       sc,
		dst:        netip.AddrPortFrom(l.Destination, uint16(l.Port)),
		maxPayload: mtu - udpOverhead,
	}, nil
}

// interfaceMTU is the MTU of the named interface, defaultMTU when name is
// empty.
func interfaceMTU(name string) (int, error) {
	if name == "" {
		return defaultMTU, nil
	}
	ifi, err := net.InterfaceByName(name)
	if err != nil {
		return 0, fmt.Errorf("interface %s: %w", name, err)
	}
	return ifi.MTU, nil
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
	n, err := u.send.WriteToUDPAddrPort(b, u.dst)
	if err != nil {
		u.sendErrors.Add(1)
		return fmt.Errorf("send to %s: %w", u.dst, err)
	}
	u.sentBytes.Add(uint64(n))
	u.sentDatagrams.Add(1)
	return nil
}

// Recv reads one datagram.
func (u *UDP) Recv(buf []byte) (int, error) {
	n, _, err := u.recv.ReadFromUDPAddrPort(buf)
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

// MaxPayload is the interface MTU less 28.
func (u *UDP) MaxPayload() int {
	return u.maxPayload
}

// LocalAddr is the address the receive socket is bound to.
func (u *UDP) LocalAddr() netip.AddrPort {
	return u.recv.LocalAddr().(*net.UDPAddr).AddrPort()
}

// Stats returns the traffic counters.
func (u *UDP) Stats() Stats {
	return Stats{
		SentBytes: u.sentBytes.Load(), SentDatagrams: u.sentDatagrams.Load(), SendErrors: u.sendErrors.Load(),
		RecvBytes: u.recvBytes.Load(), RecvDatagrams: u.recvDatagrams.Load(), RecvErrors: u.recvErrors.Load(),
	}
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
