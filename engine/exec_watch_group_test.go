package engine

import (
	"context"
	"reflect"
	"testing"
	"time"
)

// eventSource is a sliceSource whose Watch yields one NEW event per flow,
// then waits for the end of the watch.
type eventSource struct{ sliceSource }

func (e *eventSource) Watch(ctx context.Context, cfg WatchConfig, yield func(*Event) error) (WatchStats, error) {
	var st WatchStats
	for i := range e.flows {
		f := e.flows[i]
		if err := yield(&Event{Type: EventNew, Flow: &f}); err != nil {
			return st, err
		}
		st.Received++
	}
	<-ctx.Done()
	return st, nil
}

func TestWatchGroupsCounts(t *testing.T) {
	src := &eventSource{sliceSource{flows: testFlows()}}
	byDport := func(f *Flow) (any, error) { return f.Dport, nil }
	p := &Plan{Action: ActWatch, Limit: 1, Every: 20 * time.Millisecond,
		Group: &Grouping{Agg: AggCount, By: []func(*Flow) (any, error){byDport}},
		Match: func(f *Flow) (bool, error) { return f.Sport != 50, nil }}
	var reports []IntervalReport
	_, err := watchGroups(context.Background(), src, p, func(r *IntervalReport) error {
		reports = append(reports, *r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 {
		t.Fatalf("%d reports, want 1 (limit 1)", len(reports))
	}
	r := reports[0]
	want := []Group{{Keys: []any{23}, Count: 3, Value: 3}, {Keys: []any{22}, Count: 2, Value: 2}}
	if r.Total != 5 || !reflect.DeepEqual(r.Groups, want) {
		t.Errorf("report total %d groups %+v; want 5 and %+v", r.Total, r.Groups, want)
	}

	// Bounded by time: the events come in the first interval, later
	// intervals report nothing, and every event is counted once.
	p = &Plan{Action: ActWatch, Limit: -1, Every: 10 * time.Millisecond, For: 100 * time.Millisecond,
		Group: &Grouping{Agg: AggCount}}
	total := 0
	if _, err := watchGroups(context.Background(), src, p, func(r *IntervalReport) error {
		total += r.Total
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if total != 6 {
		t.Errorf("counted %d events over all intervals, want 6", total)
	}

	if _, err := watchGroups(context.Background(), &sliceSource{}, p, nil); err == nil {
		t.Error("a source without events: want an error")
	}
}
