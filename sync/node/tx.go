//go:build linux

package node

import (
	"ctq/sync/cache"
	"ctq/sync/wire"
)

// enqueue queues a cache entry for transmission, once: it goes out with
// the state it has when the queue is sent. In ALARM, it (re)arms the
// entry's refresh.
func (n *Node) enqueue(e *cache.Entry) {
	if n.ftfw != nil {
		n.ftfw.takeBack(e)
		n.unrepaired(e)
	}
	if n.alarm != nil && !e.Dead() {
		n.alarm.flows.arm(n.alarm, e, n.clock.Now())
	}
	if n.queued[e] {
		return
	}
	n.queued[e] = true
	n.txq = append(n.txq, txItem{entry: e})
}

// bulkSend queues every live entry of the internal cache (the answer to a
// RESYNC, and `conntrackd -B`).
func (n *Node) bulkSend() {
	if n.noInternalCache() {
		n.bulkSendKernel()
		n.bulkSendKernelExp()
		return
	}
	n.internal.Range(func(e *cache.Entry) bool {
		if !e.Dead() {
			n.enqueue(e)
		}
		return true
	})
	n.bulkSendExp()
}

// isCtl reports whether the item is a control message.
func (it *txItem) isCtl() bool {
	return it.entry == nil && it.exp == nil
}

// msgType is the message type of an entry's state: NEW, UPD (ALIVE) or
// DEL (DEAD), of a flow or, with exp, of an expectation.
func msgType(s cache.State, exp bool) wire.MsgType {
	t := wire.MsgCTNew
	switch s {
	case cache.StateAlive:
		t = wire.MsgCTUpdate
	case cache.StateDead:
		t = wire.MsgCTDelete
	}
	if exp {
		t += wire.MsgExpNew - wire.MsgCTNew
	}
	return t
}

// dataMessage builds the message of a queued flow or expectation in its
// current state; with CommitTimeout set the timeout is left out, as
// conntrackd does (the pair shares the setting, and the receiver's commit
// gives every entry CommitTimeout).
func (n *Node) dataMessage(it txItem) *wire.Message {
	omit := n.cfg.Sync.CommitTimeout > 0
	m := &n.txMsg
	if x := it.exp; x != nil {
		n.txExp = wire.Expect{}
		n.txExp.FromExpect(&x.Expect)
		if omit {
			n.txExp.Attrs = n.txExp.Attrs.Without(wire.ExpAttrTimeout)
		}
		*m = wire.Message{Header: wire.Header{Type: msgType(x.State, true)}, Exp: &n.txExp}
		return m
	}
	n.txCT = wire.Conntrack{}
	n.txCT.FromFlow(&it.entry.Flow)
	if omit {
		n.txCT.Attrs = n.txCT.Attrs.Without(wire.AttrTimeout)
	}
	*m = wire.Message{Header: wire.Header{Type: msgType(it.entry.State, false)}, CT: &n.txCT}
	return m
}

// nextSeq returns the next sequence number; the first is the Unix time.
func (n *Node) nextSeq() uint32 {
	if !n.seqSet {
		n.seq = uint32(n.clock.Now().Unix())
		n.seqSet = true
	}
	s := n.seq
	n.seq++
	return s
}

// transmit sends the queue, packing messages into datagrams of at most
// the link's payload size, and reports whether it sent anything. In
// NOTRACK, DEAD entries leave the internal cache once their DEL is sent;
// in FTFW what was sent waits in the resend queue, and DEAD entries leave
// when the peer acknowledges them. In FTFW flows and expectations go out
// only while the resend queue has room for them (window.go): the others
// wait, in order, for the peer's ACKs.
func (n *Node) transmit() bool {
	if len(n.txq) == 0 && n.heldLen() == 0 {
		return false
	}
	flowControl := n.flowControlled()
	mark := len(n.held)
	sent, data := false, false
	for i, it := range n.txq {
		n.txq[i] = txItem{}
		if flowControl && !it.isCtl() {
			n.hold(it)
			continue
		}
		n.sendItem(it)
		sent = true
		data = data || !it.isCtl()
	}
	n.txq = n.txq[:0]
	if flowControl && n.sendHeld(mark) {
		sent, data = true, true
	}
	n.sendBuf(len(n.buf))
	if data {
		n.dataSent()
	}
	return sent
}

// sendItem buffers one queued item: a flow or expectation in its state
// now, or a control message.
func (n *Node) sendItem(it txItem) {
	if it.exp != nil {
		delete(n.queuedExp, it.exp)
		n.send(n.dataMessage(it), it)
		n.stats.SentData++
		if n.ftfw == nil && it.exp.Dead() {
			n.internalExp.Release(it.exp)
		}
		return
	}
	if it.entry == nil {
		m := &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: it.ctl}}
		if it.ctl&(wire.FlagACK|wire.FlagNACK|wire.FlagResync) != 0 {
			m.Control = &wire.Control{From: it.from, To: it.to}
		}
		n.send(m, it)
		n.stats.SentControl++
		return
	}
	e := it.entry
	delete(n.queued, e)
	n.send(n.dataMessage(it), it)
	n.stats.SentData++
	if n.ftfw == nil && e.Dead() {
		n.internal.Release(e)
	}
}

// send stamps m with FTFW's HELLO flags, buffers it and lets FTFW keep it
// for resending.
func (n *Node) send(m *wire.Message, it txItem) {
	if n.ftfw != nil {
		n.ftfw.stamp(&m.Header.Flags)
	}
	seq, ok := n.appendMsg(m)
	if ok && n.ftfw != nil {
		n.ftfw.sent(it, seq)
	}
}

// appendMsg encodes m with the next sequence number into the transmit
// buffer; when the buffer would reach the payload size, what it held
// before goes out first (conntrackd adds a message only while
// buffered + length < size).
func (n *Node) appendMsg(m *wire.Message) (seq uint32, ok bool) {
	m.Header.Seq = n.nextSeq()
	mark := len(n.buf)
	b, err := wire.AppendMessage(n.buf, m)
	if err != nil {
		// FromFlow makes only valid messages; count the impossible.
		n.stats.SendMalformed++
		n.buf = n.buf[:mark]
		return 0, false
	}
	n.buf = b
	if len(n.buf) >= n.link.MaxPayload() && mark > 0 {
		n.sendBuf(mark)
	}
	return m.Header.Seq, true
}

// sendBuf sends the first end bytes of the buffer and keeps the rest.
func (n *Node) sendBuf(end int) {
	if end == 0 {
		return
	}
	if err := n.link.Send(n.buf[:end]); err != nil {
		n.stats.SendErrors++
	}
	rest := copy(n.buf, n.buf[end:])
	n.buf = n.buf[:rest]
}
