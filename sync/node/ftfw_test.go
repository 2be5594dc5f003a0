package node

import (
	"fmt"
	"reflect"
	"testing"

	"ctq/sync/cache"
	"ctq/sync/wire"
)

// ctl builds a received control message.
func ctl(seq uint32, flags wire.Flags, from, to uint32) *wire.Message {
	m := &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: flags, Seq: seq}}
	if flags&(wire.FlagACK|wire.FlagNACK|wire.FlagResync) != 0 {
		m.Control = &wire.Control{From: from, To: to}
	}
	return m
}

// dataMsg builds a received CT NEW header.
func dataMsg(seq uint32, flags wire.Flags) *wire.Message {
	return &wire.Message{Header: wire.Header{Type: wire.MsgCTNew, Flags: flags, Seq: seq}, CT: &wire.Conntrack{}}
}

// itemString describes a transmit-queue item for comparisons.
func itemString(it txItem, names map[*cache.Entry]string) string {
	if it.entry != nil {
		return names[it.entry]
	}
	if it.ctl&(wire.FlagACK|wire.FlagNACK) != 0 {
		return fmt.Sprintf("%v[%d,%d]", it.ctl, it.from, it.to)
	}
	return it.ctl.String()
}

func items(tx []txItem, names map[*cache.Entry]string) []string {
	out := []string{}
	for _, it := range tx {
		out = append(out, itemString(it, names))
	}
	return out
}

func TestFTFWHandshake(t *testing.T) {
	// The start-up exchange captured between two conntrackd:
	// A→B ALIVE|HELLO, B→A ACK|HELLO|HELLO_BACK [a,a], A→B ACK|HELLO_BACK [b,b].
	a := newFTFW(300, 10, func(*cache.Entry) {})
	b := newFTFW(300, 10, func(*cache.Entry) {})
	var f wire.Flags = wire.FlagAlive
	a.stamp(&f)
	if f != wire.FlagAlive|wire.FlagHello {
		t.Fatalf("A's first flags %v", f)
	}
	v, _, tx := b.recv(ctl(1000, f, 0, 0), nil)
	if v != verdictCtl || len(tx) != 0 {
		t.Fatalf("B: %v %v", v, tx)
	}
	ack := b.alive()
	f = ack.ctl
	b.stamp(&f)
	if f != wire.FlagACK|wire.FlagHello|wire.FlagHelloBack || ack.from != 1000 || ack.to != 1000 {
		t.Fatalf("B's answer %v [%d,%d]", f, ack.from, ack.to)
	}
	b.sent(txItem{ctl: ack.ctl, from: ack.from, to: ack.to}, 5000)
	v, _, _ = a.recv(&wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: f, Seq: 5000},
		Control: &wire.Control{From: 1000, To: 1000}}, nil)
	if v != verdictCtl || a.hello != helloDone {
		t.Fatalf("A: %v hello %v", v, a.hello)
	}
	ack = a.alive()
	f = ack.ctl
	a.stamp(&f)
	if f != wire.FlagACK|wire.FlagHelloBack || ack.from != 5000 || ack.to != 5000 {
		t.Fatalf("A's answer %v [%d,%d]", f, ack.from, ack.to)
	}
	v, _, _ = b.recv(ctl(1001, f, 5000, 5000), nil)
	if v != verdictCtl || b.hello != helloDone || b.rs.Len() != 0 {
		t.Fatalf("B: %v hello %v rs %d", v, b.hello, b.rs.Len())
	}
	// Both done: no more HELLO flags.
	f = 0
	a.stamp(&f)
	b.stamp(&f)
	if f != 0 {
		t.Errorf("flags after the handshake %v", f)
	}
	// Nothing left to acknowledge on B's side but A's last ACK.
	if it := b.alive(); it.ctl != wire.FlagACK || it.from != 1001 || it.to != 1001 {
		t.Errorf("B's next alive %+v", it)
	}
	if it := b.alive(); it.ctl != wire.FlagAlive {
		t.Errorf("B's alive with nothing to acknowledge %+v", it)
	}
}

func TestFTFWReceiveWindow(t *testing.T) {
	s := newFTFW(3, 10, func(*cache.Entry) {})
	var tx []txItem
	var v verdict
	for seq := uint32(10); seq <= 13; seq++ {
		v, _, tx = s.recv(dataMsg(seq, 0), tx)
		if v != verdictData {
			t.Fatalf("seq %d: %v", seq, v)
		}
	}
	if got := items(tx, nil); !reflect.DeepEqual(got, []string{"ACK[10,12]"}) {
		t.Errorf("after a window: %v", got)
	}
	tx = tx[:0]
	// A gap: 14..16 missed. The pending ACK goes first, then the NACK.
	v, _, tx = s.recv(dataMsg(17, 0), tx)
	if got := items(tx, nil); v != verdictData || !reflect.DeepEqual(got, []string{"ACK[13,13]", "NACK[14,16]"}) {
		t.Errorf("after a gap: %v %v", v, got)
	}
	if s.lost != 17-13+1 {
		t.Errorf("lost %d, want conntrackd's 5", s.lost)
	}
	tx = tx[:0]
	// Behind: dropped, not processed, not tracked.
	v, _, tx = s.recv(dataMsg(15, 0), tx)
	if v != verdictDrop || s.before != 1 || s.rxLast != 17 || len(tx) != 0 {
		t.Errorf("stale: %v before %d last %d tx %v", v, s.before, s.rxLast, tx)
	}
	// The gap message counts in the new window: two more complete it.
	_, _, tx = s.recv(dataMsg(18, 0), tx)
	_, _, tx = s.recv(dataMsg(19, 0), tx)
	if got := items(tx, nil); !reflect.DeepEqual(got, []string{"ACK[17,19]"}) {
		t.Errorf("window after a gap: %v", got)
	}
	// A malformed ACK is bad and does not move the sequence.
	v, _, _ = s.recv(ctl(20, wire.FlagACK, 9, 8), nil)
	if v != verdictBad || s.rxLast != 19 {
		t.Errorf("bad ACK: %v last %d", v, s.rxLast)
	}
	v, resync, _ := s.recv(ctl(20, wire.FlagResync, 0, 0), nil)
	if v != verdictCtl || !resync {
		t.Errorf("RESYNC: %v %v", v, resync)
	}
	// A restarted peer (HELLO) is taken whatever its sequence number.
	v, _, _ = s.recv(dataMsg(3, wire.FlagHello), nil)
	if v != verdictData || s.rxLast != 3 || !s.sayHelloBack {
		t.Errorf("HELLO: %v last %d", v, s.rxLast)
	}
	// Serial-number arithmetic across the wrap.
	w := newFTFW(300, 10, func(*cache.Entry) {})
	w.recv(dataMsg(0xffffffff, 0), nil)
	if v, _, tx := w.recv(dataMsg(0, 0), nil); v != verdictData || len(tx) != 0 {
		t.Errorf("wrap: %v %v", v, tx)
	}
}

