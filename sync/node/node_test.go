package node

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/wire"
)

const notrackConf = `Sync {
	Mode NOTRACK { }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`

// testNode is a node for driving the loop's functions directly (no kernel,
// no Run).
func testNode(t *testing.T, max int, now time.Time) (*Node, *fakeLink) {
	t.Helper()
	cfg, err := config.Parse("t.conf", []byte(notrackConf))
	if err != nil {
		t.Fatal(err)
	}
	l := &fakeLink{max: max}
	n, err := New(cfg, Options{Kernel: newFakeKernel(), Link: l, Clock: &fakeClock{t: now}})
	if err != nil {
		t.Fatal(err)
	}
	return n, l
}

func flow(i int) engine.Flow {
	var f engine.Flow
	f.Family = "ipv4"
	f.SetProto(engine.ProtoTCP)
	f.Src = netip.MustParseAddr("198.51.100.10")
	f.Dst = netip.MustParseAddr("198.51.100.20")
	f.Sport, f.Dport = 10000+i, 22
	f.SetState(3)
	f.SetStatus(engine.StatusConfirmed | engine.StatusAssured | engine.StatusSeenReply)
	f.Timeout, f.Mark = 600, i
	f.Has |= engine.HasTimeout | engine.HasMark
	return f
}

// decodeAll decodes datagrams, failing on any rejected message.
func decodeAll(t *testing.T, dgs [][]byte) []*wire.Message {
	t.Helper()
	var out []*wire.Message
	for _, d := range dgs {
		wire.Decode(d, func(m *wire.Message, err error) error {
			if err != nil {
				t.Fatalf("sent a bad message: %v", err)
			}
			out = append(out, m)
			return nil
		})
	}
	return out
}

