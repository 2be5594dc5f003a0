package node

import (
	"context"
	"testing"

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
