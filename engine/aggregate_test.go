package engine

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

func TestAggregate(t *testing.T) {
	dport := func(f *Flow) (any, error) { return f.Dport, nil }
	sport := func(f *Flow) (any, error) { return f.Sport, nil }
	sportVal := func(f *Flow) (float64, error) { return float64(f.Sport), nil }
	tests := []struct {
		name  string
		group Grouping
		limit int
		match func(*Flow) (bool, error)
		want  []Group
	}{
		{"count by dport, ties by key", Grouping{By: []func(*Flow) (any, error){dport}}, -1, nil,
			[]Group{{Keys: []any{22}, Count: 3, Value: 3}, {Keys: []any{23}, Count: 3, Value: 3}}},
		{"count by sport, limit", Grouping{By: []func(*Flow) (any, error){sport}}, 2, nil,
			[]Group{{Keys: []any{10}, Count: 2, Value: 2}, {Keys: []any{20}, Count: 1, Value: 1}}},
		{"sum", Grouping{By: []func(*Flow) (any, error){dport}, Agg: AggSum, Value: sportVal}, -1, nil,
			[]Group{{Keys: []any{22}, Count: 3, Value: 120}, {Keys: []any{23}, Count: 3, Value: 40}}},
		{"min", Grouping{By: []func(*Flow) (any, error){dport}, Agg: AggMin, Value: sportVal}, -1, nil,
			[]Group{{Keys: []any{22}, Count: 3, Value: 30}, {Keys: []any{23}, Count: 3, Value: 10}}},
		{"max", Grouping{By: []func(*Flow) (any, error){dport}, Agg: AggMax, Value: sportVal}, -1, nil,
			[]Group{{Keys: []any{22}, Count: 3, Value: 50}, {Keys: []any{23}, Count: 3, Value: 20}}},
		{"avg", Grouping{By: []func(*Flow) (any, error){dport}, Agg: AggAvg, Value: sportVal}, -1, nil,
			[]Group{{Keys: []any{22}, Count: 3, Value: 40}, {Keys: []any{23}, Count: 3, Value: 40.0 / 3}}},
		{"no keys, with a predicate", Grouping{Agg: AggSum, Value: sportVal}, -1,
			func(f *Flow) (bool, error) { return f.Sport > 15, nil },
			[]Group{{Keys: []any{}, Count: 4, Value: 140}}},
		{"two keys", Grouping{By: []func(*Flow) (any, error){dport, sport}}, 2, nil,
			[]Group{{Keys: []any{23, 10}, Count: 2, Value: 2}, {Keys: []any{22, 30}, Count: 1, Value: 1}}},
		{"nothing selected", Grouping{By: []func(*Flow) (any, error){dport}}, -1,
			func(*Flow) (bool, error) { return false, nil }, []Group{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{Action: ActGroup, Match: tt.match, Limit: tt.limit, Group: &tt.group}
			got, res, err := aggregate(context.Background(), &sliceSource{flows: testFlows()}, p)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) || res.Count != len(tt.want) {
				t.Errorf("got %v (count %d), want %v", got, res.Count, tt.want)
			}
		})
	}
}

func TestAggregateErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, tt := range []struct {
		name  string
		group *Grouping
	}{
		{"no grouping", nil},
		{"sum without value", &Grouping{Agg: AggSum}},
		{"key error", &Grouping{By: []func(*Flow) (any, error){func(*Flow) (any, error) { return nil, boom }}}},
		{"value error", &Grouping{Agg: AggMax, Value: func(*Flow) (float64, error) { return 0, boom }}},
		{"mixed key types", &Grouping{By: []func(*Flow) (any, error){func(f *Flow) (any, error) {
			if f.Sport == 50 {
				return "x", nil
			}
			return f.Sport, nil
		}}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := &Plan{Action: ActGroup, Limit: -1, Group: tt.group}
			if _, _, err := aggregate(context.Background(), &sliceSource{flows: testFlows()}, p); err == nil {
				t.Error("no error")
			}
		})
	}
}

