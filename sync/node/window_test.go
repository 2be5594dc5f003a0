package node

import (
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/wire"
)

// The tests of FTFW's flow control (window.go).

// TestFTFWRoom: flows go out while the resend queue has room beyond its
// reserve for control messages, up to windowMax or twice the ACK window in
// flight; a queue too small for a reserve still lets one flow out.
func TestFTFWRoom(t *testing.T) {
	for _, c := range []struct{ ackWindow, limit, room int }{
		{300, 1, 1}, {300, 4, 4}, {300, 16, 14}, {300, 1024, 896}, {300, 2048, 1024}, {300, 131072, 1024}, {2000, 131072, 4000},
	} {
		s := newFTFW(c.ackWindow, c.limit, func(*cache.Entry) {})
		if got := s.room(); got != c.room {
			t.Errorf("queue of %d: room %d, want %d", c.limit, got, c.room)
		}
		for i := range c.room {
			s.sent(txItem{entry: &cache.Entry{}}, uint32(i))
		}
		if got := s.room(); got != 0 || s.rsDropped != 0 {
			t.Errorf("queue of %d, %d flows sent: room %d, dropped %d; want 0, 0", c.limit, c.room, got, s.rsDropped)
		}
	}
}

// TestBurstWindow: a burst ten times the resend queue while the peer
// hears nothing: what the queue has no room for waits for the peer's
// ACKs instead of pushing unacknowledged entries out of it (conntrackd
// drops them), and once the link is back the peer's external cache ends
// equal to the internal cache, ends of flows included.
func TestBurstWindow(t *testing.T) {
	p := runFakePair(t, pairConf)
	p.a.k.event(engine.EventNew, flow(0))
	p.converge(t, time.Second, 5*time.Second)
	p.la.lose.Store(true)
	for i := 1; i <= 30; i++ {
		p.a.k.event(engine.EventNew, flow(i))
	}
	for i := 1; i <= 10; i++ {
		p.a.k.event(engine.EventDestroy, flow(i))
	}
	p.a.waitLoop(t, "the burst handled", func() bool { return p.a.stats.EventsReceived == 41 && len(p.a.txq) == 0 })
	p.a.settle(t)
	if st := p.a.counters(t); st.TxQueue == 0 || st.ResendQueue > 4 || st.ResendDropped != 0 {
		t.Fatalf("transmit queue %d, resend queue %d, dropped %d; want entries waiting, at most 4 in the resend queue, none dropped",
			st.TxQueue, st.ResendQueue, st.ResendDropped)
	}
	p.la.lose.Store(false)
	p.converge(t, time.Second, 60*time.Second)
	st := p.a.counters(t)
	if st.WindowHeld == 0 || st.TxQueue != 0 {
		t.Errorf("window held %d, transmit queue %d; want some held, none left", st.WindowHeld, st.TxQueue)
	}
}

