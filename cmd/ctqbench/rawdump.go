package main

import (
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// rawDumpCommand is the hidden subcommand that measures the kernel floor:
// a full conntrack dump received with the same netlink settings ctq uses,
// with nothing decoded.
const rawDumpCommand = "rawdump"

// rawDump dumps the conntrack table of the current namespace and prints the
// number of messages received.
func rawDump() error {
	c, err := netlink.Dial(unix.NETLINK_NETFILTER, &netlink.Config{MessageBufferSize: 32 << 10})
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
	n := 0
	for _, err := range c.ReceiveIter() {
		if err != nil {
			return fmt.Errorf("receive dump: %w", err)
		}
		n++
	}
	fmt.Println(n)
	return nil
}