func TestFTFWResendQueue(t *testing.T) {
	var released []string
	names := map[*cache.Entry]string{}
	entries := make([]*cache.Entry, 5)
	for i := range entries {
		entries[i] = &cache.Entry{}
		names[entries[i]] = fmt.Sprintf("e%d", i)
	}
	s := newFTFW(300, 10, func(e *cache.Entry) { released = append(released, names[e]) })
	s.sent(txItem{entry: entries[0]}, 100)
	s.sent(txItem{ctl: wire.FlagACK, from: 7, to: 9}, 101)
	s.sent(txItem{entry: entries[1]}, 102)
	s.sent(txItem{ctl: wire.FlagAlive}, 103) // not kept
	s.sent(txItem{entry: entries[2]}, 104)
	s.sent(txItem{entry: entries[3]}, 105)
	if s.rs.Len() != 5 {
		t.Fatalf("resend queue %d, want 5", s.rs.Len())
	}
	// ACK [100,101] drops e0 and the ACK.
	s.recv(ctl(1, wire.FlagACK, 100, 101), nil)
	if !reflect.DeepEqual(released, []string{"e0"}) || s.rs.Len() != 3 {
		t.Fatalf("after ACK: released %v, queue %d", released, s.rs.Len())
	}
	// e3 changed: back to the transmit queue, not released.
	s.takeBack(entries[3])
	// NACK [102,105] resends e1 and e2 in order.
	_, _, tx := s.recv(ctl(2, wire.FlagNACK, 102, 105), nil)
	if got := items(tx, names); !reflect.DeepEqual(got, []string{"e1", "e2"}) || s.rs.Len() != 0 {
		t.Fatalf("NACK resends %v, queue %d", got, s.rs.Len())
	}
	// Resent with new numbers, then a full queue drops its oldest.
	s.rsLimit = 2
	s.sent(tx[0], 106)
	s.sent(tx[1], 107)
	s.sent(txItem{entry: entries[4]}, 108)
	if s.rsDropped != 1 || !reflect.DeepEqual(released, []string{"e0", "e1"}) {
		t.Fatalf("overflow: dropped %d released %v", s.rsDropped, released)
	}
	// A NACK for numbers no longer held is not answered.
	if _, _, tx := s.recv(ctl(3, wire.FlagNACK, 100, 105), nil); len(tx) != 0 {
		t.Errorf("NACK of forgotten numbers resent %v", items(tx, names))
	}
	// A HELLO flushes the queue: its entries go out again at once.
	_, _, tx = s.recv(ctl(50, wire.FlagAlive|wire.FlagHello, 0, 0), nil)
	if got := items(tx, names); s.rs.Len() != 0 || len(s.rsEntries) != 0 ||
		!reflect.DeepEqual(released, []string{"e0", "e1"}) || !reflect.DeepEqual(got, []string{"e2", "e4"}) {
		t.Errorf("after HELLO: queue %d released %v sent again %v", s.rs.Len(), released, got)
	}
}

// TestFTFWPeerRestart: a HELLO out of sequence from a peer heard before is
// a restart, also while the peer's handshake is not over (its messages all
// said HELLO); the first HELLO of a peer and the HELLOs that go on from its
// sequence during its handshake are not.
func TestFTFWPeerRestart(t *testing.T) {
	for _, synced := range []bool{false, true} {
		s := newFTFW(300, 10, func(*cache.Entry) {})
		s.recv(ctl(5000, wire.FlagAlive|wire.FlagHello, 0, 0), nil)
		s.recv(ctl(5002, wire.FlagAlive|wire.FlagHello, 0, 0), nil)
		if s.peerRestarted {
			t.Fatalf("synced %v: the peer's handshake taken for a restart", synced)
		}
		last := uint32(5002)
		if synced {
			last++
			s.recv(ctl(last, wire.FlagAlive, 0, 0), nil)
		}
		// The new node numbers from its start time, behind the old
		// node's sequence or far from it.
		s.recv(ctl(last-1, wire.FlagAlive|wire.FlagHello, 0, 0), nil)
		if !s.peerRestarted || s.rxLast != last-1 {
			t.Errorf("synced %v: restarted %v, last %d; want a restart, last %d", synced, s.peerRestarted, s.rxLast, last-1)
		}
	}
}
