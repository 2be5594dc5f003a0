package account

import (
	"context"
	"slices"
	"testing"

	"ctq/engine"
)

// tableSource is a Source whose table the test sets between dumps.
type tableSource struct {
	flows []engine.Flow
	dying []engine.Flow // the dying table
}

func (t *tableSource) Scan(_ context.Context, table engine.Table, _ *engine.KernelFilter, yield func(*engine.Flow) error) (engine.ScanStats, error) {
	flows := t.flows
	if table == engine.TableDying {
		flows = t.dying
	}
	for i := range flows {
		if err := yield(&flows[i]); err != nil {
			return engine.ScanStats{}, err
		}
	}
	return engine.ScanStats{}, nil
}

func (t *tableSource) Get(context.Context, *engine.Flow) (*engine.Flow, error) {
	return nil, engine.ErrNotFound
}

func (t *tableSource) Close() error { return nil }

// idWriter records the ids of the events written.
type idWriter struct{ ids []int }

func (w *idWriter) WriteEvent(ev *engine.Event) error {
	if ev.Type != engine.EventDestroy {
		panic("account wrote a non-destroy event")
	}
	w.ids = append(w.ids, ev.Flow.ID)
	return nil
}

func (w *idWriter) Flush() error { return nil }

func TestState(t *testing.T) {
	ids := func(ns ...int) []engine.Flow {
		var out []engine.Flow
		for _, n := range ns {
			out = append(out, engine.Flow{ID: n, Proto: "udp", Dport: n})
		}
		return out
	}
	type step struct {
		table   []engine.Flow // the table of a dump; nil steps are destroy events
		destroy []int         // destroy events before this step's dump
		want    []int         // ids logged by this step (sorted)
	}
	tests := []struct {
		name       string
		steps      []step
		wantFinish []int
		recovered  int // logged by dumps, before finish
	}{
		{"gone entries wait one dump", []step{
			{table: ids(1, 2, 3, 10)},
			{table: ids(3), want: nil},
			{table: ids(3), want: []int{1, 2}},
		}, nil, 2},
		{"a late destroy event wins", []step{
			{table: ids(1, 2)},
			{table: ids(), want: nil},
			{table: ids(), destroy: []int{1, 2}, want: []int{1, 2}},
		}, nil, 0},
		{"destroyed before the dump", []step{
			{table: ids(1, 2)},
			{table: ids(2), destroy: []int{1}, want: []int{1}},
		}, nil, 0},
		{"not selected", []step{
			{table: ids(10, 11)},
			{table: ids()},
			{table: ids()},
		}, nil, 0},
		{"end logs the gone", []step{
			{table: ids(4)},
			{table: ids(5)},
		}, []int{4}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := &tableSource{}
			a := &state{src: src, gone: map[int]goneFlow{},
				match: func(f *engine.Flow) (bool, error) { return f.Dport < 10, nil }}
			w := &idWriter{}
			tracker := &destroyTracker{w: w, known: a}
			for i, st := range tt.steps {
				w.ids = nil
				for _, id := range st.destroy {
					if err := tracker.WriteEvent(&engine.Event{Type: engine.EventDestroy, Flow: &engine.Flow{ID: id, Dport: id}}); err != nil {
						t.Fatal(err)
					}
				}
				src.flows = st.table
				var out engine.EventWriter
				if i > 0 {
					out = w
				}
				if err := a.dump(context.Background(), out); err != nil {
					t.Fatal(err)
				}
				slices.Sort(w.ids)
				if !slices.Equal(w.ids, st.want) {
					t.Errorf("step %d logged %v, want %v", i, w.ids, st.want)
				}
			}
			w.ids = nil
			if err := a.finish(w); err != nil {
				t.Fatal(err)
			}
			if got := w.ids; !slices.Equal(got, tt.wantFinish) {
				t.Errorf("finish logged %v, want %v", got, tt.wantFinish)
			}
			recovered := tt.recovered + len(tt.wantFinish)
			if a.recovered != recovered {
				t.Errorf("recovered %d, want %d", a.recovered, recovered)
			}
		})
	}
}
