//go:build linux

package node

import (
	"container/list"
	"time"

	"ctq/sync/cache"
	"ctq/sync/wire"
)

// helloState is where a node is in the HELLO handshake (sync-ftfw.c).
type helloState uint8

const (
	helloInit helloState = iota // HELLO_INIT: nothing sent yet
	helloSay                    // HELLO_SAY: sending HELLO until a HELLO_BACK arrives
	helloDone                   // HELLO_DONE: the peer answered
)

// verdict is what FTFW's receiver makes of a message (MSG_*).
type verdict uint8

const (
	verdictData verdict = iota // MSG_DATA: process the data
	verdictCtl                 // MSG_CTL: a control message, handled
	verdictBad                 // MSG_BAD: malformed, counted
	verdictDrop                // MSG_DROP: behind the expected sequence, dropped
)

// rsItem is one entry of the resend queue: what was sent and its sequence
// number.
type rsItem struct {
	seq  uint32
	item txItem
}

// ftfw is the state of FTFW, conntrackd's reliable mode: the receiver's
// sequence tracking and acknowledgement window, the sender's resend queue
// and the HELLO handshake. It holds no sockets and no caches: the node
// feeds it received headers and sent messages and appends what it returns
// to its transmit queue.
type ftfw struct {
	windowSize uint32
	window     uint32
	ackFrom    uint32
	ackFromSet bool

	hello        helloState
	sayHelloBack bool

	// rxLast is the last accepted peer sequence number, once rxSet.
	rxLast uint32
	rxSet  bool
	// lost and before are conntrackd's "Packets lost" and "Packets before".
	lost, before uint64
	// cand is the sequence number of the last message dropped as behind
	// or out of the window, once candSet: a message numbered cand+1 makes
	// the receiver follow the new sequence (a re-anchor). jumps counts the
	// messages out of the window, reanchors the re-anchors; wantResync
	// asks the node for a RESYNC (a re-anchor forward: more was lost than
	// a NACK can ask for).
	cand       uint32
	candSet    bool
	jumps      uint64
	reanchors  uint64
	wantResync bool
	// peerSynced is set once the peer sent a message without HELLO (its
	// handshake is over; until then a HELLO that goes on from its
	// sequence is part of the handshake); a HELLO out of sequence from a
	// peer heard before means it restarted and sets peerRestarted for
	// the node.
	peerSynced, peerRestarted bool

	// rs is the resend queue in send order; rsEntries finds the element of
	// a cache entry; rsLimit is ResendQueueSize; rsDropped counts entries
	// dropped for lack of room.
	rs        *list.List
	rsEntries map[*cache.Entry]*list.Element
	rsLimit   int
	rsDropped uint64
	// flight is how many flows and expectations may be in flight
	// unacknowledged (window.go), grown counts the times an ACK of the
	// peer widened it (learnACK).
	flight int
	grown  uint64
	// flushed counts the flows and expectations a HELLO of the peer took
	// out of the resend queue (flushRS), sent again at once.
	flushed uint64
	// release is called for a cache entry that leaves the resend queue
	// without being sent again (acknowledged, dropped or flushed).
	release func(*cache.Entry)
	// rsExp and releaseExp are rsEntries and release for expectation
	// entries; releaseExp may be nil (no expectations).
	rsExp      map[*cache.ExpectEntry]*list.Element
	releaseExp func(*cache.ExpectEntry)
	// onLost, when set, takes the entries (flows and expectations) the
	// resend queue loses without their being acknowledged (dropped when
	// full, NACKed beyond the budget), instead of release: the node
	// repairs them. Control messages lost are not passed.
	onLost func(txItem)
	// nackBudget, when set, bounds the resends of NACKs (clocked by now);
	// nackLimited counts the entries NACKed beyond it.
	nackBudget  *tokenBucket
	now         func() time.Time
	nackLimited uint64
	// implicit counts the entries an ACK sent again because it left them
	// out (ack).
	implicit uint64
	// nacked are the ranges NACKed lately, to be NACKed again (renack.go).
	nacked []nackRange
	// helloAcked are the entries the peer acknowledged before its
	// HELLO_BACK (ack), to be sent again once it comes.
	helloAcked []txItem
}

