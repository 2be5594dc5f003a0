//go:build linux

package link

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

const (
	// sizeofIfInfomsg is struct ifinfomsg: family u8, pad u8, type u16,
	// index s32, flags u32, change u32.
	sizeofIfInfomsg = 16
	// ifiIndexOffset and ifiFlagsOffset are where ifinfomsg holds
	// ifi_index and ifi_flags (host byte order).
	ifiIndexOffset = 4
	ifiFlagsOffset = 8
	// watchRetry is the wait after a failed read of the rtnetlink socket
	// before the interfaces are dumped again.
	watchRetry = 100 * time.Millisecond
)

// watcher follows the state of the interfaces of the calling thread's
// network namespace: an rtnetlink socket subscribed to RTMGRP_LINK, as
// conntrackd's nlif handle.
type watcher struct {
	conn *netlink.Conn
}

// openWatcher subscribes to the link messages of the calling thread's
// network namespace (the socket stays there whatever thread reads it).
func openWatcher() (*watcher, error) {
	c, err := netlink.Dial(unix.NETLINK_ROUTE, &netlink.Config{Groups: unix.RTMGRP_LINK})
	if err != nil {
		return nil, fmt.Errorf("watch interfaces: rtnetlink: %w", err)
	}
	return &watcher{conn: c}, nil
}

// run reports every RTM_NEWLINK and RTM_DELLINK to changed, with whether
// the interface is up (IFF_UP and IFF_RUNNING: admin up with carrier),
// until done is closed. When a read fails (ENOBUFS: messages were lost)
// it asks for a dump of all the interfaces, which comes as RTM_NEWLINK.
func (w *watcher) run(done <-chan struct{}, changed func(ifindex int, flags uint32)) {
	for {
		msgs, err := w.conn.Receive()
		if err != nil {
			select {
			case <-done:
				return
			case <-time.After(watchRetry):
			}
			w.dump()
			continue
		}
		for _, m := range msgs {
			if ifindex, flags, ok := linkFlags(m); ok {
				changed(ifindex, flags)
			}
		}
	}
}

// linkState reads an RTM_NEWLINK or RTM_DELLINK message: the interface's
// index and whether it is up (a deleted interface is down).
func linkState(m netlink.Message) (ifindex int, up, ok bool) {
	ifindex, flags, ok := linkFlags(m)
	return ifindex, flagsUp(flags), ok
}

// linkFlags reads an RTM_NEWLINK or RTM_DELLINK message: the interface's
// index and its flags (none for a deleted interface).
func linkFlags(m netlink.Message) (ifindex int, flags uint32, ok bool) {
	t := m.Header.Type
	if t != unix.RTM_NEWLINK && t != unix.RTM_DELLINK || len(m.Data) < sizeofIfInfomsg {
		return 0, 0, false
	}
	ifindex = int(int32(binary.NativeEndian.Uint32(m.Data[ifiIndexOffset:])))
	if t == unix.RTM_NEWLINK {
		flags = binary.NativeEndian.Uint32(m.Data[ifiFlagsOffset:])
	}
	return ifindex, flags, true
}

// flagsUp reports whether interface flags are those of an interface that
// carries traffic: admin up (IFF_UP) with carrier (IFF_RUNNING).
func flagsUp(flags uint32) bool {
	return flags&unix.IFF_UP != 0 && flags&unix.IFF_RUNNING != 0
}

// Interface states of a link, as conntrackd's `-s link` shows them.
const (
	StateRunning   = "RUNNING"    // admin up, with carrier
	StateNoCarrier = "NO-CARRIER" // admin up, no carrier
	StateDown      = "DOWN"       // admin down (or deleted)
)

// stateName is conntrackd's name of an interface's state: IFF_UP is the
// admin state, IFF_RUNNING the carrier.
func stateName(flags uint32) string {
	switch {
	case flags&unix.IFF_UP == 0:
		return StateDown
	case flags&unix.IFF_RUNNING == 0:
		return StateNoCarrier
	}
	return StateRunning
}

// dump asks for every interface's state (RTM_GETLINK, NLM_F_DUMP); the
// answer is read by run.
func (w *watcher) dump() {
	// A failure leaves the state as it was until the next change.
	_, _ = w.conn.Send(netlink.Message{
		Header: netlink.Header{Type: unix.RTM_GETLINK, Flags: netlink.Request | netlink.Dump},
		Data:   make([]byte, sizeofIfInfomsg),
	})
}

// close closes the socket; run returns.
func (w *watcher) close() {
	w.conn.Close()
}
