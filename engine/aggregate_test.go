package engine

import (
	"context"
	"errors"
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
