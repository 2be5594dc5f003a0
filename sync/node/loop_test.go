package node

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/wire"
)

// The tests of this file run the node's loop (Run) on a fakeKernel, a
// chanLink and a fakeClock: no kernel, no root, no wall-clock waits. A
// test feeds kernel events and datagrams, moves the clock, and waits for
// what the node sends (chanLink.take) or for a state of the loop
// (waitLoop).

// fakeNode is a running node on fakes.
type fakeNode struct {
	*Node
	k   *fakeKernel
	l   *chanLink
	clk *fakeClock
}

// runNode runs n until the test ends or the returned function stops it
// (and waits until Run returned; an error of Run fails the test), and
// waits until it runs.
func runNode(tb testing.TB, n *Node, side string) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() { runErr <- n.Run(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		if err := <-runErr; err != nil {
			tb.Errorf("node %s Run: %v", side, err)
		}
	})
	tb.Cleanup(stop)
	waitStarted(tb, n)
	return stop
}

// waitStarted waits until the node runs: subscribed to the kernel's
// events and past its start-up dump.
func waitStarted(tb testing.TB, n *Node) {
	tb.Helper()
	if _, err := n.Internal(context.Background()); err != nil {
		tb.Fatalf("node did not start: %v", err)
	}
}

// runFake runs a node of configuration conf on a fakeKernel holding flows
// until the test ends, and waits until it runs (its start-up dump read).
func runFake(t *testing.T, conf string, flows ...engine.Flow) *fakeNode {
	t.Helper()
	cfg, err := config.Parse("t.conf", []byte(conf))
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeNode{k: newFakeKernel(), l: newChanLink(), clk: newFakeClock()}
	f.k.put(flows...)
	if f.Node, err = New(cfg, Options{Kernel: f.k, Link: f.l, Clock: f.clk}); err != nil {
		t.Fatal(err)
	}
	runNode(t, f.Node, "on fakes")
	return f
}

// settle returns once the loop has handled a request made now: what it
// took before (events, datagrams, ticks received) is handled, and what
// that queued is sent.
func (f *fakeNode) settle(t *testing.T) {
	t.Helper()
	if err := f.do(context.Background(), func() {}); err != nil {
		t.Fatal(err)
	}
}

// waitLoop waits until cond, run in the loop, holds: the loop takes the
// requests and the kernel events and datagrams already handed to it in
// random order, so a condition on what those do needs a few rounds. It
// gives up (a failure) after 30 s.
func (f *fakeNode) waitLoop(t *testing.T, what string, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		ok, err := inLoop(ctx, f.Node, cond)
		if err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
	}
}

// receive hands the node a datagram of msgs from its peer.
func (f *fakeNode) receive(t *testing.T, msgs ...*wire.Message) {
	t.Helper()
	f.l.recv <- build(t, msgs...)
}

// data returns the next n data messages the node sends, skipping control
// messages.
func (f *fakeNode) data(t *testing.T, n int) []*wire.Message {
	t.Helper()
	return f.l.next(t, n, nil)
}

// control returns the next control message the node sends, skipping data
// messages.
func (f *fakeNode) control(t *testing.T) *wire.Message {
	t.Helper()
	return f.l.take(t, 1, func(m *wire.Message) bool { return m.Header.Type == wire.MsgControl }, nil)[0]
}

// sent returns what the node has sent since the last look, once the loop
// has settled.
func (f *fakeNode) sent(t *testing.T) []*wire.Message {
	t.Helper()
	f.settle(t)
	return decodeAll(t, drain(f.l))
}

// quiet fails the test if the node has sent anything since the last
// look, once the loop has settled.
func (f *fakeNode) quiet(t *testing.T, when string) {
	t.Helper()
	if msgs := f.sent(t); len(msgs) > 0 {
		t.Errorf("%s: sent %s", when, sentSet(msgs))
	}
}

// sentSet describes messages in sorted order, for comparisons that do not
// depend on it.
func sentSet(msgs []*wire.Message) string {
	s := make([]string, len(msgs))
	for i, m := range msgs {
		s[i] = msgString(m)
	}
	slices.Sort(s)
	return strings.Join(s, ", ")
}

