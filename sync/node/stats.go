//go:build linux

package node

import (
	"time"

	"ctq/sync/cache"
	"ctq/sync/link"
	"ctq/sync/wire"
)

// Stats are a node's counters, after `conntrackd -s` and `-s network`.
type Stats struct {
	Internal, External cache.Stats
	// InternalExpect and ExternalExpect are the expectation caches'
	// counters (`conntrackd -s expect`); zero without ExpectationSync.
	InternalExpect, ExternalExpect cache.Stats
	Link                           link.Stats
	// Links are the dedicated links with their role (`conntrackd -s
	// link`); a single link is the active one.
	Links []link.LinkStatus
	// Auth counts the datagrams the link's authentication (AuthKey) took
	// and dropped; zero without a key.
	Auth link.AuthStats

	// Messages sent and received, by kind.
	SentData, SentControl uint64
	RecvData, RecvControl uint64
	// RecvExpect counts the expectation messages received (dropped
	// without ExpectationSync); RecvData counts the flow messages.
	RecvExpect uint64
	// RecvErrors counts rejected messages by wire.Kind ("Malformed
	// payload" ...), as `conntrackd -s network` does.
	RecvErrors map[wire.Kind]uint64
	// SeqLost and SeqBefore are conntrackd's "Packets lost" (including its
	// over-count of 2 per gap) and "Packets before".
	SeqLost, SeqBefore uint64
	// ResendQueue is the length of FTFW's resend queue (`conntrackd -s
	// rsqueue`), ResendObjects how many of its entries are flows or
	// expectations (not control messages); ResendDropped counts entries
	// it dropped when full.
	ResendQueue, ResendObjects int
	ResendDropped              uint64
	// SeqJumps counts FTFW messages dropped because their sequence number
	// was too far (more than 65536) from the expected one to be believed
	// (a forgery, without AuthKey); SeqReanchors counts the times the
	// node followed a new sequence of the peer (two consecutive numbers
	// out of the expected range), with a NACK or a RESYNC for what it
	// dropped on the way.
	SeqJumps, SeqReanchors uint64
	// ResyncsAnswered counts the bulk sends made for the peer's RESYNC
	// requests (and its restarts); ResyncsCoalesced counts the requests
	// that got no bulk send of their own: at most one goes out a second,
	// the requests meanwhile share the next one.
	ResyncsAnswered, ResyncsCoalesced uint64
	// ResyncsRequested counts the RESYNC requests this node sent
	// (RequestResync, StartupResync, and its own repairs: a sequence
	// re-anchored, a full external cache).
	ResyncsRequested uint64
	// NACKLimited counts the entries of the resend queue a NACK asked for
	// beyond the resend budget (a resend queue's worth a second): they go
	// to the repair instead of out at once.
	NACKLimited uint64
	// Repaired counts the entries sent again by the repair of known
	// losses (FTFW): entries the full resend queue dropped, NACKed beyond
	// the budget, or flushed by the peer's HELLO. RepairPending is how
	// many wait for it.
	Repaired      uint64
	RepairPending int
	// Probes counts the ALIVEs sent after data to show the peer a lost
	// end of a burst, QuickACKs the ACKs sent soon after data or an
	// ALIVE arrived, ImplicitResends the entries an ACK sent again
	// because it left them out (their NACK was lost); StartupAdvertised
	// the entries the node sent at its start (tailloss.go, startup.go).
	Probes, QuickACKs, ImplicitResends, StartupAdvertised uint64
	// RepeatedNACKs counts the NACKs sent again (renack.go).
	RepeatedNACKs uint64
	// WindowHeld counts the flows and expectations that waited in the
	// transmit queue for room in FTFW's resend queue (window.go: what
	// would have pushed unacknowledged entries out of it), each once.
	WindowHeld uint64
	// Window is how many flows and expectations may be in flight
	// unacknowledged (FTFW; 1024, or twice ACKWindowSize or the largest
	// range an ACK of the peer covered, within the resend queue),
	// WindowGrown how often an ACK of the peer widened it.
	Window      int
	WindowGrown uint64
	// PeerRestarts counts the peer's HELLOs after its handshake (FTFW: the
	// peer restarted), each answered with a bulk send.
	PeerRestarts uint64
	// HelloResent counts the flows and expectations a HELLO of the peer
	// emptied out of the resend queue unacknowledged (conntrackd forgets
	// them), each sent again at once.
	HelloResent uint64
	// ExternalFull counts the peer's entries (flows and expectations) the
	// full external cache (HashLimit) refused; Rebuilds counts the
	// rebuilds they started (a RESYNC, then the eviction of what the peer
	// did not send again), ExternalEvicted the entries those evicted.
	ExternalFull, ExternalEvicted, Rebuilds uint64
	// EventOverflows counts kernel event overruns (ENOBUFS), each followed
	// by a re-dump of the kernel table.
	EventOverflows uint64
	// SendErrors counts datagrams the link failed to send.
	SendErrors uint64
	// Injected counts received entries written into the kernel
	// (DisableExternalCache), InjectErrors those the kernel refused, the
	// last with its error in LastInjectError.
	Injected, InjectErrors uint64
	LastInjectError        string
	// DumpErrors counts kernel dumps of bulk sends that failed (without
	// internal cache).
	DumpErrors uint64
	// Purges counts the purges (Purge) carried out, PurgeErrors those that
	// failed.
	Purges, PurgeErrors uint64

	// Started is when the node started (past its start-up dump).
	Started time.Time
	// EventsReceived counts the kernel's conntrack events, EventsFiltered
	// those the Filter left out (conntrackd -s runtime).
	EventsReceived, EventsFiltered uint64
	// TrafficBytes and TrafficPackets sum the counters of the flows whose
	// end the node saw (with net.netfilter.nf_conntrack_acct=1):
	// conntrackd's "traffic processed".
	TrafficBytes, TrafficPackets uint64
	// KernelFlushes counts FlushKernel calls, KernelResyncs the rereads of
	// the kernel table (Refresh, and after overruns and commits), Polls
	// those of polling mode (General { PollSecs }).
	KernelFlushes, KernelResyncs, Polls uint64
	// WatchBuffer is the receive buffer of the kernel event socket.
	WatchBuffer int
	// SendMalformed counts messages that could not be encoded.
	SendMalformed uint64
	// TxQueue is the length of the transmit queue; ResendQueueLimit and
	// ErrorQueueLimit are ResendQueueSize and ErrorQueueLength.
	TxQueue                           int
	ResendQueueLimit, ErrorQueueLimit int
	// ResendItems lists FTFW's resend queue in order (`conntrackd -s
	// rsqueue`); nil outside FTFW.
	ResendItems []ResendItem
}

// ResendItem is an entry of FTFW's resend queue: a flow or expectation
// (Control false) or a control message with its flags, sent with Seq.
type ResendItem struct {
	Seq     uint32
	Control bool
	Flags   uint8
}

// clone copies the stats, map included.
func (s *Stats) clone() Stats {
	c := *s
	c.Links = append([]link.LinkStatus(nil), s.Links...)
	c.ResendItems = append([]ResendItem(nil), s.ResendItems...)
	c.RecvErrors = make(map[wire.Kind]uint64, len(s.RecvErrors))
	for k, v := range s.RecvErrors {
		c.RecvErrors[k] = v
	}
	return c
}
