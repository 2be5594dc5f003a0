package engine

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"testing"
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

// collect is a Writer that keeps the sports of what it is given.
type collect struct{ sports []int }

func (c *collect) Write(f *Flow) error { c.sports = append(c.sports, f.Sport); return nil }
func (c *collect) Flush() error        { return nil }

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