// isFlow reports whether m carries the flow f (same key and mark), of
// message type typ.
func isFlow(m *wire.Message, typ wire.MsgType, f engine.Flow) bool {
	if m.CT == nil || m.Header.Type != typ {
		return false
	}
	var g engine.Flow
	m.CT.ToFlow(&g)
	return cache.KeyOf(&g) == cache.KeyOf(&f) && g.Mark == f.Mark
}

// TestLoopKernelEvents: the start-up dump fills the internal cache and is
// advertised (ctq's start-up advertisement); kernel NEW, UPDATE and DESTROY events go to the peer as CT
// NEW, UPD and DEL; an overrun re-reads the table after
// NetlinkOverrunResync, advertising what changed meanwhile.
func TestLoopKernelEvents(t *testing.T) {
	f := runFake(t, notrackConf+"\nGeneral { NetlinkOverrunResync 5 }", flow(0))
	if m := f.data(t, 1)[0]; !isFlow(m, wire.MsgCTNew, flow(0)) {
		t.Errorf("start-up advertisement: %s", msgString(m))
	}
	f.quiet(t, "after the start-up advertisement")
	internal, err := f.Internal(context.Background())
	if err != nil || len(internal) != 1 || internal[0].Flow.Sport != flow(0).Sport {
		t.Fatalf("internal cache after the start-up dump: %v, %v", internal, err)
	}

	g := flow(1)
	f.k.event(engine.EventNew, g)
	if m := f.data(t, 1)[0]; !isFlow(m, wire.MsgCTNew, g) {
		t.Errorf("NEW event sent as %s", msgString(m))
	}
	g.Mark = 9
	f.k.event(engine.EventUpdate, g)
	if m := f.data(t, 1)[0]; !isFlow(m, wire.MsgCTUpdate, g) {
		t.Errorf("UPDATE event sent as %s", msgString(m))
	}
	f.k.event(engine.EventDestroy, g)
	if m := f.data(t, 1)[0]; !isFlow(m, wire.MsgCTDelete, g) {
		t.Errorf("DESTROY event sent as %s", msgString(m))
	}

	// Events lost: the table is read again NetlinkOverrunResync later.
	h := flow(2)
	f.k.put(h)
	f.k.remove(flow(0))
	f.k.overrun()
	f.waitLoop(t, "the overrun counted", func() bool { return f.stats.EventOverflows == 1 })
	f.clk.advance(4 * time.Second)
	for _, m := range f.sent(t) {
		if m.CT != nil {
			t.Errorf("before NetlinkOverrunResync: sent %s", msgString(m))
		}
	}
	f.clk.advance(time.Second)
	if got, want := sentSet(f.data(t, 2)), sentSet([]*wire.Message{ctMsg(wire.MsgCTNew, 0, h), ctMsg(wire.MsgCTDelete, 0, flow(0))}); got != want {
		t.Errorf("resync after the overrun sent %s, want %s", got, want)
	}
}

// TestLoopReceive: what the peer sends lands in the external cache (NEW,
// UPD, DEL), and its RESYNC is answered with the internal cache.
func TestLoopReceive(t *testing.T) {
	f := runFake(t, notrackConf, flow(0))
	f.data(t, 1) // the start-up advertisement
	g := flow(1)
	f.receive(t, ctMsg(wire.MsgCTNew, 100, g))
	external := func(mark int) func() bool {
		return func() bool {
			e, ok := f.external.Get(cache.KeyOf(&g))
			return ok && !e.Dead() && e.Flow.Mark == mark
		}
	}
	f.waitLoop(t, "the flow in the external cache", external(g.Mark))
	g.Mark = 5
	f.receive(t, ctMsg(wire.MsgCTUpdate, 101, g))
	f.waitLoop(t, "the update in the external cache", external(5))
	f.receive(t, ctMsg(wire.MsgCTDelete, 102, g))
	f.waitLoop(t, "the flow gone from the external cache", func() bool { return f.external.Len() == 0 })

	f.receive(t, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagResync, Seq: 103}, Control: &wire.Control{}})
	if m := f.data(t, 1)[0]; !isFlow(m, wire.MsgCTNew, flow(0)) {
		t.Errorf("RESYNC answered with %s", msgString(m))
	}
	if st, err := f.Stats(context.Background()); err != nil || st.RecvData != 3 || st.ResyncsAnswered != 1 {
		t.Errorf("stats %+v, %v", st, err)
	}
}

