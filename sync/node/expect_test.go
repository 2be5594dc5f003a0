package node

import (
	"context"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/wire"
)

// expNode is a node of mode (a Mode block) with options (an Options
// block) on a fake clock, driven without Run.
func expNode(t *testing.T, mode, options string) (*Node, *fakeLink, *fakeClock) {
	t.Helper()
	text := fmt.Sprintf("Sync {\n\t%s\n\t%s\n\tUDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }\n}", mode, options)
	cfg, err := config.Parse("t.conf", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	l := &fakeLink{max: 1472}
	n, err := New(cfg, Options{Kernel: newFakeKernel(), Link: l, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	return n, l, clk
}

// testExp is an expectation of helper for data port dport, as the kernel
// reports it.
func testExp(helper string, dport int) engine.Expect {
	a := netip.MustParseAddr("192.0.2.1")
	m := netip.MustParseAddr("255.255.255.255")
	e := engine.Expect{
		Family: "ipv4", Proto: "tcp", ProtoNum: engine.ProtoTCP, Src: a, Dst: a, Dport: dport,
		MaskSrc: m, MaskDst: m, MaskDport: 0xffff,
		MasterProto: "tcp", MasterProtoNum: engine.ProtoTCP, MasterSrc: a, MasterDst: a, MasterSport: 40000, MasterDport: 21,
		Timeout: 300, Helper: helper, Class: 0,
		Has: engine.HasExpTimeout | engine.HasExpHelper | engine.HasExpClass | engine.HasExpMask | engine.HasExpMaster,
	}
	e.SetFlags(0)
	return e
}

// expMsg is an EXP message of type typ for e.
func expMsg(typ wire.MsgType, seq uint32, e engine.Expect) *wire.Message {
	var x wire.Expect
	x.FromExpect(&e)
	return &wire.Message{Header: wire.Header{Type: typ, Seq: seq}, Exp: &x}
}

// sentTypes lists the types of the messages sent from datagram i on, and
// the data port of each expectation.
func sentTypes(t *testing.T, l *fakeLink, i int) string {
	t.Helper()
	var s string
	for _, m := range decodeAll(t, l.sent[i:]) {
		s += m.Header.Type.String()
		if m.Exp != nil {
			var e engine.Expect
			m.Exp.ToExpect(&e)
			s += fmt.Sprintf(":%d", e.Dport)
		}
		s += " "
	}
	return s
}

func TestExpectAdvertiseFTFW(t *testing.T) {
	n, l, _ := expNode(t, "Mode FTFW { }", "Options { ExpectationSync { ftp } }")
	ftp, sip := testExp("ftp", 50000), testExp("sip", 50001)
	for _, ev := range []expEvent{
		{typ: engine.EventNew, exp: ftp},
		{typ: engine.EventNew, exp: sip}, // not in the helper list
	} {
		if err := n.expectEvent(context.Background(), &ev); err != nil {
			t.Fatal(err)
		}
	}
	n.transmit()
	if got, want := sentTypes(t, l, 0), "EXP_NEW:50000 "; got != want {
		t.Fatalf("sent %q, want %q", got, want)
	}
	sent := decodeAll(t, l.sent)
	var got engine.Expect
	sent[0].Exp.ToExpect(&got)
	if cache.ExpectKeyOf(&got) != cache.ExpectKeyOf(&ftp) || got.Timeout != 300 || got.Helper != "ftp" {
		t.Errorf("sent %+v", got)
	}

	upd := ftp
	upd.Timeout = 200
	n.expectEvent(context.Background(), &expEvent{typ: engine.EventUpdate, exp: upd})
	n.expectEvent(context.Background(), &expEvent{typ: engine.EventDestroy, exp: upd})
	n.transmit()
	if got, want := sentTypes(t, l, 1), "EXP_DEL:50000 "; got != want {
		t.Fatalf("sent %q, want %q", got, want)
	}
	// FTFW keeps the DEAD entry until the peer acknowledges its DEL.
	st := n.stats
	if n.internalExp.Len() != 1 || len(n.ftfw.rsExp) != 1 {
		t.Fatalf("internal holds %d, resend queue %d expectations", n.internalExp.Len(), len(n.ftfw.rsExp))
	}
	del := decodeAll(t, l.sent[1:])[0]
	// (With its HELLO_BACK: an ACK before it may cover losses.)
	n.datagram(build(t, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagACK | wire.FlagHelloBack, Seq: 7},
		Control: &wire.Control{From: sent[0].Header.Seq, To: del.Header.Seq}}))
	if n.internalExp.Len() != 0 || len(n.ftfw.rsExp) != 0 {
		t.Errorf("after the ACK internal holds %d, resend queue %d expectations", n.internalExp.Len(), len(n.ftfw.rsExp))
	}
	if n.stats.SentData != st.SentData {
		t.Error("sent data after the ACK")
	}

	// A NACK sends a lost expectation again, in its current state.
	n.expectEvent(context.Background(), &expEvent{typ: engine.EventNew, exp: ftp})
	before := len(l.sent)
	n.transmit()
	lost := decodeAll(t, l.sent[before:])[0].Header.Seq
	n.datagram(build(t, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagNACK, Seq: 8},
		Control: &wire.Control{From: lost, To: lost}}))
	before = len(l.sent)
	n.transmit()
	if got := sentTypes(t, l, before); got != "EXP_NEW:50000 " {
		t.Errorf("after NACK sent %q", got)
	}

	// A RESYNC is answered with flows and expectations.
	f := flow(0)
	n.internal.Replace(&f)
	n.datagram(build(t, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagResync, Seq: 9},
		Control: &wire.Control{}}))
	before = len(l.sent)
	n.transmit()
	if got, want := sentTypes(t, l, before), "CT_NEW EXP_NEW:50000 "; got != want {
		t.Errorf("resync answered with %q, want %q", got, want)
	}
}

