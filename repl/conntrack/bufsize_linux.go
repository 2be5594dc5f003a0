package conntrack

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// rcvbufSize is the receive buffer size the kernel gives a netlink socket
// asked for n bytes (SO_RCVBUFFORCE, else SO_RCVBUF, read back: the
// kernel doubles the request and keeps a minimum), as conntrack -E -b
// reports it.
func rcvbufSize(n int) (int, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
	if err != nil {
		return 0, fmt.Errorf("netlink socket: %w", err)
	}
	defer unix.Close(fd)
	if unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, n) != nil {
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF, n); err != nil {
			return 0, fmt.Errorf("set the socket buffer size: %w", err)
		}
	}
	got, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUF)
	if err != nil {
		return 0, fmt.Errorf("read the socket buffer size: %w", err)
	}
	return got, nil
}