// TestLoopAlive: an ALIVE goes out after a second without a transmission,
// and only then: a transmission puts it off.
func TestLoopAlive(t *testing.T) {
	f := runFake(t, notrackConf)
	f.clk.advance(999 * time.Millisecond)
	f.quiet(t, "before a second")
	f.clk.advance(time.Millisecond)
	if m := f.control(t); !m.Header.IsAlive() {
		t.Errorf("after a second: %s, want ALIVE", msgString(m))
	}
	f.settle(t) // the ALIVE timer reset after the transmission
	f.clk.advance(500 * time.Millisecond)
	f.k.event(engine.EventNew, flow(1))
	f.data(t, 1)
	f.settle(t)
	f.clk.advance(900 * time.Millisecond)
	f.quiet(t, "0.9 s after a data message")
	f.clk.advance(100 * time.Millisecond)
	if m := f.control(t); !m.Header.IsAlive() {
		t.Errorf("a second after a data message: %s, want ALIVE", msgString(m))
	}
}

// ftfwConf is an FTFW node that acknowledges every 2 messages.
const ftfwConf = `Sync {
	Mode FTFW { ACKWindowSize 2 ResendQueueSize 10 }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`

// TestLoopFTFW: FTFW's loop says HELLO first, resends what the peer NACKs
// with new sequence numbers, keeps what was sent until the peer ACKs it,
// and acknowledges the peer's messages each time its window is full.
func TestLoopFTFW(t *testing.T) {
	f := runFake(t, ftfwConf)
	g := flow(1)
	f.k.event(engine.EventNew, g)
	first := f.data(t, 1)[0]
	if !isFlow(first, wire.MsgCTNew, g) || first.Header.Flags&wire.FlagHello == 0 {
		t.Fatalf("first message %s %v, want CT NEW with HELLO", msgString(first), first.Header.Flags)
	}
	seq := first.Header.Seq
	f.receive(t, ctl(5000, wire.FlagNACK|wire.FlagHelloBack, seq, seq))
	again := f.data(t, 1)[0]
	if !isFlow(again, wire.MsgCTNew, g) || again.Header.Seq != seq+1 {
		t.Errorf("NACK [%d,%d] answered with %s seq %d, want the flow again as %d", seq, seq, msgString(again), again.Header.Seq, seq+1)
	}
	if st, err := f.Stats(context.Background()); err != nil || len(st.ResendItems) != 1 {
		t.Errorf("resend queue after the resend: %+v, %v; want the flow", st.ResendItems, err)
	}
	f.receive(t, ctl(5001, wire.FlagACK, seq+1, seq+1))
	f.waitLoop(t, "the flow acknowledged", func() bool {
		for el := f.ftfw.rs.Front(); el != nil; el = el.Next() {
			if it := el.Value.(rsItem).item; !it.isCtl() {
				return false
			}
		}
		return true
	})
	// The NACK and the ACK fill the window of 2: an ACK of both, then
	// the next two data messages of the peer make the next ACK.
	wantACK := func(from, to uint32) {
		t.Helper()
		ack := f.control(t)
		if !ack.Header.IsACK() || ack.Control == nil || ack.Control.From != from || ack.Control.To != to {
			t.Errorf("%s %+v, want ACK [%d,%d]", msgString(ack), ack.Control, from, to)
		}
	}
	wantACK(5000, 5001)
	f.receive(t, ctMsg(wire.MsgCTNew, 5002, flow(2)), ctMsg(wire.MsgCTNew, 5003, flow(3)))
	wantACK(5002, 5003)
}