// seqWindow is how far from the expected sequence number a peer's message
// may be to be believed: a gap within it is NACKed as conntrackd does, a
// message further off (behind, or a jump ahead) is dropped until the peer
// keeps to the new sequence (two consecutive numbers). A genuine peer
// jumps that far only after losing more than NACKs can bring back.
const seqWindow = 1 << 16

// newFTFW returns FTFW's state for an ACK window and a resend queue size.
func newFTFW(windowSize, rsLimit int, release func(*cache.Entry)) *ftfw {
	return &ftfw{
		windowSize: uint32(windowSize),
		window:     uint32(windowSize),
		rs:         list.New(),
		rsEntries:  make(map[*cache.Entry]*list.Element),
		rsExp:      make(map[*cache.ExpectEntry]*list.Element),
		rsLimit:    rsLimit,
		release:    release,
		flight:     flightStart(windowSize),
	}
}

// stamp sets the HELLO flags of an outgoing message (nethdr_set_hello):
// HELLO on every message until a HELLO_BACK arrives, HELLO_BACK once after
// a HELLO was received.
func (s *ftfw) stamp(f *wire.Flags) {
	if s.hello == helloInit {
		s.hello = helloSay
	}
	if s.hello == helloSay {
		*f |= wire.FlagHello
	}
	if s.sayHelloBack {
		*f |= wire.FlagHelloBack
		s.sayHelloBack = false
	}
}

// sent records a message that went out with sequence number seq: cache
// entries and ACK, NACK and RESYNC wait in the resend queue for an
// acknowledgement; ALIVE does not. When the queue is full (the node's
// window keeps flows and expectations out of a full queue, so only control
// messages get it there: window.go) its oldest ACK or NACK is dropped, else
// its oldest entry: ACKs and NACKs are sent again anyway (the next ACK
// covers what the last did, NACKs are repeated), a lost flow needs a
// repair.
func (s *ftfw) sent(it txItem, seq uint32) {
	if it.isCtl() && it.ctl&(wire.FlagACK|wire.FlagNACK|wire.FlagResync) == 0 {
		return
	}
	if s.rs.Len() >= s.rsLimit {
		s.rsDropped++
		s.lose(s.evictable())
	}
	el := s.rs.PushBack(rsItem{seq: seq, item: it})
	if it.entry != nil {
		s.rsEntries[it.entry] = el
	}
	if it.exp != nil {
		s.rsExp[it.exp] = el
	}
}

// evictable is the element a full resend queue drops: its oldest ACK or
// NACK, else its oldest element.
func (s *ftfw) evictable() *list.Element {
	for el := s.rs.Front(); el != nil; el = el.Next() {
		if r := el.Value.(rsItem); r.item.isCtl() && r.item.ctl&(wire.FlagACK|wire.FlagNACK) != 0 {
			return el
		}
	}
	return s.rs.Front()
}

// lose removes an element whose message may not have arrived from the
// resend queue: its entry goes to onLost (to be repaired) or, without
// onLost, is released as conntrackd does.
func (s *ftfw) lose(el *list.Element) {
	it := s.drop(el, s.onLost == nil)
	if s.onLost != nil && !it.isCtl() {
		s.onLost(it)
	}
}

// drop removes an element from the resend queue, releasing its entry when
// it will not be sent again, and returns its item.
func (s *ftfw) drop(el *list.Element, release bool) txItem {
	it := s.rs.Remove(el).(rsItem).item
	if it.entry != nil {
		delete(s.rsEntries, it.entry)
		if release {
			s.release(it.entry)
		}
	}
	if it.exp != nil {
		delete(s.rsExp, it.exp)
		if release && s.releaseExp != nil {
			s.releaseExp(it.exp)
		}
	}
	return it
}

// takeBack removes a cache entry from the resend queue, because it changed
// and goes out again from the transmit queue (ftfw_enqueue).
func (s *ftfw) takeBack(e *cache.Entry) {
	if el, ok := s.rsEntries[e]; ok {
		s.drop(el, false)
	}
}

// takeBackExp is takeBack for an expectation entry.
func (s *ftfw) takeBackExp(e *cache.ExpectEntry) {
	if el, ok := s.rsExp[e]; ok {
		s.drop(el, false)
	}
}

