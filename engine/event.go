package engine

import (
	"context"
	"time"
)

// LossWriter is implemented by EventWriters that can mark the point of a
// stream where events were lost (the kernel's event queue overflowed):
// a watch calls WriteLoss there, between the events before and after the
// loss.
type LossWriter interface {
	WriteLoss(overflows int, at time.Time) error
}

// EventType is the kind of a conntrack event.
type EventType uint8

// Event types, as conntrack -E labels them.
const (
	EventNew     EventType = 1 << iota // [NEW]: IPCTNL_MSG_CT_NEW with NLM_F_CREATE
	EventUpdate                        // [UPDATE]: IPCTNL_MSG_CT_NEW without it
	EventDestroy                       // [DESTROY]: IPCTNL_MSG_CT_DELETE
)

// EventMask is a set of EventTypes; zero means all of them.
type EventMask = EventType

// Event is one change of a table. Flow (or Expect, for the expect table) is
// reused for the next event: copy it to keep it.
type Event struct {
	Type   EventType
	Flow   *Flow
	Expect *Expect
	// PortID is the netlink port of the process that caused the change (0
	// for the kernel, i.e. packets); conntrack -E prints it as
	// "[USERSPACE] portid=N".
	PortID uint32
	// Time is when the event was received.
	Time time.Time
}

// WatchConfig selects what Watch delivers.
type WatchConfig struct {
	Table  Table     // TableConntrack or TableExpect
	Events EventMask // zero: all
	// Filter is the kernel-side part of the predicate; a source may use it
	// (e.g. as a socket filter) or ignore it.
	Filter KernelFilter
	// Resync, when set, is called after the kernel reported lost events
	// (ENOBUFS); the watch goes on afterwards.
	Resync func(ctx context.Context) error
	// Subscribed, when set, is called once the socket has joined its
	// groups and before the first event is read: every change the kernel
	// makes from then on is delivered (or counted as lost). sub lets the
	// caller leave and join groups while the watch runs.
	Subscribed func(sub Subscription)
	// ReadBuffer is the receive buffer to ask for when it is above the
	// default (64 MiB, which the kernel doubles); smaller values are
	// raised to the default.
	ReadBuffer int
	// Lost, when set, is called at the point of the stream where the
	// kernel reported lost events (ENOBUFS), with the number of reports
	// there, on yield's goroutine, between the events before and after the
	// loss and before Resync; an error ends the watch.
	Lost func(overflows int, at time.Time) error
	// Reliable asks for the kernel's reliable delivery of destroy events
	// (the live kernel: NETLINK_BROADCAST_ERROR, as conntrackd's
	// NetlinkEventsReliable): when a DESTROY event does not fit the
	// socket, the kernel keeps the dying entry (on the dying table) and
	// sends the event again later, instead of dropping it. Only entries
	// with an event record are held: with net.netfilter.nf_conntrack_events
	// at 2 (the default) those created while some socket listened; at 1,
	// all. New and update events can still be lost (and are reported; a
	// watch of destroy events alone is told of none, since the kernel
	// delivers them all in the end). The cost: a reader that falls behind
	// makes the kernel hold destroyed entries, which count against
	// nf_conntrack_max: a stuck reader can fill the table, and the kernel
	// then drops new connections.
	Reliable bool
}

// WatchStats counts what a watch saw.
type WatchStats struct {
	Received int // events delivered to yield
	Skipped  int // messages that did not decode
	// Overflows counts ENOBUFS reports: each means the kernel dropped an
	// unknown number of events.
	Overflows int
}

// ProgNamer is implemented by sources that can name the program behind the
// netlink port ID of an event made from userspace (conntrack -E's
// [USERSPACE] suffix): the live kernel.
type ProgNamer interface {
	// ProgName is the name of the program that owns the socket of portid
	// (its comm), or "" when none is found.
	ProgName(portid uint32) string
}

// ProgNames returns src's ProgName behind a cache (looking a port id up
// searches procfs; a watch sees the same few port ids over and over), or
// nil when src names no programs. The function is used by one goroutine.
func ProgNames(src Source) func(portid uint32) string {
	pn, ok := src.(ProgNamer)
	if !ok {
		return nil
	}
	names := map[uint32]string{}
	return func(portid uint32) string {
		name, ok := names[portid]
		if !ok {
			name = pn.ProgName(portid)
			names[portid] = name
		}
		return name
	}
}

// EventSource is implemented by sources with an event stream (the live
// kernel).
type EventSource interface {
	// Watch calls yield for each event until ctx is done or yield returns
	// an error; ctx ending is not an error.
	Watch(ctx context.Context, cfg WatchConfig, yield func(*Event) error) (WatchStats, error)
}

// Subscription is the group membership of a running watch: Watch hands it
// to WatchConfig.Subscribed. Leaving a group stops the kernel from even
// building the events of that type while nobody else listens, which is
// what a bulk write of the caller's own (a sync commit) gains from; the
// events of that time are lost, so the caller reads the table again
// afterwards. Its methods are safe to call from any goroutine while the
// watch runs.
type Subscription interface {
	// Joined returns the event types the watch receives.
	Joined() EventMask
	// Leave stops the delivery of the event types of m; leaving every
	// group is refused.
	Leave(m EventMask) error
	// Join (re)starts the delivery of the event types of m.
	Join(m EventMask) error
	// ReadBuffer is the receive buffer the kernel granted the watch's
	// socket, in bytes.
	ReadBuffer() int
}