func TestExpectCommitTimeoutOmitted(t *testing.T) {
	n, l, _ := expNode(t, "Mode NOTRACK { CommitTimeout 180 }", "Options { ExpectationSync on }")
	x := testExp("ftp", 50000)
	n.expectEvent(context.Background(), &expEvent{typ: engine.EventNew, exp: x})
	n.transmit()
	m := decodeAll(t, l.sent)[0]
	if m.Exp == nil || m.Exp.Attrs.Has(wire.ExpAttrTimeout) || !m.Exp.Attrs.Has(wire.ExpAttrFlags) {
		t.Errorf("sent %+v", m.Exp)
	}
	// NOTRACK releases a DEAD expectation once its DEL is out.
	n.expectEvent(context.Background(), &expEvent{typ: engine.EventDestroy, exp: x})
	n.transmit()
	if n.internalExp.Len() != 0 {
		t.Errorf("internal holds %d", n.internalExp.Len())
	}
}

func TestExpectReceive(t *testing.T) {
	n, _, _ := expNode(t, "Mode NOTRACK { }", "Options { ExpectationSync on }")
	a, b := testExp("ftp", 50000), testExp("ftp", 50001)
	n.datagram(build(t, expMsg(wire.MsgExpNew, 1, a), expMsg(wire.MsgExpNew, 2, b)))
	b.Timeout = 100
	n.datagram(build(t, expMsg(wire.MsgExpUpdate, 3, b), expMsg(wire.MsgExpDelete, 4, a)))
	if n.externalExp.Len() != 1 || n.stats.RecvExpect != 4 || n.stats.RecvData != 0 {
		t.Fatalf("external holds %d, stats %+v", n.externalExp.Len(), n.stats)
	}
	e, ok := n.externalExp.Get(cache.ExpectKeyOf(&b))
	if !ok || e.State != cache.StateAlive || e.Expect.Timeout != 100 || e.Expect.Helper != "ftp" {
		t.Fatalf("external entry %+v", e)
	}
	n.flushExpect(false, true)
	if n.externalExp.Len() != 0 {
		t.Error("flush kept entries")
	}

	// Without ExpectationSync they are counted and dropped.
	off, _, _ := expNode(t, "Mode NOTRACK { }", "")
	off.datagram(build(t, expMsg(wire.MsgExpNew, 1, a)))
	if off.externalExp.Len() != 0 || off.stats.RecvExpect != 1 {
		t.Errorf("without ExpectationSync: external holds %d, received %d", off.externalExp.Len(), off.stats.RecvExpect)
	}
}