// flushRS empties the resend queue on a HELLO: the peer (re)started and
// knows nothing of it. Its flows and expectations go out again at once,
// with new sequence numbers (conntrackd drops them; under loss a peer
// that starts says HELLO on several messages, and each emptied the queue
// into the repair, a second later); its control messages are dropped.
func (s *ftfw) flushRS(tx []txItem) []txItem {
	for el := s.rs.Front(); el != nil; el = s.rs.Front() {
		if it := s.drop(el, false); !it.isCtl() {
			tx = append(tx, it)
			s.flushed++
		}
	}
	return tx
}

// ack drops the resend-queue entries with a sequence number in [from, to]
// and appends those before from to tx, to go out again: the peer
// acknowledges and NACKs in sequence order, so the NACK of those was lost
// (or their ACK was, and the resend is harmless). conntrackd leaves them
// in its resend queue until the queue overflows.
func (s *ftfw) ack(from, to uint32, tx []txItem) []txItem {
	s.learnACK(from, to)
	if front := s.rs.Front(); front != nil {
		if first := front.Value.(rsItem).seq; wire.SeqBefore(first, from) {
			n := len(tx)
			tx = s.nack(first, from-1, tx)
			s.implicit += uint64(len(tx) - n)
		}
	}
	for el := s.rs.Front(); el != nil; {
		next := el.Next()
		seq := el.Value.(rsItem).seq
		if wire.SeqBefore(to, seq) {
			break
		}
		if !wire.SeqBefore(seq, from) {
			// Before the peer's HELLO_BACK, its ACKs may cover what
			// it lost: conntrackd checks no gap in messages that say
			// HELLO, which ours do until then. The entries go out
			// again once the handshake is over.
			doubt := s.hello == helloSay && len(s.helloAcked) < s.rsLimit
			if it := s.drop(el, !doubt); doubt && !it.isCtl() {
				s.helloAcked = append(s.helloAcked, it)
			}
		}
		el = next
	}
	return tx
}

// nack moves the resend-queue entries with a sequence number in [from, to]
// to the end of tx: they go out again, with new sequence numbers. Beyond
// the budget (nackBudget) they are lost instead (onLost repairs them
// later, once each however often they are NACKed).
func (s *ftfw) nack(from, to uint32, tx []txItem) []txItem {
	for el := s.rs.Front(); el != nil; {
		next := el.Next()
		r := el.Value.(rsItem)
		if wire.SeqBefore(to, r.seq) {
			break
		}
		if !wire.SeqBefore(r.seq, from) {
			if s.nackBudget != nil && !s.nackBudget.take(s.now()) {
				s.nackLimited++
				s.lose(el)
			} else {
				s.drop(el, false)
				tx = append(tx, r.item)
			}
		}
		el = next
	}
	return tx
}

// unacked reports whether the resend queue holds a flow or an
// expectation the peer has not acknowledged.
func (s *ftfw) unacked() bool {
	return len(s.rsEntries)+len(s.rsExp) > 0
}

// alive is the control message of the alive timer: an ACK of what was
// received and not yet acknowledged, else an ALIVE.
func (s *ftfw) alive() txItem {
	if s.ackFromSet && s.rxSet {
		s.ackFromSet = false
		return txItem{ctl: wire.FlagACK, from: s.ackFrom, to: s.rxLast}
	}
	return txItem{ctl: wire.FlagAlive}
}

