//go:build linux

package ctnetlink

import (
	"context"
	"slices"
	"strings"
	"testing"

	"ctq/internal/nstest"

	"ctq/engine"
)

// These tests cover what conntrack(8)'s front end needs of the engine:
// echoed deletes and updates, zeroing dumps, creates that tolerate an
// existing entry, and updates of the protocol state.

// flowsOut collects the flows an Exec writes.
type flowsOut struct{ flows []engine.Flow }

func (o *flowsOut) Write(f *engine.Flow) error { o.flows = append(o.flows, *f); return nil }
func (o *flowsOut) Flush() error               { return nil }

// sports are the source ports of flows, sorted.
func sports(flows []engine.Flow) []int {
	var out []int
	for _, f := range flows {
		out = append(out, f.Sport)
	}
	slices.Sort(out)
	return out
}

func TestExecEchoDelete(t *testing.T) {
	ns := nstest.New(t)
	ns.Load(t, deleteTable)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	dport22 := func(f *engine.Flow) (bool, error) { return f.Dport == 22 && f.ProtoNum == engine.ProtoTCP, nil }
	before, _ := scanAll(t, l, engine.TableConntrack, nil)
	var want []engine.Flow
	for i := range before {
		if ok, _ := dport22(&before[i]); ok {
			want = append(want, before[i])
		}
	}
	var out flowsOut
	res, err := engine.Exec(context.Background(), l, &engine.Plan{Action: engine.ActDelete, Limit: -1,
		Match: dport22, Echo: true, Exact: true}, engine.FlowsTo(&out), nil)
	if err != nil || res.Count != len(want) || res.FilteredFlush {
		t.Fatalf("delete: %+v %v, want %d entries", res, err, len(want))
	}
	if got, w := sports(out.flows), sports(want); !slices.Equal(got, w) {
		t.Errorf("echoed sports %v, want %v", got, w)
	}
	for _, f := range out.flows {
		if f.Has&engine.HasID == 0 || f.Dport != 22 {
			t.Errorf("echoed entry %+v is not one as read", f)
		}
	}
	if n := ctCount(t, ns); n != len(before)-len(want) {
		t.Errorf("%d entries left, want %d", n, len(before)-len(want))
	}
}

func TestExecEchoUpdateState(t *testing.T) {
	ns := nstest.New(t)
	ns.Load(t, mixedTable)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	const timeWait = 7 // TCP_CONNTRACK_TIME_WAIT
	stateful := func(f *engine.Flow) (bool, error) {
		return f.Family == "ipv4" && (f.ProtoNum == engine.ProtoTCP || f.ProtoNum == engine.ProtoSCTP), nil
	}
	var out flowsOut
	res, err := engine.Exec(context.Background(), l, &engine.Plan{Action: engine.ActUpdate, Limit: -1, Match: stateful, Echo: true,
		Change: func(f *engine.Flow) (engine.Change, error) {
			if f.ProtoNum == engine.ProtoSCTP {
				return engine.Change{SetState: true, StateNum: 3}, nil // COOKIE_ECHOED
			}
			return engine.Change{SetState: true, StateNum: timeWait}, nil
		}}, engine.FlowsTo(&out), nil)
	if err != nil || res.Count != 7 || len(out.flows) != 7 {
		t.Fatalf("update: %+v %v, %d echoed, want 7", res, err, len(out.flows))
	}
	for _, f := range out.flows {
		want := "TIME_WAIT"
		if f.ProtoNum == engine.ProtoSCTP {
			want = "COOKIE_ECHOED"
		}
		if f.State != want || f.Use != 2 {
			t.Errorf("echoed %v sport %d: state %q use %d, want %s as the kernel holds it now (use 2)", f.Proto, f.Sport, f.State, f.Use, want)
		}
	}
	for _, line := range listMasked(t, ns, "-p", "tcp", "-f", "ipv4") {
		if !strings.Contains(line, " TIME_WAIT ") {
			t.Errorf("conntrack -L after the update: %s", line)
		}
	}
	// A state for a protocol without one is refused before anything is sent.
	_, err = engine.Exec(context.Background(), l, &engine.Plan{Action: engine.ActUpdate, Limit: -1,
		Match:  func(f *engine.Flow) (bool, error) { return f.ProtoNum == engine.ProtoUDP, nil },
		Change: func(*engine.Flow) (engine.Change, error) { return engine.Change{SetState: true, StateNum: 1}, nil }}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "no state") {
		t.Errorf("state of a udp entry: %v", err)
	}
}

func TestExecZeroCounters(t *testing.T) {
	ns := nstest.New(t)
	// A namespace tracks packets only once a rule uses conntrack.
	ns.Run(t, "nft", "add table inet ctqtest; add chain inet ctqtest out { type filter hook output priority 0; }; "+
		"add rule inet ctqtest out ct state new counter")
	port := ns.TCPExchange(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	var out flowsOut
	if _, err := engine.Exec(context.Background(), l, &engine.Plan{Action: engine.ActList, Limit: -1, Zero: true},
		engine.FlowsTo(&out), nil); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(out.flows, func(f engine.Flow) bool { return f.Dport == port })
	if i < 0 || out.flows[i].OrigPackets == 0 {
		t.Fatalf("the zeroing list did not show the exchange's counters: %+v", out.flows)
	}
	after, _ := scanAll(t, l, engine.TableConntrack, nil)
	for _, f := range after {
		if f.OrigPackets != 0 || f.ReplyPackets != 0 || f.OrigBytes != 0 {
			t.Errorf("counters after the zeroing list: %+v", f)
		}
	}
}

func TestExecInsertIfAbsent(t *testing.T) {
	ns := nstest.New(t)
	ns.Load(t, mixedTable[:4])
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	flows, _ := scanAll(t, l, engine.TableConntrack, nil)
	gone := flows[0]
	if st := deleteAll(t, l, []engine.Flow{gone}); st.Done != 1 {
		t.Fatalf("delete: %+v", st)
	}
	res, err := engine.Exec(context.Background(), l, &engine.Plan{Action: engine.ActInsert, Limit: -1, IfAbsent: true, Create: flows}, nil, nil)
	if err != nil || res.Batch.Done != 1 || res.Batch.Exists != len(flows)-1 || res.Batch.Failed != 0 {
		t.Errorf("insert if absent: %+v %v", res.Batch, err)
	}
	if n := ctCount(t, ns); n != len(flows) {
		t.Errorf("%d entries, want %d", n, len(flows))
	}
	// Without IfAbsent an existing entry is a failure.
	_, err = engine.Exec(context.Background(), l, &engine.Plan{Action: engine.ActInsert, Limit: -1, Create: flows[:1]}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "EEXIST") {
		t.Errorf("insert of an existing entry: %v", err)
	}
}