func TestExpectAlarm(t *testing.T) {
	n, l, clk := expNode(t, "Mode ALARM { RefreshTime 5 CacheTimeout 10 }", "Options { ExpectationSync on }")
	x := testExp("ftp", 50000)
	n.internalExp.Replace(&x) // as the start-up dump: not sent, armed at the first tick
	n.alarmTick()
	n.transmit()
	if len(l.sent) != 0 {
		t.Fatal("sent at the first tick")
	}
	clk.advance(7 * time.Second) // beyond RefreshTime plus jitter
	n.alarmTick()
	n.transmit()
	if got := sentTypes(t, l, 0); got != "EXP_NEW:50000 " {
		t.Fatalf("refresh sent %q", got)
	}

	// A received expectation expires CacheTimeout after its last message.
	y := testExp("ftp", 50001)
	n.datagram(build(t, expMsg(wire.MsgExpNew, 1, y)))
	clk.advance(9 * time.Second)
	n.alarmTick()
	if n.externalExp.Len() != 1 {
		t.Fatal("expired early")
	}
	clk.advance(2 * time.Second)
	n.alarmTick()
	if n.externalExp.Len() != 0 {
		t.Error("not expired after CacheTimeout")
	}
}

func TestExpectFilter(t *testing.T) {
	text := `Sync {
	Mode NOTRACK { }
	Options { ExpectationSync on }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}
General {
	Filter From Kernelspace {
		Address Ignore { IPv4_address 192.0.2.9 }
	}
}`
	cfg, err := config.Parse("t.conf", []byte(text))
	if err != nil {
		t.Fatal(err)
	}
	l := &fakeLink{max: 1472}
	n, err := New(cfg, Options{Kernel: newFakeKernel(), Link: l})
	if err != nil {
		t.Fatal(err)
	}
	kept, ignored := testExp("ftp", 50000), testExp("ftp", 50001)
	ignored.MasterSrc = netip.MustParseAddr("192.0.2.9")
	for _, x := range []engine.Expect{kept, ignored} {
		n.expectEvent(context.Background(), &expEvent{typ: engine.EventNew, exp: x})
	}
	n.transmit()
	if got, want := sentTypes(t, l, 0), "EXP_NEW:50000 "; got != want {
		t.Errorf("sent %q, want %q (the master of the other is ignored)", got, want)
	}
}

func TestExpectFlushInternal(t *testing.T) {
	n, l, _ := expNode(t, "Mode NOTRACK { }", "Options { ExpectationSync on }")
	f := flow(0)
	e, _ := n.internal.Replace(&f)
	n.enqueue(e)
	n.expectEvent(context.Background(), &expEvent{typ: engine.EventNew, exp: testExp("ftp", 50000)})
	n.txq = append(n.txq, txItem{ctl: wire.FlagAlive})
	n.flushExpect(true, false)
	if n.internalExp.Len() != 0 || len(n.queuedExp) != 0 {
		t.Fatalf("internal holds %d, %d queued", n.internalExp.Len(), len(n.queuedExp))
	}
	n.transmit()
	if got, want := sentTypes(t, l, 0), "CT_NEW CTL "; got != want {
		t.Errorf("sent %q, want %q (flows and control messages stay queued)", got, want)
	}
}