// TestLoopAlarm: ALARM's tick resends each internal entry within
// RefreshTime (plus up to a second), sends no ALIVE, and expires external
// entries not refreshed within CacheTimeout.
func TestLoopAlarm(t *testing.T) {
	f := runFake(t, alarmConf)
	g := flow(1)
	f.k.event(engine.EventNew, g)
	f.data(t, 1)
	f.settle(t)
	for range 6 {
		f.clk.advance(time.Second)
	}
	if m := f.data(t, 1)[0]; !isFlow(m, wire.MsgCTNew, g) {
		t.Errorf("refresh sent as %s", msgString(m))
	}

	h := flow(2)
	f.receive(t, ctMsg(wire.MsgCTNew, 100, h))
	f.waitLoop(t, "the peer's flow in the external cache", func() bool { return f.external.Len() == 1 })
	for range 9 {
		f.clk.advance(time.Second)
	}
	f.settle(t)
	if f.Node.external.Len() != 1 {
		t.Errorf("external entry expired before CacheTimeout")
	}
	f.clk.advance(time.Second)
	f.waitLoop(t, "the external entry expired", func() bool { return f.external.Len() == 0 })
	for _, m := range f.sent(t) {
		if m.Header.Type == wire.MsgControl {
			t.Errorf("ALARM sent a control message: %s", msgString(m))
		}
	}
}

// pollConf is a NOTRACK node in polling mode, reading the table every
// second.
const pollConf = `Sync {
	Mode NOTRACK { }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}
General { PollSecs 1 }`

// TestLoopPoll: a node in polling mode subscribes to no events; each
// PollSecs its poll advertises the table's new entries and the ends of
// those gone.
func TestLoopPoll(t *testing.T) {
	f := runFake(t, pollConf, flow(0))
	if f.sub != nil || f.k.joined(engine.TableConntrack) != 0 {
		t.Fatal("a polling node watches the kernel's events")
	}
	f.k.put(flow(1))
	f.quiet(t, "before the poll")
	f.clk.advance(time.Second)
	if got, want := sentSet(f.data(t, 2)), sentSet([]*wire.Message{ctMsg(wire.MsgCTUpdate, 0, flow(0)), ctMsg(wire.MsgCTNew, 0, flow(1))}); got != want {
		t.Errorf("first poll sent %s, want %s", got, want)
	}
	f.k.remove(flow(1))
	f.clk.advance(time.Second)
	if got, want := sentSet(f.data(t, 2)), sentSet([]*wire.Message{ctMsg(wire.MsgCTUpdate, 0, flow(0)), ctMsg(wire.MsgCTDelete, 0, flow(1))}); got != want {
		t.Errorf("poll after the end of flow 1 sent %s, want %s", got, want)
	}
	if st, err := f.Stats(context.Background()); err != nil || st.Polls != 2 {
		t.Errorf("polls %d, %v; want 2", st.Polls, err)
	}
}

// injectConf is a NOTRACK node without external cache that syncs
// expectations.
const injectConf = `Sync {
	Mode NOTRACK { DisableExternalCache on }
	Options { ExpectationSync on }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`

// TestLoopInject: with DisableExternalCache what the peer sends, flows and
// expectations, is written into the kernel through the injector, whose
// events the node does not advertise; nothing enters the external cache.
func TestLoopInject(t *testing.T) {
	f := runFake(t, injectConf)
	g := flow(1)
	g.SetStatus(g.Status | engine.StatusExpected)
	f.receive(t, ctMsg(wire.MsgCTNew, 100, g))
	inKernel := func(mark int) func() bool {
		return func() bool {
			k, ok := f.k.flow(g)
			return ok && k.Mark == mark
		}
	}
	f.waitLoop(t, "the flow in the kernel", inKernel(g.Mark))
	if k, _ := f.k.flow(g); k.Status&engine.StatusExpected != 0 || k.Timeout != g.Timeout {
		t.Errorf("injected flow status %v timeout %d, want no EXPECTED and %d", k.Status, k.Timeout, g.Timeout)
	}
	g.Mark = 7
	f.receive(t, ctMsg(wire.MsgCTUpdate, 101, g))
	f.waitLoop(t, "the update in the kernel", inKernel(7))
	f.receive(t, ctMsg(wire.MsgCTDelete, 102, g))
	f.waitLoop(t, "the flow gone from the kernel", func() bool { _, ok := f.k.flow(g); return !ok })
	x := testExp("ftp", 5000)
	f.receive(t, expMsg(wire.MsgExpNew, 103, x))
	f.waitLoop(t, "the expectation in the kernel", func() bool { _, exps := f.k.len(); return exps == 1 })

	// The injector's events came before this one, which alone goes out.
	h := flow(2)
	f.k.event(engine.EventNew, h)
	if m := f.data(t, 1)[0]; !isFlow(m, wire.MsgCTNew, h) {
		t.Errorf("advertised %s, want only the kernel's own event", msgString(m))
	}
	if msgs := f.sent(t); len(msgs) != 0 {
		t.Errorf("advertised %s", sentSet(msgs))
	}
	st, err := f.Stats(context.Background())
	if err != nil || st.Injected != 4 || st.InjectErrors != 0 || st.EventsReceived != 1 {
		t.Errorf("injected %d (%d errors), %d events (%v); want 4, 0, 1", st.Injected, st.InjectErrors, st.EventsReceived, err)
	}
	if ext, err := f.External(context.Background()); err != nil || len(ext) != 0 {
		t.Errorf("external cache %v, %v; want empty", ext, err)
	}
}

