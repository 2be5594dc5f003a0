package node

import (
	"context"
	"testing"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/wire"
)

// The tests of this file check the node's defences against what a peer
// (or anyone, without AuthKey) sends, and the repair of the losses the
// node knows of (guard.go), on fakes.

// counters returns the node's counters, failing the test on an error.
func (f *fakeNode) counters(t *testing.T) Stats {
	t.Helper()
	st, err := f.Stats(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// hasExternal reports whether the external cache holds a live entry of g.
func (f *fakeNode) hasExternal(g engine.Flow) bool {
	e, ok := f.external.Get(cache.KeyOf(&g))
	return ok && !e.Dead()
}

// controls returns the control messages of msgs with all of flags set.
func controls(msgs []*wire.Message, flags wire.Flags) []*wire.Message {
	var out []*wire.Message
	for _, m := range msgs {
		if m.Header.Type == wire.MsgControl && m.Header.Flags&flags == flags {
			out = append(out, m)
		}
	}
	return out
}

// dataCount counts the flow messages of msgs.
func dataCount(msgs []*wire.Message) int {
	n := 0
	for _, m := range msgs {
		if m.CT != nil {
			n++
		}
	}
	return n
}

// TestSeqJump: in FTFW, one message whose sequence number jumps far from
// the expected one (a forgery without AuthKey) is dropped and counted,
// and the genuine messages that follow land in the external cache; a
// sender that keeps to a new sequence (two consecutive numbers) is
// followed again, with a NACK of the message dropped on the way.
func TestSeqJump(t *testing.T) {
	f := runFake(t, ftfwConf)
	f.receive(t, ctMsg(wire.MsgCTNew, 5000, flow(1)))
	f.waitLoop(t, "flow 1 in the external cache", func() bool { return f.hasExternal(flow(1)) })
	f.receive(t, ctl(5001+1<<30, wire.FlagAlive, 0, 0))
	f.receive(t, ctMsg(wire.MsgCTNew, 5001, flow(2)), ctMsg(wire.MsgCTNew, 5002, flow(3)))
	f.waitLoop(t, "flows 2 and 3 in the external cache", func() bool { return f.hasExternal(flow(2)) && f.hasExternal(flow(3)) })
	if st := f.counters(t); st.SeqJumps != 1 || st.SeqBefore != 0 {
		t.Errorf("jumps %d, before %d; want 1, 0", st.SeqJumps, st.SeqBefore)
	}
	f.sent(t)

	// A forger keeping to its own sequence takes over the sequence; the
	// genuine peer takes it back with its second message, and the first
	// is asked for again.
	const x = 5003 + 1<<30
	f.receive(t, ctl(x, wire.FlagAlive, 0, 0), ctl(x+1, wire.FlagAlive, 0, 0))
	f.waitLoop(t, "the forged sequence followed", func() bool { return f.ftfw.rxLast == x+1 })
	f.receive(t, ctMsg(wire.MsgCTNew, 5003, flow(4)))
	f.receive(t, ctMsg(wire.MsgCTNew, 5004, flow(5)))
	f.waitLoop(t, "flow 5 in the external cache", func() bool { return f.hasExternal(flow(5)) })
	f.l.take(t, 1, func(m *wire.Message) bool {
		return m.Header.IsNACK() && m.Control != nil && m.Control.From == 5003 && m.Control.To == 5003
	}, nil)
	f.receive(t, ctMsg(wire.MsgCTNew, 5005, flow(4)))
	f.waitLoop(t, "flow 4 in the external cache", func() bool { return f.hasExternal(flow(4)) })
	if st := f.counters(t); st.SeqReanchors != 2 {
		t.Errorf("re-anchors %d, want 2", st.SeqReanchors)
	}
}

// TestSeqJumpUnit: FTFW's receiver takes a gap within the window, drops
// a message far outside it, and re-anchors on two consecutive ones.
func TestSeqJumpUnit(t *testing.T) {
	s := newFTFW(300, 10, func(*cache.Entry) {})
	s.recv(dataMsg(100, 0), nil)
	if v, _, _ := s.recv(dataMsg(100+seqWindow/2, 0), nil); v != verdictData || s.rxLast != 100+seqWindow/2 {
		t.Fatalf("gap within the window: %v, last %d", v, s.rxLast)
	}
	last := s.rxLast
	for _, seq := range []uint32{last + 2*seqWindow, last - 2*seqWindow, last + 1<<31} {
		if v, _, _ := s.recv(dataMsg(seq, 0), nil); v != verdictDrop || s.rxLast != last {
			t.Errorf("seq %d: %v, last %d; want dropped, %d", seq, v, s.rxLast, last)
		}
	}
	if s.jumps != 3 {
		t.Errorf("jumps %d, want 3", s.jumps)
	}
	if v, _, _ := s.recv(dataMsg(last+1, 0), nil); v != verdictData {
		t.Errorf("in sequence after the jumps: %v", v)
	}
}

// TestResyncFlood: 1000 RESYNCs in one tick are answered with one bulk
// send, and those after it with one more a second later; not 1000.
func TestResyncFlood(t *testing.T) {
	flows := []engine.Flow{flow(0), flow(1), flow(2), flow(3), flow(4)}
	f := runFake(t, notrackConf, flows...)
	f.data(t, len(flows)) // the start-up advertisement
	seq := uint32(100)
	for i := range 100 {
		var msgs []*wire.Message
		for range 10 {
			msgs = append(msgs, ctl(seq, wire.FlagResync, 0, 0))
			seq++
		}
		f.receive(t, msgs...)
		f.waitLoop(t, "the RESYNCs handled", func() bool { return f.stats.RecvControl == uint64(10*(i+1)) })
	}
	if n := dataCount(f.sent(t)); n != len(flows) {
		t.Errorf("1000 RESYNCs in a tick answered with %d messages, want one bulk send of %d", n, len(flows))
	}
	f.clk.advance(time.Second)
	if n := dataCount(f.sent(t)); n != len(flows) {
		t.Errorf("a second later: %d messages, want one bulk send of %d", n, len(flows))
	}
	for range 3 {
		f.clk.advance(time.Second)
	}
	if n := dataCount(f.sent(t)); n != 0 {
		t.Errorf("later: %d messages, want none", n)
	}
	if st := f.counters(t); st.ResyncsAnswered != 2 || st.ResyncsCoalesced != 998 {
		t.Errorf("answered %d, coalesced %d; want 2, 998", st.ResyncsAnswered, st.ResyncsCoalesced)
	}
}

// TestNACKFlood: NACKs of everything, 1000 in one tick, resend at most a
// resend queue's worth; the rest waits for a repair, sent once.
func TestNACKFlood(t *testing.T) {
	// A window larger than the flood: the node acknowledges none of it.
	// Nine flows fill the resend queue of 10 up to its reserve for
	// control messages (window.go).
	f := runFake(t, `Sync {
	Mode FTFW { ACKWindowSize 5000 ResendQueueSize 10 }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`)
	for i := range 9 {
		f.k.event(engine.EventNew, flow(i))
	}
	first := f.data(t, 9)[0].Header.Seq
	f.sent(t)
	seq := uint32(7000)
	for i := range 100 {
		var msgs []*wire.Message
		for range 10 {
			msgs = append(msgs, ctl(seq, wire.FlagNACK, first, first+1<<20))
			seq++
		}
		f.receive(t, msgs...)
		f.waitLoop(t, "the NACKs handled", func() bool { return f.stats.RecvControl == uint64(10*(i+1)) })
	}
	if n := dataCount(f.sent(t)); n > 10 {
		t.Errorf("1000 NACKs in a tick resent %d messages, want at most 10", n)
	}
	st := f.counters(t)
	if st.NACKLimited == 0 {
		t.Errorf("no resend refused for the budget: %+v", st)
	}
	f.clk.advance(time.Second)
	if n := dataCount(f.sent(t)); n > 10 {
		t.Errorf("the repair a second later sent %d messages, want at most 10", n)
	}
}

// TestExternalFull: forged NEW messages fill the external cache
// (HashLimit); the refusal of a genuine entry is counted and starts a
// rebuild: a RESYNC, after which what the peer did not send again is
// evicted, and a second RESYNC brings in what was refused.
func TestExternalFull(t *testing.T) {
	f := runFake(t, notrackConf+"\nGeneral { HashLimit 4 }")
	for i := range 4 {
		f.receive(t, ctMsg(wire.MsgCTNew, uint32(1+i), flow(100+i)))
	}
	f.waitLoop(t, "the external cache full", func() bool { return f.external.Len() == 4 })
	f.receive(t, ctMsg(wire.MsgCTNew, 5, flow(1)))
	f.waitLoop(t, "the genuine entry refused", func() bool { return f.external.Stats().AddFailFull == 1 })
	if n := len(controls(f.sent(t), wire.FlagResync)); n != 1 {
		t.Fatalf("%d RESYNC sent for the full external cache, want 1", n)
	}
	// The peer answers with its internal cache: flows 1 and 2.
	f.receive(t, ctMsg(wire.MsgCTNew, 6, flow(1)), ctMsg(wire.MsgCTNew, 7, flow(2)))
	f.waitLoop(t, "the answer refused", func() bool { return f.external.Stats().AddFailFull == 3 })
	for range int(rebuildSettle / time.Second) {
		f.clk.advance(time.Second)
	}
	f.waitLoop(t, "the forged entries evicted", func() bool { return f.external.Len() == 0 })
	if n := len(controls(f.sent(t), wire.FlagResync)); n != 1 {
		t.Fatalf("%d RESYNC sent after the eviction, want 1", n)
	}
	f.receive(t, ctMsg(wire.MsgCTNew, 8, flow(1)), ctMsg(wire.MsgCTNew, 9, flow(2)))
	f.waitLoop(t, "the genuine entries in", func() bool { return f.hasExternal(flow(1)) && f.hasExternal(flow(2)) })
	if st := f.counters(t); st.ExternalFull != 3 || st.ExternalEvicted != 4 || st.Rebuilds != 1 {
		t.Errorf("full %d, evicted %d, rebuilds %d; want 3, 4, 1", st.ExternalFull, st.ExternalEvicted, st.Rebuilds)
	}
}

// pairConf is FTFW with a resend queue of 4.
const pairConf = `Sync {
	Mode FTFW { ACKWindowSize 2 ResendQueueSize 4 }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`

// TestResendOverflowRepair: entries the resend queue drops unacknowledged
// (a control message needed the place) are sent again once the queue has
// dropped nothing for a second.
func TestResendOverflowRepair(t *testing.T) {
	f := runFake(t, `Sync {
	Mode FTFW { ACKWindowSize 5000 ResendQueueSize 4 }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`)
	for i := range 4 {
		f.k.event(engine.EventNew, flow(i))
	}
	seqs := f.data(t, 4)
	// The node's RESYNC request pushes the oldest flow out of the full
	// queue.
	if err := f.RequestResync(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.waitLoop(t, "the flow dropped", func() bool { return f.ftfw.rsDropped == 1 })
	f.sent(t)
	f.clk.advance(repairDelay)
	// The repair waits for room: the peer acknowledges flow 1.
	f.receive(t, ctl(7000, wire.FlagACK, seqs[1].Header.Seq, seqs[1].Header.Seq))
	msgs := f.data(t, 1)
	var g engine.Flow
	msgs[0].CT.ToFlow(&g)
	if g.Sport != flow(0).Sport {
		t.Errorf("repair sent %v, want flow 0", msgString(msgs[0]))
	}
	if st := f.counters(t); st.ResendDropped != 1 || st.Repaired != 1 {
		t.Errorf("resend queue dropped %d, repaired %d; want 1, 1", st.ResendDropped, st.Repaired)
	}
}

// TestHelloRepair: a HELLO from the peer after the handshake (it
// restarted) empties the resend queue, as in conntrackd; the node then
// sends its whole internal cache, and what the queue held.
func TestHelloRepair(t *testing.T) {
	f := runFake(t, `Sync {
	Mode FTFW { ACKWindowSize 2 ResendQueueSize 100 }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`)
	f.k.event(engine.EventNew, flow(1))
	seq := f.data(t, 1)[0].Header.Seq
	f.receive(t, ctl(7000, wire.FlagACK|wire.FlagHello|wire.FlagHelloBack, seq, seq))
	f.waitLoop(t, "the handshake", func() bool { return f.ftfw.hello == helloDone && f.ftfw.rs.Len() <= 1 })
	f.receive(t, ctl(7001, wire.FlagAlive, 0, 0))
	for i := 2; i <= 6; i++ {
		f.k.event(engine.EventNew, flow(i))
	}
	f.data(t, 5) // lost: the peer stops (and restarts)
	f.receive(t, ctl(100, wire.FlagAlive|wire.FlagHello, 0, 0))
	f.waitLoop(t, "the HELLO handled", func() bool { return f.ftfw.rxLast == 100 })
	got := map[int]bool{}
	for range 3 {
		for _, m := range f.sent(t) {
			if m.CT != nil {
				var g engine.Flow
				m.CT.ToFlow(&g)
				got[g.Sport-10000] = true
			}
		}
		f.clk.advance(time.Second)
	}
	for i := 1; i <= 6; i++ {
		if !got[i] {
			t.Errorf("flow %d not sent again after the peer's HELLO (sent: %v)", i, got)
		}
	}
	if st := f.counters(t); st.PeerRestarts != 1 {
		t.Errorf("peer restarts %d, want 1", st.PeerRestarts)
	}
}