// TestWindowStall: entries waiting for a window the peer opens with no ACK
// are logged after stallWarn (a peer down, or not in FTFW mode), and go
// out once it acknowledges.
func TestWindowStall(t *testing.T) {
	cfg, err := config.Parse("t.conf", []byte(`Sync {
	Mode FTFW { ACKWindowSize 5000 ResendQueueSize 4 }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var logs []string
	logf := func(_ slog.Level, msg string) {
		mu.Lock()
		defer mu.Unlock()
		logs = append(logs, msg)
	}
	stalls := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for _, l := range logs {
			if strings.Contains(l, "acknowledged nothing") {
				n++
			}
		}
		return n
	}
	f := &fakeNode{k: newFakeKernel(), l: newChanLink(), clk: newFakeClock()}
	if f.Node, err = New(cfg, Options{Kernel: f.k, Link: f.l, Clock: f.clk, Log: logf}); err != nil {
		t.Fatal(err)
	}
	runNode(t, f.Node, "on fakes")
	for i := range 6 {
		f.k.event(engine.EventNew, flow(i))
	}
	sent := f.data(t, 4)
	f.waitLoop(t, "two flows waiting", func() bool { return f.heldLen() == 2 })
	for range 5 {
		f.clk.advance(time.Second)
	}
	f.settle(t)
	if n := stalls(); n != 0 {
		t.Fatalf("a stall logged after 5 s: %v", logs)
	}
	for range 6 {
		f.clk.advance(time.Second)
	}
	f.settle(t)
	if n := stalls(); n != 1 {
		t.Fatalf("%d stalls logged after 11 s, want 1: %v", n, logs)
	}
	f.receive(t, ctl(7000, wire.FlagACK, sent[0].Header.Seq, sent[3].Header.Seq))
	f.data(t, 2)
}

// TestBurstLoss: a burst of 3000 NEW and 1000 DESTROY, fifty times a
// resend queue of 64, with 20% of the datagrams lost each way (a fixed
// pattern): B's external cache equals A's internal cache within seconds of
// the fake clock. Before the window, the burst overflowed the queue and
// the repair of what it dropped sent half a queue a fake second (about
// two minutes of it).
func TestBurstLoss(t *testing.T) {
	p := runFakePair(t, `Sync {
	Mode FTFW { ACKWindowSize 16 ResendQueueSize 64 }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`)
	p.warm(t)
	for i, l := range []*lossyLink{p.la, p.lb} {
		r := rand.New(rand.NewPCG(2, uint64(i)))
		l.setDrop(func([]*wire.Message, int) bool { return r.IntN(100) < 20 })
	}
	for i := 1; i <= 3000; i++ {
		p.a.k.event(engine.EventNew, flow(i))
	}
	for i := 1; i <= 1000; i++ {
		p.a.k.event(engine.EventDestroy, flow(i))
	}
	p.a.waitLoop(t, "the burst handled", func() bool { return p.a.stats.EventsReceived == 4001 && len(p.a.txq) == 0 })
	took := p.converge(t, 100*time.Millisecond, 60*time.Second)
	st := p.a.counters(t)
	// A's ACKs and NACKs may outgrow the queue's reserve of 8 under this
	// loss: the full queue then drops the oldest of them (ResendDropped
	// counts those too).
	t.Logf("B's cache equal after %v of the fake clock; A: %d waited for the window, dropped %d, NACKs over budget %d, repaired %d",
		took, st.WindowHeld, st.ResendDropped, st.NACKLimited, st.Repaired)
	if took > 20*time.Second {
		t.Errorf("B's cache equal after %v of the fake clock, want well within 20 s", took)
	}
}

// TestWindowGrows: a peer that acknowledges only every 2000 messages, or
// after a second (a conntrackd with a larger ACKWindowSize), leaves the
// window of 1024 full; its ACK of all 1024 widens the window to twice
// that, and the rest goes out.
func TestWindowGrows(t *testing.T) {
	f := runFake(t, `Sync {
	Mode FTFW { ACKWindowSize 300 ResendQueueSize 131072 }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`)
	for i := range 4000 {
		f.k.event(engine.EventNew, flow(i))
	}
	sent := f.data(t, windowMax)
	f.waitLoop(t, "the rest waiting", func() bool { return f.heldLen() == 4000-windowMax })
	if st := f.counters(t); st.Window != windowMax || st.WindowGrown != 0 {
		t.Fatalf("window %d, grown %d; want %d, 0", st.Window, st.WindowGrown, windowMax)
	}
	f.receive(t, ctl(7000, wire.FlagACK, sent[0].Header.Seq, sent[windowMax-1].Header.Seq))
	f.data(t, 2*windowMax)
	f.waitLoop(t, "the rest waiting", func() bool { return f.heldLen() == 4000-3*windowMax })
	if st := f.counters(t); st.Window != 2*windowMax || st.WindowGrown != 1 {
		t.Errorf("window %d, grown %d; want %d, 1", st.Window, st.WindowGrown, 2*windowMax)
	}
}
