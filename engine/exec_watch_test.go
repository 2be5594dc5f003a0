package engine

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"
)

// lossySource yields its flows as NEW events with a loss of 2 reports
// after the first one, and records the config it was given.
type lossySource struct {
	sliceSource
	cfg WatchConfig
}

func (s *lossySource) Watch(ctx context.Context, cfg WatchConfig, yield func(*Event) error) (WatchStats, error) {
	s.cfg = cfg
	st := WatchStats{}
	for i := range s.flows {
		f := s.flows[i]
		if err := yield(&Event{Type: EventNew, Flow: &f}); err != nil {
			return st, err
		}
		st.Received++
		if i == 0 {
			st.Overflows += 2
			if cfg.Lost != nil {
				if err := cfg.Lost(2, time.Unix(1, 0)); err != nil {
					return st, err
				}
			}
		}
	}
	return st, nil
}

// lossRecorder is an EventWriter and LossWriter that records what it got.
type lossRecorder struct{ got []string }

func (r *lossRecorder) WriteEvent(ev *Event) error {
	r.got = append(r.got, fmt.Sprint(ev.Flow.Sport))
	return nil
}
func (r *lossRecorder) WriteLoss(n int, _ time.Time) error {
	r.got = append(r.got, fmt.Sprintf("lost:%d", n))
	return nil
}
func (r *lossRecorder) Flush() error { return nil }

// TestWatchMarksLoss: a watch marks a loss in its output where it
// happened, counts it, and passes the plan's reliability on.
func TestWatchMarksLoss(t *testing.T) {
	src := &lossySource{sliceSource: sliceSource{flows: testFlows()[:3]}}
	var w lossRecorder
	res, err := Exec(context.Background(), src, &Plan{Action: ActWatch, Limit: -1, Reliable: true}, EventsTo(&w), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"50", "lost:2", "10", "40"}; !reflect.DeepEqual(w.got, want) {
		t.Errorf("output %q, want %q", w.got, want)
	}
	if res.Watch.Overflows != 2 || !src.cfg.Reliable {
		t.Errorf("result %+v, reliable %v", res, src.cfg.Reliable)
	}
}