func TestSupported(t *testing.T) {
	tests := []struct{ text, want string }{
		{"General { }", "no Sync section"},
		{"Sync { Mode NOTRACK { } }", "no dedicated link"},
	}
	for _, tt := range tests {
		cfg, err := config.Parse("t.conf", []byte(tt.text))
		if err != nil {
			t.Fatalf("%s: %v", tt.text, err)
		}
		_, err = New(cfg, Options{Kernel: newFakeKernel(), Link: &fakeLink{}})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.text, err, tt.want)
		}
	}
	cfg, _ := config.Parse("t.conf", []byte(notrackConf))
	if _, err := New(cfg, Options{}); err == nil {
		t.Error("no Kernel and Link: no error")
	}
	// DisableExternalCache needs injectors: *ctnetlink.Live and the
	// fakeKernel open them, a Kernel that cannot is refused.
	inject, err := config.Parse("t.conf", []byte(injectConf))
	if err != nil {
		t.Fatal(err)
	}
	type kernelOnly struct{ Kernel }
	if _, err := New(inject, Options{Kernel: kernelOnly{newFakeKernel()}, Link: &fakeLink{}}); err == nil || !strings.Contains(err.Error(), "opens injectors") {
		t.Errorf("DisableExternalCache on a Kernel without injectors: %v", err)
	}
	for _, k := range []Kernel{&ctnetlink.Live{}, newFakeKernel()} {
		if _, err := New(inject, Options{Kernel: k, Link: &fakeLink{}}); err != nil {
			t.Errorf("DisableExternalCache on %T: %v", k, err)
		}
	}
	keyed, err := config.Parse("t.conf", []byte("Sync {\n Mode NOTRACK { }\n UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780\n AuthKey "+
		strings.Repeat("ab", 16)+" }\n}"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(keyed, Options{Kernel: newFakeKernel(), Link: &fakeLink{}}); err == nil || !strings.Contains(err.Error(), "t.conf:4: the link has an AuthKey") {
		t.Errorf("keyed configuration, plain link: %v", err)
	}
}

func TestTransmit(t *testing.T) {
	now := time.Unix(1795389893, 0)
	n, l := testNode(t, 300, now)
	var entries []*cache.Entry
	for i := range 10 {
		f := flow(i)
		e, err := n.internal.Replace(&f)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	f := flow(1)
	n.internal.Update(&f)
	f = flow(2)
	n.internal.Kill(&f)
	for _, e := range entries {
		n.enqueue(e)
		n.enqueue(e) // queued once
	}
	n.txq = append(n.txq, txItem{ctl: wire.FlagResync})
	if !n.transmit() {
		t.Fatal("transmit sent nothing")
	}
	if n.transmit() {
		t.Fatal("second transmit sent again")
	}
	for _, d := range l.sent {
		if len(d) >= 300 {
			t.Errorf("datagram of %d bytes, buffer 300", len(d))
		}
	}
	msgs := decodeAll(t, l.sent)
	// 68-byte CT messages: four fit a 300-byte buffer (a fifth would
	// reach it), then four, then two and the RESYNC.
	if len(msgs) != 11 || len(l.sent) != 3 {
		t.Fatalf("%d messages in %d datagrams", len(msgs), len(l.sent))
	}
	for i, m := range msgs {
		if m.Header.Seq != uint32(now.Unix())+uint32(i) {
			t.Errorf("message %d: seq %d", i, m.Header.Seq)
		}
		want := wire.MsgCTNew
		switch i {
		case 1:
			want = wire.MsgCTUpdate
		case 2:
			want = wire.MsgCTDelete
		case 10:
			want = wire.MsgControl
		}
		if m.Header.Type != want {
			t.Errorf("message %d: type %v, want %v", i, m.Header.Type, want)
		}
		if i < 10 {
			var got engine.Flow
			m.CT.ToFlow(&got)
			if got.Sport != 10000+i || got.Mark != i {
				t.Errorf("message %d: flow %v:%d mark %d", i, got.Src, got.Sport, got.Mark)
			}
		}
	}
	if !msgs[10].Header.IsResync() {
		t.Errorf("last message %v, want RESYNC", msgs[10].Header)
	}
	if n.internal.Len() != 9 {
		t.Errorf("internal cache holds %d after the DEL went out, want 9", n.internal.Len())
	}
}

// build encodes messages into one datagram.
func build(t *testing.T, msgs ...*wire.Message) []byte {
	t.Helper()
	var b []byte
	for _, m := range msgs {
		var err error
		if b, err = wire.AppendMessage(b, m); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func ctMsg(typ wire.MsgType, seq uint32, f engine.Flow) *wire.Message {
	var ct wire.Conntrack
	ct.FromFlow(&f)
	return &wire.Message{Header: wire.Header{Type: typ, Seq: seq}, CT: &ct}
}

func TestReceive(t *testing.T) {
	n, l := testNode(t, 1472, time.Unix(1000, 0))
	f0, f1 := flow(0), flow(1)
	n.datagram(build(t, ctMsg(wire.MsgCTNew, 100, f0), ctMsg(wire.MsgCTNew, 101, f1)))
	f1.Mark = 77
	n.datagram(build(t, ctMsg(wire.MsgCTUpdate, 102, f1), ctMsg(wire.MsgCTDelete, 103, f0)))
	if n.external.Len() != 1 {
		t.Fatalf("external cache holds %d, want 1", n.external.Len())
	}
	e, ok := n.external.Get(cache.KeyOf(&f1))
	if !ok || e.Flow.Mark != 77 || e.State != cache.StateAlive || e.Flow.ReplySport != 22 {
		t.Fatalf("external entry %+v", e)
	}

	// A gap of 5 (conntrackd counts 7), then a stale message, which
	// NOTRACK takes and counts ("before"), moving its expectation back.
	n.datagram(build(t, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagAlive, Seq: 109}}))
	n.datagram(build(t, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagAlive, Seq: 50}}))
	// NOTRACK takes FTFW's ACK as a malformed header.
	n.datagram(build(t, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagACK, Seq: 51},
		Control: &wire.Control{From: 1, To: 2}}))
	// Version 2 and a truncated tail.
	n.datagram([]byte{0x20, 0, 0, 8, 0, 0, 0, 1, 0x10, 0})
	st := n.stats
	if st.SeqLost != 7 || st.SeqBefore != 1 || st.RecvData != 4 || st.RecvControl != 2 {
		t.Errorf("stats %+v", st)
	}
	if st.RecvErrors[wire.KindBadHeader] != 1 || st.RecvErrors[wire.KindBadVersion] != 1 || st.RecvErrors[wire.KindTruncated] != 1 {
		t.Errorf("errors %v", st.RecvErrors)
	}

	// A RESYNC is answered with the internal cache.
	for i := range 3 {
		f := flow(i)
		n.internal.Replace(&f)
	}
	n.datagram(build(t, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagResync, Seq: 52},
		Control: &wire.Control{}}))
	n.transmit()
	if msgs := decodeAll(t, l.sent); len(msgs) != 3 || n.stats.ResyncsAnswered != 1 {
		t.Errorf("resync answered with %d messages", len(msgs))
	}
}

