//go:build linux

package node

import (
	"log/slog"
	"time"
)

// FTFW's flow control (ctq's, within conntrackd's wire protocol).
// conntrackd sends whatever is queued at once and keeps what it sent in a
// resend queue of ResendQueueSize entries; a burst larger than the queue
// pushes its oldest entries out before the peer acknowledged them, and a
// datagram lost among those is lost for good (a burst of 262144 NEW and
// 131072 DESTROY left a peer 7,000-12,000 flows short). ctq repaired
// such losses afterwards, but at half a queue a second, since a faster
// repair overflowed the queue again (with a queue of 2048 the same burst
// was still 76,448 flows short after 90 s).
//
// The node therefore sends flows and expectations only while the resend
// queue has room for them: the queue is the window of what may be in
// flight unacknowledged, and the peer's ACKs open it again. What does not
// fit waits in the transmit queue (as a pointer to its cache entry, so an
// entry waiting is sent once, in the state it has when it goes out) and
// goes out as ACKs make room: a burst, a bulk send or a repair of any
// size reaches the peer at the pace the peer acknowledges, and nothing is
// pushed out of the resend queue unacknowledged. Control messages are not
// held; windowReserve entries of the queue are kept for those that wait
// there for an acknowledgement (ACK, NACK, RESYNC).
//
// NOTRACK and ALARM keep no resend queue and send at once, as conntrackd.

// stallWarn is how long entries may wait for a full window without an ACK
// of the peer before the node says so (the peer is down, paused, or not
// in FTFW mode: a NOTRACK or ALARM peer acknowledges nothing).
const stallWarn = 10 * time.Second

// windowReserve is the part of the resend queue left to control messages:
// an eighth of it, at most 1024 entries.
func windowReserve(rsLimit int) int {
	return min(rsLimit/8, 2048)
}

// windowMax bounds the window: 1024 flows, about 70 full datagrams, fit in
// a Linux socket's default receive buffer (net.core.rmem_default, 208
// KiB), so that a window sent at once is not lost however late the peer's
// node reads it. A larger window only fills the peer's buffers: with
// the default ResendQueueSize (130048 flows in flight) a burst of 262144
// NEW and 131072 DESTROY between two nodes on the development VM went out
// as 1.0-1.4 million messages, most of them sent again after the backup's
// socket dropped them; with 1024, as 393216, none lost. A sync link is a
// dedicated network: at a round trip of a millisecond 1024 flows in
// flight carry a million a second. The peer acknowledges every
// ACKWindowSize messages (a ctq peer also 20 ms after data), so the window
// is at least twice ACKWindowSize, and twice the largest range an ACK of
// the peer covered (its ACKWindowSize may be larger: learnACK).
const windowMax = 1024

// flightStart is the window a node starts with: windowMax, or twice the
// ACK window.
func flightStart(ackWindow int) int {
	return max(windowMax, 2*ackWindow)
}

// windowLen is how many flows and expectations may be in flight: the resend
// queue beyond its reserve for control messages (at least one place in a
// queue of any size), at most flight.
func (s *ftfw) windowLen() int {
	return max(min(s.rsLimit-windowReserve(s.rsLimit), s.flight), 1)
}

// room is how many more flows and expectations may go out now: the
// window's free places.
func (s *ftfw) room() int {
	return max(s.windowLen()-s.rs.Len(), 0)
}

// learnACK widens the window to twice the range an ACK of the peer
// covers (up to the resend queue's size): a peer acknowledges every
// ACKWindowSize messages, or after a second (conntrackd's alive timer),
// so an ACK of more than half the window says its ACKWindowSize is larger
// than ours, and a window under twice it would wait for that second each
// time. A ctq peer's ACKs cover at most its ACKWindowSize.
func (s *ftfw) learnACK(from, to uint32) {
	r := int(min(to-from, uint32(s.rsLimit))) + 1
	if 2*r > s.flight {
		s.flight = 2 * r
		s.grown++
	}
}

