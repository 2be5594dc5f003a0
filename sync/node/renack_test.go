package node

import (
	"testing"
	"time"

	"ctq/sync/cache"
	"ctq/sync/wire"
)

// TestRenack: a gap in the peer's sequence is NACKed at once and then
// renackTries times more, renackInterval apart, and no more.
func TestRenack(t *testing.T) {
	f := runFake(t, lossConf)
	f.receive(t, ctMsg(wire.MsgCTNew, 100, flow(1)))
	f.receive(t, ctMsg(wire.MsgCTNew, 102, flow(3)))
	nacks := func() int {
		n := 0
		for _, m := range f.sent(t) {
			if m.Header.IsNACK() {
				if m.Control.From != 101 || m.Control.To != 101 {
					t.Errorf("NACK [%d,%d], want [101,101]", m.Control.From, m.Control.To)
				}
				n++
			}
		}
		return n
	}
	f.waitLoop(t, "the gap NACKed", func() bool { return f.ftfw.lost > 0 })
	if n := nacks(); n != 1 {
		t.Fatalf("%d NACKs at once, want 1", n)
	}
	for i := range renackTries {
		f.clk.advance(renackInterval)
		if n := nacks(); n != 1 {
			t.Errorf("repetition %d: %d NACKs, want 1", i+1, n)
		}
	}
	f.clk.advance(time.Second)
	if n := nacks(); n != 0 {
		t.Errorf("%d NACKs after the repetitions, want none", n)
	}
	if st := f.counters(t); st.RepeatedNACKs != renackTries {
		t.Errorf("repeated NACKs %d, want %d", st.RepeatedNACKs, renackTries)
	}
}

// TestRepeatedHello: a peer in its handshake says HELLO on every message;
// those that go on from its sequence are checked for gaps (a gap is
// NACKed, not acknowledged), and the resend queue is emptied only by the
// first.
func TestRepeatedHello(t *testing.T) {
	s := newFTFW(300, 100, func(*cache.Entry) {})
	e := &cache.Entry{}
	_, _, tx := s.recv(dataMsg(100, wire.FlagHello), nil)
	if len(tx) != 0 {
		t.Fatalf("first HELLO: sent %v", items(tx, nil))
	}
	s.sent(txItem{entry: e}, 7)
	if _, _, tx = s.recv(dataMsg(101, wire.FlagHello), nil); len(tx) != 0 || s.rs.Len() != 1 {
		t.Fatalf("HELLO in sequence: sent %v, resend queue %d", items(tx, nil), s.rs.Len())
	}
	_, _, tx = s.recv(dataMsg(104, wire.FlagHello), nil)
	if got := items(tx, nil); len(got) != 2 || got[0] != "ACK[100,101]" || got[1] != "NACK[102,103]" {
		t.Errorf("HELLO after a gap: sent %v, want [ACK[100,101] NACK[102,103]]", got)
	}
	// A HELLO far from the sequence: the peer restarted.
	if _, _, tx = s.recv(dataMsg(900000, wire.FlagHello), nil); s.rs.Len() != 0 || len(tx) != 1 {
		t.Errorf("HELLO of a restarted peer: resend queue %d, sent %v", s.rs.Len(), items(tx, map[*cache.Entry]string{e: "e"}))
	}
}

// TestHelloAcked: what the peer acknowledges before its HELLO_BACK (a
// conntrackd peer acknowledges, without checking for gaps, the messages
// that say HELLO) goes out again once the HELLO_BACK comes.
func TestHelloAcked(t *testing.T) {
	released := 0
	s := newFTFW(300, 100, func(*cache.Entry) { released++ })
	e := &cache.Entry{}
	var f wire.Flags
	s.stamp(&f) // HELLO: the handshake starts
	s.sent(txItem{entry: e}, 10)
	if _, _, tx := s.recv(ctl(500, wire.FlagACK, 10, 10), nil); len(tx) != 0 || released != 0 || s.rs.Len() != 0 {
		t.Fatalf("ACK before HELLO_BACK: sent %d, released %d, resend queue %d; want 0, 0, 0", len(tx), released, s.rs.Len())
	}
	_, _, tx := s.recv(ctl(501, wire.FlagAlive|wire.FlagHelloBack, 0, 0), nil)
	if got := items(tx, map[*cache.Entry]string{e: "e"}); len(got) != 1 || got[0] != "e" {
		t.Errorf("after the HELLO_BACK: sent %v, want [e]", got)
	}
	// Once the handshake is over, an ACK releases.
	s.sent(txItem{entry: e}, 11)
	s.recv(ctl(502, wire.FlagACK, 11, 11), nil)
	if released != 1 {
		t.Errorf("released %d after the handshake, want 1", released)
	}
}