func TestKernelEvents(t *testing.T) {
	now := time.Unix(1000, 0)
	n, l := testNode(t, 1472, now)
	f := flow(0)
	n.kernelEvent(&event{typ: engine.EventNew, flow: f})
	f.Mark = 5
	n.kernelEvent(&event{typ: engine.EventUpdate, flow: f})
	n.transmit() // one UPD: the entry went out once, in its current state
	g := flow(1)
	n.kernelEvent(&event{typ: engine.EventNew, flow: g})
	n.kernelEvent(&event{typ: engine.EventDestroy, flow: g})
	n.transmit() // the entry is DEAD by now: one DEL
	msgs := decodeAll(t, l.sent)
	var types []wire.MsgType
	for _, m := range msgs {
		types = append(types, m.Header.Type)
	}
	want := []wire.MsgType{wire.MsgCTUpdate, wire.MsgCTDelete}
	if fmt.Sprint(types) != fmt.Sprint(want) {
		t.Errorf("sent %v, want %v", types, want)
	}
	if n.internal.Len() != 1 {
		t.Errorf("internal holds %d", n.internal.Len())
	}
}

// TestTrafficProcessed: the counters of ended flows add up, as
// conntrackd's "traffic processed".
func TestTrafficProcessed(t *testing.T) {
	n, _ := testNode(t, 1472, time.Unix(1000, 0))
	f := flow(0)
	n.kernelEvent(&event{typ: engine.EventNew, flow: f})
	f.OrigBytes, f.ReplyBytes, f.OrigPackets, f.ReplyPackets = 100, 50, 3, 2
	f.Has |= engine.HasCounters
	n.kernelEvent(&event{typ: engine.EventDestroy, flow: f})
	g := flow(1) // ended without counters (accounting off)
	n.kernelEvent(&event{typ: engine.EventDestroy, flow: g})
	if n.stats.TrafficBytes != 150 || n.stats.TrafficPackets != 5 || n.stats.EventsReceived != 3 {
		t.Errorf("traffic %d bytes %d packets, %d events; want 150, 5, 3", n.stats.TrafficBytes, n.stats.TrafficPackets, n.stats.EventsReceived)
	}
}

// TestCommitTimeoutOmitted: with CommitTimeout set a node sends its flows
// without NTA_TIMEOUT, as conntrackd does; without it the timeout goes out.
func TestCommitTimeoutOmitted(t *testing.T) {
	for _, tc := range []struct {
		mode string
		want bool
	}{
		{"Mode NOTRACK { CommitTimeout 180 }", false},
		{"Mode NOTRACK { }", true},
	} {
		n, l, _ := expNode(t, tc.mode, "")
		n.kernelEvent(&event{typ: engine.EventNew, flow: flow(0)})
		n.transmit()
		m := decodeAll(t, l.sent)[0]
		if m.CT == nil || m.CT.Attrs.Has(wire.AttrTimeout) != tc.want || !m.CT.Attrs.Has(wire.AttrMark) {
			t.Errorf("%s: sent %+v, want NTA_TIMEOUT %v", tc.mode, m.CT, tc.want)
		}
	}
}
