package main

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// rawDumpCommand is the hidden subcommand that measures the kernel floor:
// a full conntrack dump received with the same netlink settings ctq uses,
// with nothing decoded.
const rawDumpCommand = "rawdump"

// rawDumpBuffer is the receive buffer per datagram, as ctq's: the kernel
// fills dump datagrams up to 32 KiB.
const rawDumpBuffer = 32 << 10

// rawDump dumps the conntrack table of the current namespace and prints the
// number of messages received. Every datagram is read into the same
// buffer and only its message headers are walked: what is left is the
// kernel's work and the copy to userspace, the floor of any dump.
func rawDump() error {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{MessageBufferSize: rawDumpBuffer})
	if err != nil {
		return fmt.Errorf("dial netlink: %w", err)
	}
	defer c.Close()
	const (
		nfnlSubsysCTNetlink = 1 // NFNL_SUBSYS_CTNETLINK
		ipctnlMsgCTGet      = 1 // IPCTNL_MSG_CT_GET
	)
	req := netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(nfnlSubsysCTNetlink<<8 | ipctnlMsgCTGet),
			Flags: netlink.Request | netlink.Dump,
		},
		// struct nfgenmsg: family AF_UNSPEC, version NFNETLINK_V0, res_id 0.
		Data: []byte{unix.AF_UNSPEC, 0, 0, 0},
	}
	if _, err := c.Send(req); err != nil {
		return fmt.Errorf("send dump request: %w", err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("receive dump: %w", err)
	}
	buf := make([]byte, rawDumpBuffer)
	total := 0
	for {
		var n, flags int
		var rerr error
		if err := rc.Read(func(fd uintptr) bool {
			n, _, flags, _, rerr = unix.Recvmsg(int(fd), buf, nil, 0)
			return rerr != unix.EAGAIN
		}); err != nil {
			return fmt.Errorf("receive dump: %w", err)
		}
		if rerr != nil {
			return fmt.Errorf("receive dump: %w", rerr)
		}
		if flags&unix.MSG_TRUNC != 0 {
			return errors.New("receive dump: datagram longer than the receive buffer")
		}
		k, done, err := countDumpMessages(buf[:n])
		total += k
		if err != nil {
			return fmt.Errorf("receive dump: %w", err)
		}
		if done {
			fmt.Println(total)
			return nil
		}
	}
}

// countDumpMessages counts the entries in one datagram of a dump by their
// netlink headers alone. done reports the dump's end; an error message
// (or a done message with an error number) ends it with that error.
func countDumpMessages(b []byte) (n int, done bool, err error) {
	const (
		hdrLen    = 16  // sizeof(struct nlmsghdr)
		nlmsgErr  = 0x2 // NLMSG_ERROR
		nlmsgDone = 0x3 // NLMSG_DONE
	)
	for len(b) >= hdrLen {
		length := int(binary.NativeEndian.Uint32(b[0:4]))
		typ := binary.NativeEndian.Uint16(b[4:6])
		if length < hdrLen || length > len(b) {
			return n, false, fmt.Errorf("malformed netlink message: length %d of %d bytes left", length, len(b))
		}
		if typ == nlmsgErr || typ == nlmsgDone {
			if length >= hdrLen+4 {
				if code := int32(binary.NativeEndian.Uint32(b[hdrLen:])); code != 0 {
					return n, false, unix.Errno(-code)
				}
			}
			return n, typ == nlmsgDone, nil
		}
		n++
		b = b[min((length+3)&^3, len(b)):]
	}
	return n, false, nil
}