// resetWindow brings the window back to its start size.
func (s *ftfw) resetWindow() {
	s.flight = flightStart(int(s.windowSize))
}

// flowControlled reports whether flows and expectations wait for room in
// the resend queue: in FTFW (which needs an internal cache).
func (n *Node) flowControlled() bool {
	return n.ftfw != nil
}

// heldKeep is the largest array of waiting entries kept once empty.
const heldKeep = 1 << 14

// hold appends a flow or expectation to the entries waiting for the
// window.
func (n *Node) hold(it txItem) {
	n.held = append(n.held, it)
}

// heldLen is how many entries wait for the window.
func (n *Node) heldLen() int {
	return len(n.held) - n.heldHead
}

// sendHeld sends the waiting entries the window has room for, oldest
// first, and reports whether it sent any; mark is the length of the
// waiting list before this transmission added to it: the entries from
// there on that still wait are counted (Stats.WindowHeld).
func (n *Node) sendHeld(mark int) bool {
	sent := false
	for n.heldHead < len(n.held) && n.ftfw.room() > 0 {
		it := n.held[n.heldHead]
		n.held[n.heldHead] = txItem{}
		n.heldHead++
		n.sendItem(it)
		sent = true
	}
	if waiting := len(n.held) - max(mark, n.heldHead); waiting > 0 {
		n.stats.WindowHeld += uint64(waiting)
	}
	switch {
	case n.heldHead == len(n.held) && cap(n.held) > heldKeep:
		n.held, n.heldHead = nil, 0 // a burst's array goes back to the heap
	case n.heldHead == len(n.held):
		n.held, n.heldHead = n.held[:0], 0
	case n.heldHead >= len(n.held)/2:
		rest := copy(n.held, n.held[n.heldHead:])
		clear(n.held[rest:])
		n.held, n.heldHead = n.held[:rest], 0
	}
	return sent
}

// filterHeld keeps the waiting entries keep accepts (a flush of a cache
// takes its entries out of the transmit queue).
func (n *Node) filterHeld(keep func(txItem) bool) {
	kept := n.held[:0]
	for _, it := range n.held[n.heldHead:] {
		if keep(it) {
			kept = append(kept, it)
		}
	}
	clear(n.held[len(kept):])
	n.held, n.heldHead = kept, 0
}

// markResends marks the flows and expectations FTFW's receiver queued
// again from the resend queue (NACKed, left out of an ACK, emptied by a
// HELLO), from txq[from] on, as queued, dropping those already waiting:
// an entry waits in the transmit queue once, however it got there, and a
// change meanwhile does not queue it a second time.
func (n *Node) markResends(from int) {
	kept := n.txq[:from]
	for _, it := range n.txq[from:] {
		switch {
		case it.entry != nil:
			if n.queued[it.entry] {
				continue
			}
			n.queued[it.entry] = true
		case it.exp != nil:
			if n.queuedExp[it.exp] {
				continue
			}
			n.queuedExp[it.exp] = true
		}
		kept = append(kept, it)
	}
	clear(n.txq[len(kept):])
	n.txq = kept
}

// checkStall logs entries waiting for a window the peer has not opened
// with an ACK for stallWarn (at most every logInterval); it runs with the
// probes, which go on while the resend queue holds unacknowledged data.
func (n *Node) checkStall() {
	if n.heldLen() == 0 || n.ftfw.room() > 0 {
		return
	}
	since := n.guard.lastACK
	if since.Before(n.stats.Started) {
		since = n.stats.Started
	}
	if d := n.clock.Now().Sub(since); d >= stallWarn {
		n.logLimited(&n.guard.stallLog, slog.LevelWarn,
			"the peer has acknowledged nothing for %s: %d entries wait for room in the resend queue (is the peer down, paused, or not in FTFW mode?)",
			d.Round(time.Second), n.heldLen())
	}
}