// TestLoopNoInternalCache: without internal cache nothing is read at
// start, each kernel event, of a flow or an expectation, goes out as its
// message, `dump internal` shows the kernel's tables, and a RESYNC is
// answered with them as NEW messages.
func TestLoopNoInternalCache(t *testing.T) {
	f := runFake(t, `Sync {
	Mode NOTRACK { DisableInternalCache on }
	Options { ExpectationSync on }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`, flow(0))
	if m := f.data(t, 1)[0]; !isFlow(m, wire.MsgCTNew, flow(0)) {
		t.Errorf("start-up advertisement: %s", msgString(m))
	}
	x := testExp("ftp", 5000)
	f.k.expectEvent(engine.EventNew, x)
	if m := f.l.take(t, 1, func(m *wire.Message) bool { return m.Exp != nil }, nil)[0]; m.Header.Type != wire.MsgExpNew {
		t.Errorf("expectation event sent as %s", m.Header.Type)
	}
	g := flow(1)
	f.k.event(engine.EventNew, g)
	g.Mark = 4
	f.k.event(engine.EventUpdate, g)
	f.k.event(engine.EventDestroy, g)
	want := []*wire.Message{ctMsg(wire.MsgCTNew, 0, flow(1)), ctMsg(wire.MsgCTUpdate, 0, g), ctMsg(wire.MsgCTDelete, 0, g)}
	for i, m := range f.data(t, 3) {
		if w := want[i]; msgString(m) != msgString(w) || m.CT.Mark != w.CT.Mark {
			t.Errorf("event %d sent as %s mark %d, want %s mark %d", i, msgString(m), m.CT.Mark, msgString(w), w.CT.Mark)
		}
	}
	ctx := context.Background()
	if st, err := f.Stats(ctx); err != nil || st.Internal.Active != 0 || st.InternalExpect.Active != 0 {
		t.Errorf("internal caches %+v %+v, %v: want nothing cached", st.Internal, st.InternalExpect, err)
	}
	internal, err := f.Internal(ctx)
	if err != nil || len(internal) != 1 || internal[0].Flow.Sport != flow(0).Sport {
		t.Errorf("dump internal: %v, %v; want the kernel's flow", internal, err)
	}
	exps, err := f.InternalExpect(ctx)
	if err != nil || len(exps) != 1 || exps[0].Expect.Dport != x.Dport {
		t.Errorf("dump internal expect: %v, %v; want the kernel's expectation", exps, err)
	}
	f.receive(t, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagResync, Seq: 1}, Control: &wire.Control{}})
	resync := f.l.take(t, 2, func(m *wire.Message) bool { return m.Header.IsData() }, nil)
	if !isFlow(resync[0], wire.MsgCTNew, flow(0)) || resync[1].Header.Type != wire.MsgExpNew {
		t.Errorf("resync answered with %s, want CT NEW of flow 0 and EXP NEW", sentSet(resync))
	}
}
