//go:build linux

package node

import (
	"time"

	"ctq/sync/wire"
)

// FTFW's quick recovery of lost messages, ctq's own within conntrackd's
// wire protocol. conntrackd learns of a lost message only from the next
// one's sequence number, and of a lost NACK not at all until its peer
// sends again: the end of a burst lost on a lossy link is revealed by the
// ALIVE of an idle second, and a lost NACK leaves its entries in the
// resend queue for good (conntrackd) or for another second or more. Three
// changes close those gaps:
//
//   - probes: after data goes out, an ALIVE follows probeMin later, then
//     at doubling intervals up to aliveInterval, while the resend queue
//     holds data the peer has not acknowledged; its sequence number shows
//     the peer the lost end of a burst, which it NACKs;
//   - quick ACKs: a data message or an ALIVE received in FTFW is
//     acknowledged ackDelay later (conntrackd waits for a window of
//     ACKWindowSize messages or its alive timer, up to a second), so the
//     sender soon knows what arrived; ACKs and NACKs are not acknowledged
//     early, so two ctq nodes never ping-pong ACKs;
//   - an ACK of [from, to] sends again what the resend queue holds from
//     before from (ftfw.ack): the peer acknowledges and NACKs in sequence
//     order, so those messages were NACKed and the NACK was lost (or their
//     ACK was lost, and the resend is harmless).
const (
	// probeMin is the first probe's delay after data went out.
	probeMin = 50 * time.Millisecond
	// ackDelay is how long a received message waits for its ACK (and
	// the messages after it for the same ACK).
	ackDelay = 20 * time.Millisecond
)

// probe is the state of the probes; owned by the loop.
type probe struct {
	// timer is the pending probe, delay its wait, gen the number of the
	// last one armed (a stopped timer's call that is already on its way
	// to the loop finds a newer gen and does nothing).
	timer Timer
	delay time.Duration
	gen   uint64
	// ackTimer is the pending quick ACK.
	ackTimer Timer
}

// dataSent arms the probe after data went out, at probeMin unless it is
// armed that soon already.
func (n *Node) dataSent() {
	p := &n.probe
	if n.ftfw == nil || p.timer != nil && p.delay == probeMin {
		return
	}
	if p.timer != nil {
		p.timer.Stop()
	}
	p.delay = probeMin
	n.armProbe()
}

// armProbe schedules the probe after the current delay.
func (n *Node) armProbe() {
	p := &n.probe
	p.gen++
	gen := p.gen
	p.timer = n.later(p.delay, func() {
		if gen == p.gen {
			n.runProbe()
		}
	})
}

// runProbe sends an ALIVE when the resend queue holds unacknowledged data,
// and arms the next probe after twice the delay (at most aliveInterval).
func (n *Node) runProbe() {
	p := &n.probe
	p.timer = nil
	if !n.ftfw.unacked() {
		return
	}
	n.stats.Probes++
	n.txq = append(n.txq, txItem{ctl: wire.FlagAlive})
	n.checkStall()
	p.delay = min(2*p.delay, aliveInterval)
	n.armProbe()
}

// ackSoon arms the quick ACK after a data message or an ALIVE was
// received in sequence or after a NACKed gap (FTFW then holds an ACK
// pending).
func (n *Node) ackSoon(h wire.Header) {
	p := &n.probe
	if !(h.IsData() || h.IsAlive()) || !n.ftfw.ackFromSet || p.ackTimer != nil {
		return
	}
	p.ackTimer = n.later(ackDelay, func() {
		p.ackTimer = nil
		if n.ftfw.ackFromSet && n.ftfw.rxSet {
			n.stats.QuickACKs++
			n.txq = append(n.txq, n.ftfw.alive())
		}
	})
}
