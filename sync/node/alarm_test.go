package node

import (
	"testing"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/wire"
)

const alarmConf = `Sync {
	Mode ALARM { RefreshTime 5 CacheTimeout 10 }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`

// alarmNode is an ALARM node on a fake clock, driven without Run.
func alarmNode(t *testing.T) (*Node, *fakeLink, *fakeClock) {
	t.Helper()
	cfg, err := config.Parse("t.conf", []byte(alarmConf))
	if err != nil {
		t.Fatal(err)
	}
	clk := newFakeClock()
	l := &fakeLink{max: 1472}
	n, err := New(cfg, Options{Kernel: newFakeKernel(), Link: l, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if n.alarm == nil || n.alarm.refresh != 5*time.Second || n.alarm.timeout != 10*time.Second {
		t.Fatalf("alarm state %+v", n.alarm)
	}
	return n, l, clk
}

// sentSince decodes what was sent from datagram i on and returns the
// messages.
func sentSince(t *testing.T, l *fakeLink, i int) []*wire.Message {
	t.Helper()
	return decodeAll(t, l.sent[i:])
}

func TestAlarmInterval(t *testing.T) {
	for _, refresh := range []time.Duration{0, time.Second, 5 * time.Second, 60 * time.Second} {
		a := newAlarm(refresh, time.Minute, 42)
		top := max(refresh, time.Second)
		lo, hi := time.Hour, time.Duration(0)
		for range 2000 {
			d := a.interval()
			lo, hi = min(lo, d), max(hi, d)
			if d < time.Second+200*time.Millisecond-time.Microsecond || d > top+time.Second-time.Microsecond {
				t.Fatalf("refresh %v: interval %v out of range", refresh, d)
			}
		}
		// The draw covers the range: 1 s + 200 ms at the bottom, RefreshTime
		// + 1 s at the top.
		if lo != time.Second+200*time.Millisecond-time.Microsecond || hi != top+time.Second-time.Microsecond {
			t.Errorf("refresh %v: intervals from %v to %v", refresh, lo, hi)
		}
	}
}

func TestAlarmRefresh(t *testing.T) {
	n, l, clk := alarmNode(t)
	// An entry of the start-up dump (not advertised) and one of an event.
	dumped := flow(0)
	n.internal.Update(&dumped)
	f := flow(1)
	n.kernelEvent(&event{typ: engine.EventNew, flow: f})
	n.alarmTick()
	n.transmit()
	msgs := sentSince(t, l, 0)
	if len(msgs) != 1 || msgs[0].Header.Type != wire.MsgCTNew || msgs[0].Header.Flags != 0 {
		t.Fatalf("after the event sent %d messages: %v", len(msgs), msgs)
	}

	// Within RefreshTime + 1 s each live entry is sent again, at least a
	// second after it was armed, and is sent again after that: count the
	// sends per mark over 30 simulated seconds.
	sent := map[int]int{}
	first := map[int]time.Duration{}
	mark := len(l.sent)
	for step := range 300 {
		clk.advance(100 * time.Millisecond)
		n.alarmTick()
		n.transmit()
		for _, m := range sentSince(t, l, mark) {
			if m.CT == nil || m.Header.Flags != 0 {
				t.Fatalf("ALARM sent %v", m.Header)
			}
			var g engine.Flow
			m.CT.ToFlow(&g)
			if sent[g.Mark] == 0 {
				first[g.Mark] = time.Duration(step+1) * 100 * time.Millisecond
			}
			sent[g.Mark]++
		}
		mark = len(l.sent)
	}
	for _, m := range []int{0, 1} {
		if first[m] < time.Second || first[m] > 6*time.Second {
			t.Errorf("mark %d first refreshed after %v, want within 1..6 s", m, first[m])
		}
		// Each refresh comes 1.2..6 s after the previous one.
		if sent[m] < 30/6 || sent[m] > 30 {
			t.Errorf("mark %d refreshed %d times in 30 s", m, sent[m])
		}
	}

	// A destroy goes out once as DEL and ends the refreshes.
	n.kernelEvent(&event{typ: engine.EventDestroy, flow: f})
	n.transmit()
	msgs = sentSince(t, l, mark)
	if len(msgs) != 1 || msgs[0].Header.Type != wire.MsgCTDelete {
		t.Fatalf("destroy sent %v", msgs)
	}
	if _, ok := n.internal.Get(cache.KeyOf(&f)); ok {
		t.Error("the destroyed entry stays in the internal cache")
	}
	mark = len(l.sent)
	for range 100 {
		clk.advance(100 * time.Millisecond)
		n.alarmTick()
		n.transmit()
	}
	for _, m := range sentSince(t, l, mark) {
		var g engine.Flow
		m.CT.ToFlow(&g)
		if g.Mark == 1 {
			t.Fatalf("the destroyed entry was refreshed: %v", m.Header)
		}
	}
	if len(n.alarm.flows.due) != 1 {
		t.Errorf("%d refresh alarms, want 1", len(n.alarm.flows.due))
	}
}

func TestAlarmExpire(t *testing.T) {
	n, _, clk := alarmNode(t)
	f0, f1, f2 := flow(0), flow(1), flow(2)
	n.datagram(build(t, ctMsg(wire.MsgCTNew, 100, f0), ctMsg(wire.MsgCTNew, 101, f1),
		ctMsg(wire.MsgCTNew, 102, f2)))
	// A flagged message is ignored: ALARM peers send none.
	hello := ctMsg(wire.MsgCTNew, 103, flow(3))
	hello.Header.Flags = wire.FlagHello
	n.datagram(build(t, hello, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagResync, Seq: 104},
		Control: &wire.Control{}}))
	if n.external.Len() != 3 || n.stats.ResyncsAnswered != 0 || len(n.txq) != 0 {
		t.Fatalf("external holds %d, resyncs answered %d", n.external.Len(), n.stats.ResyncsAnswered)
	}

	clk.advance(6 * time.Second)
	n.alarmTick()
	f1.Mark = 50
	n.datagram(build(t, ctMsg(wire.MsgCTUpdate, 105, f1), ctMsg(wire.MsgCTDelete, 106, f2)))
	if n.external.Len() != 2 {
		t.Fatalf("external holds %d after UPD and DEL, want 2", n.external.Len())
	}

	tests := []struct {
		after time.Duration
		want  []int // marks held
	}{
		{3 * time.Second, []int{0, 50}}, // 9 s: nothing expired
		{time.Second, []int{50}},        // 10 s: f0 not refreshed since 0 s
		{5 * time.Second, []int{50}},    // 15 s
		{time.Second, nil},              // 16 s: f1 last refreshed at 6 s
		{time.Minute, nil},
	}
	for _, tt := range tests {
		clk.advance(tt.after)
		n.alarmTick()
		var got []int
		for _, want := range tt.want {
			g := flow(0)
			if want == 50 {
				g = flow(1)
			}
			if e, ok := n.external.Get(cache.KeyOf(&g)); ok && e.Flow.Mark == want {
				got = append(got, want)
			}
		}
		if len(got) != len(tt.want) || n.external.Len() != len(tt.want) {
			t.Errorf("at +%v external holds %d, want marks %v", tt.after, n.external.Len(), tt.want)
		}
	}
	if len(n.alarm.flows.expires) != 0 {
		t.Errorf("%d expiry alarms left", len(n.alarm.flows.expires))
	}
}
