package engine

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"testing"
	"time"
)

// sliceSource is a Source over a fixed slice, for tests of Exec.
type sliceSource struct {
	flows   []Flow
	counter int // returned by Count; -1: no Counter behaviour wanted
}

func (s *sliceSource) Scan(ctx context.Context, table Table, filter *KernelFilter, yield func(*Flow) error) (ScanStats, error) {
	var st ScanStats
	var f Flow
	for i := range s.flows {
		f = s.flows[i]
		st.Received++
		if err := yield(&f); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (s *sliceSource) Get(ctx context.Context, key *Flow) (*Flow, error) {
	for i := range s.flows {
		if s.flows[i].Src == key.Src && s.flows[i].Sport == key.Sport {
			f := s.flows[i]
			return &f, nil
		}
	}
	return nil, ErrNotFound
}

func (s *sliceSource) Close() error { return nil }

type countingSource struct{ sliceSource }

func (c *countingSource) Count(context.Context) (int, error) { return c.counter, nil }

// collect is an Output that keeps the sports of the flows and events it
// is given, the groups and the interval reports.
type collect struct {
	sports  []int
	groups  []Group
	reports []IntervalReport
}

func (c *collect) Write(f *Flow) error { c.sports = append(c.sports, f.Sport); return nil }
func (c *collect) Flush() error        { return nil }
func (c *collect) WriteEvent(ev *Event) error {
	if ev.Flow != nil {
		c.sports = append(c.sports, ev.Flow.Sport)
	}
	return nil
}
func (c *collect) Flows() (Writer, error)       { return c, nil }
func (c *collect) Events() (EventWriter, error) { return c, nil }
func (c *collect) Expects() (ExpectWriter, error) {
	return nil, errors.New("collect: no expectations")
}
func (c *collect) Groups(g []Group) error { c.groups = g; return nil }
func (c *collect) Interval(r *IntervalReport) error {
	c.reports = append(c.reports, *r)
	return nil
}

func testFlows() []Flow {
	var out []Flow
	for i, port := range []int{50, 10, 40, 20, 30, 10} {
		var f Flow
		f.SetProto(ProtoTCP)
		f.Src = netip.AddrFrom4([4]byte{192, 0, 2, byte(i + 1)})
		f.Sport = port
		f.Dport = 22 + i%2
		out = append(out, f)
	}
	return out
}

func TestExec(t *testing.T) {
	dport22 := func(f *Flow) (bool, error) { return f.Dport == 22, nil }
	bySport := func(desc bool) []OrderKey {
		return []OrderKey{{Value: func(f *Flow) (any, error) { return f.Sport, nil }, Desc: desc}}
	}
	tests := []struct {
		name  string
		plan  Plan
		want  []int
		count int
	}{
		{"all", Plan{Action: ActList, Limit: -1}, []int{50, 10, 40, 20, 30, 10}, 6},
		{"where", Plan{Action: ActList, Limit: -1, Match: dport22}, []int{50, 40, 30}, 3},
		{"limit", Plan{Action: ActList, Limit: 2}, []int{50, 10}, 2},
		{"limit 0", Plan{Action: ActList, Limit: 0}, nil, 0},
		{"order asc", Plan{Action: ActList, Limit: -1, Order: bySport(false)}, []int{10, 10, 20, 30, 40, 50}, 6},
		{"order desc", Plan{Action: ActList, Limit: -1, Order: bySport(true)}, []int{50, 40, 30, 20, 10, 10}, 6},
		{"top 3 asc", Plan{Action: ActList, Limit: 3, Order: bySport(false)}, []int{10, 10, 20}, 3},
		{"top 2 desc where", Plan{Action: ActList, Limit: 2, Match: dport22, Order: bySport(true)}, []int{50, 40}, 2},
		{"count where", Plan{Action: ActCount, Limit: -1, Match: dport22}, nil, 3},
		{"count limit", Plan{Action: ActCount, Limit: 2}, nil, 2},
		{"get", Plan{Action: ActGet, Limit: -1, Key: &Flow{Src: netip.MustParseAddr("192.0.2.3"), Sport: 40}}, []int{40}, 1},
		{"get filtered out", Plan{Action: ActGet, Limit: -1, Match: dport22, Key: &Flow{Src: netip.MustParseAddr("192.0.2.2"), Sport: 10}}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &collect{}
			res, err := Exec(context.Background(), &sliceSource{flows: testFlows()}, &tt.plan, w, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(w.sports, tt.want) {
				t.Errorf("written %v, want %v", w.sports, tt.want)
			}
			if res.Count != tt.count {
				t.Errorf("count %d, want %d", res.Count, tt.count)
			}
		})
	}
}

func TestExecCountUsesCounter(t *testing.T) {
	src := &countingSource{sliceSource{flows: testFlows(), counter: 1234}}
	res, err := Exec(context.Background(), src, &Plan{Action: ActCount, Limit: -1}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Count != 1234 || !res.FromCounter {
		t.Errorf("got %+v, want the counter's 1234", res)
	}
	// A filtered count must scan.
	res, err = Exec(context.Background(), src, &Plan{Action: ActCount, Limit: -1, Filter: KernelFilter{Family: FamilyIPv4}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Count != 6 || res.FromCounter {
		t.Errorf("got %+v, want a scan of 6", res)
	}
}

func TestExecErrors(t *testing.T) {
	boom := errors.New("boom")
	_, err := Exec(context.Background(), &sliceSource{flows: testFlows()},
		&Plan{Action: ActList, Limit: -1, Match: func(*Flow) (bool, error) { return false, boom }}, &collect{}, nil)
	if !errors.Is(err, boom) {
		t.Errorf("predicate error: got %v", err)
	}
	mixed := []OrderKey{{Value: func(f *Flow) (any, error) {
		if f.Sport == 10 {
			return "x", nil
		}
		return f.Sport, nil
	}}}
	_, err = Exec(context.Background(), &sliceSource{flows: testFlows()},
		&Plan{Action: ActList, Limit: -1, Order: mixed}, &collect{}, nil)
	if err == nil {
		t.Error("mixed key types: want an error")
	}
	_, err = Exec(context.Background(), &sliceSource{flows: testFlows()},
		&Plan{Action: ActGet, Limit: -1, Key: &Flow{Sport: 999}}, &collect{}, nil)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("get missing: got %v", err)
	}
}

// TestExecDispatch runs every kind of plan through Exec: each reaches the
// part of the Output it produces.
func TestExecDispatch(t *testing.T) {
	ctx := context.Background()
	src := &eventSource{sliceSource{flows: testFlows()}}
	byDport := func(f *Flow) (any, error) { return f.Dport, nil }

	out := &collect{}
	res, err := Exec(ctx, src, &Plan{Action: ActGroup, Limit: -1,
		Group: &Grouping{Agg: AggCount, By: []func(*Flow) (any, error){byDport}}}, out, nil)
	want := []Group{{Keys: []any{22}, Count: 3, Value: 3}, {Keys: []any{23}, Count: 3, Value: 3}}
	if err != nil || res.Count != 2 || !reflect.DeepEqual(out.groups, want) {
		t.Errorf("group: %v, count %d, groups %+v; want %+v", err, res.Count, out.groups, want)
	}

	out = &collect{}
	res, err = Exec(ctx, src, &Plan{Action: ActWatch, Limit: 4}, out, nil)
	if err != nil || res.Count != 4 || !reflect.DeepEqual(out.sports, []int{50, 10, 40, 20}) {
		t.Errorf("watch: %v, count %d, events %v; want the first 4", err, res.Count, out.sports)
	}

	out = &collect{}
	// The source yields every event at once, then waits for the end: the
	// interval is an hour, so the one report is that of the watch's end.
	_, err = Exec(ctx, src, &Plan{Action: ActWatch, Limit: -1, Every: time.Hour, For: 10 * time.Millisecond,
		Group: &Grouping{Agg: AggCount}}, out, nil)
	if err != nil || len(out.reports) != 1 || out.reports[0].Total != 6 {
		t.Errorf("counting watch: %v, reports %+v; want one of 6 events", err, out.reports)
	}

	if _, err := Exec(ctx, src, &Plan{Action: ActList, Limit: -1}, nil, nil); !errors.Is(err, ErrNoOutput) {
		t.Errorf("list without output: got %v, want ErrNoOutput", err)
	}
	if _, err := Exec(ctx, src, &Plan{Action: ActList, Table: TableExpect, Limit: -1}, out, nil); err == nil {
		t.Error("expect list on a source without expectations: want an error")
	}
}
