//go:build !linux

package conntrack

import "errors"

// rcvbufSize needs Linux's netlink.
func rcvbufSize(int) (int, error) {
	return 0, errors.New("netlink sockets need Linux")
}
