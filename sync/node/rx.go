//go:build linux

package node

import (
	"errors"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/wire"
)

// datagram handles one received datagram.
func (n *Node) datagram(d []byte) {
	wire.Decode(d, func(m *wire.Message, err error) error {
		if err != nil {
			var werr *wire.Error
			if errors.As(err, &werr) {
				n.stats.RecvErrors[werr.Kind]++
			}
			return nil
		}
		n.message(m)
		return nil
	})
}

// message handles one well-formed message the NOTRACK way: sequence
// numbers are tracked for the statistics only, data goes into the
// external cache, RESYNC is answered with a bulk send, ALIVE needs nothing,
// and the FTFW control messages (ACK, NACK) are counted as malformed
// headers, as conntrackd's NOTRACK receiver does. ALARM handles messages
// the same way but ignores every message with a flag set.
func (n *Node) message(m *wire.Message) {
	if n.ftfw != nil {
		n.messageFTFW(m)
		return
	}
	h := m.Header
	if n.alarm != nil && h.Flags != 0 {
		return // ALARM ignores any flagged message, as conntrackd does
	}
	if n.recvSet {
		want := n.lastRecv + 1
		switch {
		case h.Seq == want:
		case wire.SeqBefore(want, h.Seq):
			n.stats.SeqLost += uint64(h.Seq - n.lastRecv + 1)
		default:
			n.stats.SeqBefore++
		}
	}
	switch {
	case h.IsData():
		n.data(m)
	case h.IsResync():
		n.stats.RecvControl++
		n.answerResync("resync requested by the peer")
	case h.IsAlive():
		n.stats.RecvControl++
	default:
		n.stats.RecvErrors[wire.KindBadHeader]++
		return
	}
	n.lastRecv, n.recvSet = h.Seq, true
}

// messageFTFW handles one well-formed message the FTFW way: the sequence
// check, acknowledgements and resends are FTFW's; data behind the
// expected sequence number is dropped.
func (n *Node) messageFTFW(m *wire.Message) {
	jumps, reanchors, flushed := n.ftfw.jumps, n.ftfw.reanchors, n.ftfw.flushed
	queued := len(n.txq)
	v, resync, tx := n.ftfw.recv(m, n.txq)
	n.txq = tx
	n.markResends(queued)
	n.afterFTFW(jumps, reanchors, flushed)
	if v == verdictData || v == verdictCtl {
		n.ackSoon(m.Header)
	}
	n.renackSoon()
	switch v {
	case verdictData:
		n.data(m)
	case verdictCtl:
		n.stats.RecvControl++
		if m.Header.IsACK() {
			n.guard.lastACK = n.clock.Now()
		}
		if resync {
			n.answerResync("resync requested by the peer")
		}
	case verdictBad:
		n.stats.RecvErrors[wire.KindBadHeader]++
	}
}

// data applies a received CT NEW, UPD or DEL to the external cache; EXP
// messages go to expectData.
func (n *Node) data(m *wire.Message) {
	if m.CT == nil {
		n.expectData(m)
		return
	}
	n.stats.RecvData++
	var f engine.Flow
	m.CT.ToFlow(&f)
	if n.alarm != nil {
		n.alarm.flows.received(n.alarm, cache.KeyOf(&f), m.Header.Type == wire.MsgCTDelete, n.clock.Now())
	}
	if n.injector != nil {
		n.inject(m.Header.Type, &f)
		return
	}
	if errors.Is(applyReceived(n.external, m.Header.Type, &f), cache.ErrFull) {
		n.externalFull("flow")
	}
}
