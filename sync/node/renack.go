//go:build linux

package node

import (
	"time"

	"ctq/sync/wire"
)

// The receiver's repetition of NACKs (ctq's, within conntrackd's wire
// protocol). A NACK lost on the way leaves the sender with entries it
// will not send again: conntrackd's sender keeps them in its resend queue
// until it overflows, so a ctq backup of a conntrackd primary on a lossy
// link missed flows for good. The node therefore sends each NACK again
// renackTries times, renackInterval apart. A repeated NACK is harmless:
// a sender sends again the entries its resend queue holds with those
// sequence numbers, and an entry it already sent again has a new number.

const (
	// renackInterval is the wait between two repetitions.
	renackInterval = 100 * time.Millisecond
	// renackTries is how often a NACK is repeated.
	renackTries = 3
	// renackRanges bounds the ranges waiting for a repetition (the
	// oldest go first).
	renackRanges = 256
)

// nackRange is a range of sequence numbers NACKed, and how often it was
// repeated.
type nackRange struct {
	from, to uint32
	tries    int
}

// noteNACK records a NACKed range for its repetitions.
func (s *ftfw) noteNACK(from, to uint32) {
	if len(s.nacked) == renackRanges {
		s.nacked = append(s.nacked[:0], s.nacked[1:]...)
	}
	s.nacked = append(s.nacked, nackRange{from: from, to: to})
}

// forgetNACKs drops the ranges waiting (a HELLO: the peer restarted).
func (s *ftfw) forgetNACKs() {
	s.nacked = s.nacked[:0]
}

// renackSoon arms the repetition when ranges wait for one.
func (n *Node) renackSoon() {
	if n.ftfw == nil || len(n.ftfw.nacked) == 0 || n.renack != nil {
		return
	}
	n.renack = n.later(renackInterval, n.runRenack)
}

// runRenack sends the waiting NACKs again and arms the next repetition.
func (n *Node) runRenack() {
	n.renack = nil
	s := n.ftfw
	kept := s.nacked[:0]
	for _, r := range s.nacked {
		n.txq = append(n.txq, txItem{ctl: wire.FlagNACK, from: r.from, to: r.to})
		n.stats.RepeatedNACKs++
		if r.tries++; r.tries < renackTries {
			kept = append(kept, r)
		}
	}
	s.nacked = kept
	n.renackSoon()
}