// TestAggregateLimit checks that a limit well below the number of groups
// (kept in a heap while the groups are walked) gives the first groups of
// the full sort, ties by key included, for one key and for two.
func TestAggregateLimit(t *testing.T) {
	var flows []Flow
	for i := range 3000 {
		var f Flow
		f.Src = netip.AddrFrom4([4]byte{198, 51, 100, byte(i * 7919 % 251)})
		f.Sport = i * 104729 % 613
		f.Dport = i % 3
		f.Bytes = i * 31 % 17
		flows = append(flows, f)
	}
	src := func(f *Flow) (any, error) { return f.Src, nil }
	sport := func(f *Flow) (any, error) { return f.Sport, nil }
	dport := func(f *Flow) (any, error) { return f.Dport, nil }
	bytes := func(f *Flow) (float64, error) { return float64(f.Bytes), nil }
	srcAddr := func(f *Flow) netip.Addr { return f.Src }
	for _, g := range []Grouping{
		{By: []func(*Flow) (any, error){src}},
		{By: []func(*Flow) (any, error){src}, AddrKey: srcAddr},
		{By: []func(*Flow) (any, error){src}, Agg: AggSum, Value: bytes},
		{By: []func(*Flow) (any, error){src}, AddrKey: srcAddr, Agg: AggSum, Value: bytes},
		{By: []func(*Flow) (any, error){dport, sport}},
		{By: []func(*Flow) (any, error){sport}, Agg: AggMax, Value: bytes},
	} {
		all, _, err := aggregate(context.Background(), &sliceSource{flows: flows}, &Plan{Action: ActGroup, Limit: -1, Group: &g})
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(all); i++ {
			if c, _ := compareGroups(&all[i-1], &all[i]); c >= 0 {
				t.Fatalf("groups %d and %d out of order: %v, %v", i-1, i, all[i-1], all[i])
			}
		}
		for _, limit := range []int{0, 1, 10, len(all)/2 - 1, len(all) / 2, len(all) + 1} {
			got, _, err := aggregate(context.Background(), &sliceSource{flows: flows}, &Plan{Action: ActGroup, Limit: limit, Group: &g})
			if err != nil {
				t.Fatal(err)
			}
			want := all[:min(limit, len(all))]
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%d keys (AddrKey %v), %s, limit %d: got %v, want %v", len(g.By), g.AddrKey != nil, g.Agg, limit, got, want)
			}
		}
	}
}

// TestAggregateLimitMixedKeys checks that a heap of groups reports keys
// it cannot compare.
func TestAggregateLimitMixedKeys(t *testing.T) {
	key := func(f *Flow) (any, error) {
		if f.Sport == 50 {
			return "x", nil
		}
		return f.Sport, nil
	}
	// Three groups of one entry each: every comparison compares keys.
	p := &Plan{Action: ActGroup, Limit: 1, Group: &Grouping{By: []func(*Flow) (any, error){key}}}
	flows := testFlows()[:3]
	if _, _, err := aggregate(context.Background(), &sliceSource{flows: flows}, p); err == nil {
		t.Error("no error")
	}
}

// TestSortGroupsFlat checks the sort of groups of one int or address key
// (numbers, no interfaces) against compareGroups: IPv4 before IPv6,
// negative numbers, ties of value.
func TestSortGroupsFlat(t *testing.T) {
	for _, keys := range [][]any{
		{netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.255"),
			netip.MustParseAddr("2001:db8::"), netip.MustParseAddr("192.0.2.0"), netip.MustParseAddr("::ffff:192.0.2.1"), netip.Addr{}},
		{3, -1, 0, -1 << 62, 1 << 62, 7, -8},
		{"b", "a"}, // not flat: the generic sort
		{netip.MustParseAddr("fe80::1%eth0"), netip.MustParseAddr("fe80::1")}, // a zone: generic
	} {
		var groups []Group
		for i, k := range keys {
			groups = append(groups, Group{Keys: []any{k}, Count: 1, Value: float64(i % 2)})
		}
		if err := sortGroups(groups); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(groups); i++ {
			if c, err := compareGroups(&groups[i-1], &groups[i]); err != nil || c >= 0 {
				t.Errorf("%v before %v (%v)", groups[i-1], groups[i], err)
			}
		}
	}
}

// TestAggregateAddrKey checks that reading the key as an address gives
// the groups reading it as a value does.
func TestAggregateAddrKey(t *testing.T) {
	flows := append(testFlows(), testFlows()...)
	flows[3].Src = netip.MustParseAddr("fe80::1%eth0")
	flows[9].Src = netip.MustParseAddr("fe80::1%eth0")
	flows[4].Src = netip.MustParseAddr("fe80::1")
	src := func(f *Flow) (any, error) { return f.Src, nil }
	sport := func(f *Flow) (float64, error) { return float64(f.Sport), nil }
	for _, agg := range []AggFunc{AggCount, AggSum, AggMin, AggMax, AggAvg} {
		g := Grouping{By: []func(*Flow) (any, error){src}, Agg: agg}
		if agg != AggCount {
			g.Value = sport
		}
		want, _, err := aggregate(context.Background(), &sliceSource{flows: flows}, &Plan{Action: ActGroup, Limit: -1, Group: &g})
		if err != nil {
			t.Fatal(err)
		}
		g.AddrKey = func(f *Flow) netip.Addr { return f.Src }
		got, _, err := aggregate(context.Background(), &sliceSource{flows: flows}, &Plan{Action: ActGroup, Limit: -1, Group: &g})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %v, want %v", agg, got, want)
		}
	}
}