// recv runs FTFW's receiver on one well-formed message (ftfw_recv): the
// HELLO handshake, the sequence check, the acknowledgement window, and the
// control messages (ACK and NACK act on the resend queue). It returns the
// verdict, whether the message is a RESYNC (the caller bulk-sends), and tx
// with the control messages and resends to send appended.
func (s *ftfw) recv(m *wire.Message, tx []txItem) (verdict, bool, []txItem) {
	h := m.Header
	v, resync := verdictData, false
	hello := h.IsHello()
	if hello {
		s.sayHelloBack = true
	}
	if h.IsHelloBack() && s.hello == helloSay {
		s.hello = helloDone
		tx = append(tx, s.helloAcked...)
		s.helloAcked = nil
	}
	inSync := true
	// nackFrom is the first sequence number a gap NACKs; reanchor marks
	// a new sequence followed.
	nackFrom, reanchor := s.rxLast+1, false
	// A peer says HELLO on every message until our HELLO_BACK reaches
	// it: a HELLO that goes on from the sequence of the peer's handshake
	// is checked as any message (conntrackd checks none, and
	// acknowledges the messages a lossy link lost meanwhile, which their
	// sender then forgets).
	repeated := hello && !s.peerSynced && s.rxSet && h.Seq-(s.rxLast+1) < seqWindow
	if hello && !repeated {
		// The peer restarted: restart the window if needed and forget
		// what it cannot acknowledge.
		if s.ackFromSet && wire.SeqBefore(h.Seq, s.ackFrom) {
			s.window = s.windowSize - 1
			s.ackFrom = h.Seq
		}
		// A peer heard before that says HELLO out of its sequence
		// restarted, whether or not its handshake was over: its new
		// node knows nothing of what the old one acknowledged.
		if s.rxSet {
			s.peerRestarted = true
		}
		s.peerSynced = false
		s.candSet = false
		tx = s.flushRS(tx)
		s.forgetNACKs()
	} else if s.rxSet {
		want := s.rxLast + 1
		ahead := h.Seq - want // serial distance forward
		switch {
		case h.Seq == want:
		case ahead < seqWindow:
			s.lost += uint64(h.Seq - s.rxLast + 1)
			inSync = false
		case s.candSet && h.Seq == s.cand+1:
			// The sender keeps to a sequence of its own: a forgery
			// before it took the expected one over, or the peer lost
			// more than the window. Follow it, asking for what was
			// dropped on the way.
			s.reanchors++
			inSync, reanchor = false, true
			nackFrom = s.cand
			if wire.SeqBefore(want, h.Seq) {
				nackFrom = want
				s.wantResync = true
			}
		case wire.SeqBefore(h.Seq, want) && want-h.Seq <= seqWindow:
			s.before++
			s.cand, s.candSet = h.Seq, true
			return verdictDrop, false, tx
		default:
			s.jumps++
			s.cand, s.candSet = h.Seq, true
			return verdictDrop, false, tx
		}
	}
	v, resync, tx = s.digest(m, tx)
	if v == verdictBad {
		return v, false, tx
	}
	if inSync {
		if !s.ackFromSet {
			s.ackFromSet = true
			s.ackFrom = h.Seq
		}
		s.window--
		if s.window == 0 {
			tx = append(tx, txItem{ctl: wire.FlagACK, from: s.ackFrom, to: h.Seq})
			s.window = s.windowSize
			s.ackFromSet = false
		}
	} else {
		// On a re-anchor what is pending was of the other sequence: no
		// ACK of it goes to this one.
		if s.ackFromSet && !reanchor {
			tx = append(tx, txItem{ctl: wire.FlagACK, from: s.ackFrom, to: s.rxLast})
		}
		s.ackFromSet = false
		tx = append(tx, txItem{ctl: wire.FlagNACK, from: nackFrom, to: h.Seq - 1})
		s.noteNACK(nackFrom, h.Seq-1)
		s.window = s.windowSize - 1
		s.ackFrom = h.Seq
		s.ackFromSet = true
	}
	s.rxLast, s.rxSet = h.Seq, true
	s.candSet = false
	if !hello {
		s.peerSynced = true
	}
	return v, resync, tx
}

// digest classifies a message and carries out ACK and NACK (digest_msg).
func (s *ftfw) digest(m *wire.Message, tx []txItem) (verdict, bool, []txItem) {
	h := m.Header
	switch {
	case h.IsData():
		return verdictData, false, tx
	case h.IsACK():
		if m.Control == nil || wire.SeqBefore(m.Control.To, m.Control.From) {
			return verdictBad, false, tx
		}
		return verdictCtl, false, s.ack(m.Control.From, m.Control.To, tx)
	case h.IsNACK():
		if m.Control == nil || wire.SeqBefore(m.Control.To, m.Control.From) {
			return verdictBad, false, tx
		}
		return verdictCtl, false, s.nack(m.Control.From, m.Control.To, tx)
	case h.IsResync():
		return verdictCtl, true, tx
	case h.IsAlive():
		return verdictCtl, false, tx
	}
	return verdictBad, false, tx
}

// items lists the resend queue for a status page.
func (s *ftfw) items() []ResendItem {
	out := make([]ResendItem, 0, s.rs.Len())
	for el := s.rs.Front(); el != nil; el = el.Next() {
		it := el.Value.(rsItem)
		out = append(out, ResendItem{Seq: it.seq, Control: it.item.isCtl(), Flags: uint8(it.item.ctl)})
	}
	return out
}
