package node

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/wire"
)

// lossyLink is a chanLink that drops what it sends while lose is set, or
// the datagrams drop picks (a deterministic loss pattern). It counts the
// messages it lets through, so that a test can wait until the peer has
// handled them.
type lossyLink struct {
	*chanLink
	lose atomic.Bool
	mu   sync.Mutex
	// drop, when set, is asked about each datagram (its messages, and
	// how many datagrams went before): true drops it.
	drop func(msgs []*wire.Message, n int) bool
	n    int
	// msgs counts the messages sent and not dropped.
	msgs atomic.Uint64
}

func (l *lossyLink) Send(b []byte) error {
	if l.lose.Load() {
		return nil
	}
	var msgs []*wire.Message
	wire.Decode(b, func(m *wire.Message, err error) error {
		if err == nil {
			msgs = append(msgs, m)
		}
		return nil
	})
	l.mu.Lock()
	drop := l.drop != nil && l.drop(msgs, l.n)
	l.n++
	l.mu.Unlock()
	if drop {
		return nil
	}
	l.msgs.Add(uint64(len(msgs)))
	return l.chanLink.Send(b)
}

// setDrop sets the loss pattern.
func (l *lossyLink) setDrop(drop func(msgs []*wire.Message, n int) bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.drop = drop
}

// fakePair is two nodes on fakes sharing a clock, each link's datagrams
// carried to the other node.
type fakePair struct {
	a, b   *fakeNode
	la, lb *lossyLink
	clk    *fakeClock
}

// runFakePair runs two nodes of configuration conf until the test ends;
// A's kernel table holds flowsA when it starts.
func runFakePair(t *testing.T, conf string, flowsA ...engine.Flow) *fakePair {
	t.Helper()
	cfg, err := config.Parse("t.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	p := &fakePair{clk: newFakeClock(), la: &lossyLink{chanLink: newChanLink()}, lb: &lossyLink{chanLink: newChanLink()}}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	carry := func(from, to *chanLink) {
		for {
			select {
			case d := <-from.sent:
				select {
				case to.recv <- d:
				case <-ctx.Done():
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}
	go carry(p.la.chanLink, p.lb.chanLink)
	go carry(p.lb.chanLink, p.la.chanLink)
	start := func(l *lossyLink, side string, flows ...engine.Flow) *fakeNode {
		f := &fakeNode{k: newFakeKernel(), l: l.chanLink, clk: p.clk}
		f.k.put(flows...)
		if f.Node, err = New(cfg, Options{Kernel: f.k, Link: l, Clock: p.clk}); err != nil {
			t.Fatal(err)
		}
		runNode(t, f.Node, side)
		return f
	}
	p.a, p.b = start(p.la, "A", flowsA...), start(p.lb, "B")
	return p
}

// handled counts the messages of the peer the node has handled: taken,
// rejected or dropped as behind or out of the window.
func (f *fakeNode) handled(t *testing.T) uint64 {
	t.Helper()
	n, err := inLoop(context.Background(), f.Node, func() uint64 {
		n := f.stats.RecvData + f.stats.RecvControl + f.stats.RecvExpect
		for _, c := range f.stats.RecvErrors {
			n += c
		}
		if f.ftfw != nil {
			n += f.ftfw.before + f.ftfw.jumps
		}
		return n
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// quiesce waits until each node has handled every message the other sent
// and neither sends more without the clock moving; it gives up (a
// failure) after 30 s.
func (p *fakePair) quiesce(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		p.a.settle(t)
		p.b.settle(t)
		sa, sb := p.la.msgs.Load(), p.lb.msgs.Load()
		if p.b.handled(t) >= sa && p.a.handled(t) >= sb {
			p.a.settle(t)
			p.b.settle(t)
			if p.la.msgs.Load() == sa && p.lb.msgs.Load() == sb {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the pair did not settle: A sent %d messages, B handled %d; B sent %d, A handled %d",
				sa, p.b.handled(t), sb, p.a.handled(t))
		}
		time.Sleep(time.Millisecond)
	}
}

// keys returns the sorted source ports and marks of entries (the tests
// change a flow's mark where the kernel would change its state).
func keys(entries []cache.Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = fmt.Sprintf("%d/%d", e.Flow.Sport, e.Flow.Mark)
	}
	slices.Sort(out)
	return out
}

// synced reports whether B's external cache holds A's internal cache, and
// both.
func (p *fakePair) synced(t *testing.T) (ok bool, in, ext []cache.Entry) {
	t.Helper()
	ctx := context.Background()
	var err error
	if in, err = p.a.Internal(ctx); err != nil {
		t.Fatal(err)
	}
	if ext, err = p.b.External(ctx); err != nil {
		t.Fatal(err)
	}
	return slices.Equal(keys(in), keys(ext)), in, ext
}

// converge moves the clock a step at a time, letting the pair settle
// after each, until B's external cache equals A's internal cache, and
// returns how long that took; it fails after limit.
func (p *fakePair) converge(t *testing.T, step, limit time.Duration) time.Duration {
	t.Helper()
	p.quiesce(t)
	var in, ext []cache.Entry
	for took := time.Duration(0); took <= limit; took += step {
		var ok bool
		if ok, in, ext = p.synced(t); ok {
			return took
		}
		p.clk.advance(step)
		p.quiesce(t)
	}
	t.Fatalf("after %v: A's internal cache %v, B's external cache %v", limit, keys(in), keys(ext))
	return 0
}
