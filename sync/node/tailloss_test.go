package node

import (
	"math/rand/v2"
	"testing"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/wire"
)

// lossConf is FTFW as users run it: a window of 300, a large resend
// queue.
const lossConf = `Sync {
	Mode FTFW { ACKWindowSize 300 ResendQueueSize 131072 }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`

// carries reports whether msgs hold a data message of flow i.
func carries(msgs []*wire.Message, i int) bool {
	for _, m := range msgs {
		if m.CT != nil && m.CT.Orig.Sport == uint16(10000+i) {
			return true
		}
	}
	return false
}

// hasFlags reports whether msgs hold a control message with flags.
func hasFlags(msgs []*wire.Message, flags wire.Flags) bool {
	for _, m := range msgs {
		if m.Header.Type == wire.MsgControl && m.Header.Flags&flags != 0 {
			return true
		}
	}
	return false
}

// once drops the first datagram pick accepts.
func once(pick func(msgs []*wire.Message) bool) func([]*wire.Message, int) bool {
	done := false
	return func(msgs []*wire.Message, _ int) bool {
		if !done && pick(msgs) {
			done = true
			return true
		}
		return false
	}
}

// burst feeds A's kernel NEW events of flows from..to and waits until A
// has sent them.
func (p *fakePair) burst(t *testing.T, from, to int) {
	t.Helper()
	for i := from; i <= to; i++ {
		p.a.k.event(engine.EventNew, flow(i))
	}
	p.a.waitLoop(t, "the burst sent", func() bool {
		_, ok := p.a.internal.Get(cache.KeyOf(ptr(flow(to))))
		return ok && len(p.a.txq) == 0
	})
}

// warm sends a first flow and lets two seconds pass: the HELLO handshakes
// are over (a HELLO empties the resend queue, whose entries then wait for
// a repair).
func (p *fakePair) warm(t *testing.T) {
	t.Helper()
	p.burst(t, 0, 0)
	for range 200 {
		p.clk.advance(10 * time.Millisecond)
		p.quiesce(t)
	}
	p.converge(t, 10*time.Millisecond, time.Second)
}

func ptr(f engine.Flow) *engine.Flow { return &f }

// TestTailLossProbe: the last datagram of a burst is lost. conntrackd's
// receiver learns of it from the ALIVE of an idle second; the probe after
// the burst shows it at once, and B holds every flow well within a second.
func TestTailLossProbe(t *testing.T) {
	p := runFakePair(t, lossConf)
	p.warm(t)
	p.la.setDrop(once(func(msgs []*wire.Message) bool { return carries(msgs, 20) }))
	p.burst(t, 1, 20)
	took := p.converge(t, 10*time.Millisecond, 5*time.Second)
	t.Logf("B held the lost end of the burst after %v", took)
	if took >= 500*time.Millisecond {
		t.Errorf("B held the lost end of the burst after %v, want well within a second", took)
	}
	if st := p.a.counters(t); st.Probes == 0 {
		t.Error("no probe sent")
	}
}

// TestLostNACK: a data datagram and then B's NACK of it are lost.
// conntrackd's sender keeps the entry in its resend queue until the queue
// overflows; here B's next ACK, which leaves the entry out, has it sent
// again.
func TestLostNACK(t *testing.T) {
	p := runFakePair(t, lossConf)
	p.warm(t)
	p.la.setDrop(once(func(msgs []*wire.Message) bool { return carries(msgs, 10) }))
	p.lb.setDrop(once(func(msgs []*wire.Message) bool { return hasFlags(msgs, wire.FlagNACK) }))
	p.burst(t, 1, 10)
	p.burst(t, 11, 20)
	took := p.converge(t, 10*time.Millisecond, 5*time.Second)
	if took >= time.Second {
		t.Errorf("B held the flow whose NACK was lost after %v, want within a second", took)
	}
	if st := p.a.counters(t); st.ImplicitResends == 0 {
		t.Error("no implicit resend counted")
	}
}

// TestRandomLoss: 30% of the datagrams lost each way (a fixed pattern),
// while 200 flows start and each changes twice: B ends with every flow in
// its last state.
func TestRandomLoss(t *testing.T) {
	p := runFakePair(t, lossConf)
	p.warm(t)
	for _, l := range []*lossyLink{p.la, p.lb} {
		r := rand.New(rand.NewPCG(1, uint64(len(l.sent))))
		l.setDrop(func([]*wire.Message, int) bool { return r.IntN(100) < 30 })
	}
	for i := 1; i <= 200; i++ {
		p.a.k.event(engine.EventNew, flow(i))
	}
	for round := 1; round <= 2; round++ {
		for i := 1; i <= 200; i++ {
			f := flow(i)
			f.Mark = 1000*round + i
			p.a.k.event(engine.EventUpdate, f)
		}
	}
	last := flow(200)
	last.Mark = 2200
	p.a.waitLoop(t, "the changes sent", func() bool {
		e, ok := p.a.internal.Get(cache.KeyOf(&last))
		return ok && e.Flow.Mark == 2200 && len(p.a.txq) == 0
	})
	took := p.converge(t, 10*time.Millisecond, 10*time.Second)
	t.Logf("B held every flow in its last state %v after the last change", took)
	if took > 2*time.Second {
		t.Errorf("B held every flow after %v, want about a second at most", took)
	}
}

// TestQuickACKNoPingPong: two idle nodes acknowledge each other's ALIVEs
// and ACKs no faster than conntrackd's alive timer: a quick ACK answers
// data and ALIVEs, not ACKs.
func TestQuickACKNoPingPong(t *testing.T) {
	p := runFakePair(t, lossConf)
	p.warm(t)
	before := p.la.msgs.Load() + p.lb.msgs.Load()
	for range 500 {
		p.clk.advance(10 * time.Millisecond)
		p.quiesce(t)
	}
	if n := p.la.msgs.Load() + p.lb.msgs.Load() - before; n > 15 {
		t.Errorf("%d messages in 5 idle seconds, want about two a second", n)
	}
}

// TestImplicitNACK: an ACK that leaves out the start of the resend queue
// sends it again (the peer's NACK of it was lost), control messages
// included; what the ACK covers leaves the queue.
func TestImplicitNACK(t *testing.T) {
	released := 0
	s := newFTFW(300, 100, func(*cache.Entry) { released++ })
	es := []*cache.Entry{{}, {}, {}, {}}
	names := map[*cache.Entry]string{es[0]: "e0", es[1]: "e1", es[2]: "e2", es[3]: "e3"}
	s.sent(txItem{entry: es[0]}, 10)
	s.sent(txItem{ctl: wire.FlagNACK, from: 5, to: 6}, 11)
	s.sent(txItem{entry: es[1]}, 12)
	s.sent(txItem{entry: es[2]}, 13)
	s.sent(txItem{entry: es[3]}, 14)
	v, _, tx := s.recv(ctl(500, wire.FlagACK, 12, 13), nil)
	if v != verdictCtl {
		t.Fatalf("verdict %v", v)
	}
	if got := items(tx, names); len(got) != 2 || got[0] != "e0" || got[1] != "NACK[5,6]" {
		t.Errorf("sent again %v, want [e0 NACK[5,6]]", got)
	}
	if s.rs.Len() != 1 || released != 2 || s.implicit != 2 {
		t.Errorf("resend queue %d, released %d, implicit %d; want 1, 2, 2", s.rs.Len(), released, s.implicit)
	}
}
