package repl

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/engine/snapshot"
)

// lossyEvents is the test snapshot with an event stream: a NEW event of
// each entry, with a loss of two overflow reports after the first.
type lossyEvents struct {
	engine.Source
	reliable bool
}

func (s *lossyEvents) Watch(ctx context.Context, cfg engine.WatchConfig, yield func(*engine.Event) error) (engine.WatchStats, error) {
	s.reliable = cfg.Reliable
	var st engine.WatchStats
	var flows []engine.Flow
	if _, err := s.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		flows = append(flows, *f)
		return nil
	}); err != nil {
		return st, err
	}
	for i := range flows[:2] {
		if err := yield(&engine.Event{Type: engine.EventNew, Flow: &flows[i], Time: time.Unix(1, 0)}); err != nil {
			return st, err
		}
		st.Received++
		if i == 0 {
			st.Overflows += 2
			if err := cfg.Lost(2, time.Unix(2, 0)); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// TestWatchLossMarker: the shell's watch marks lost events in its output
// where they happened, fails with exit code 1, and passes reliable on.
func TestWatchLossMarker(t *testing.T) {
	for _, tt := range []struct{ script, marker string }{
		{"watch reliable", format.LossText + " x2"},
		{"watch as json", `{"lost":true,"overflows":2,"time":"1970-01-01T00:00:02.000000000Z"}`},
	} {
		var out, errb bytes.Buffer
		src := &lossyEvents{}
		s := NewSession(Config{Stdout: &out, Stderr: &errb, OpenLive: func(string) (engine.Source, error) {
			snap, err := snapshot.Open("testdata/table.save", nil)
			src.Source = snap
			return src, err
		}})
		err := s.Run(context.Background(), "", tt.script)
		s.Close()
		lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if len(lines) != 3 || lines[1] != tt.marker {
			t.Errorf("%s: output\n%s\nwant the marker %s on the second of 3 lines", tt.script, out.String(), tt.marker)
		}
		if ExitCode(err) != ExitRuntime || !strings.Contains(err.Error(), "overflowed 2 times") {
			t.Errorf("%s: %v (exit %d), want exit 1 with the overflow count", tt.script, err, ExitCode(err))
		}
		if src.reliable != strings.Contains(tt.script, "reliable") {
			t.Errorf("%s: reliable %v", tt.script, src.reliable)
		}
	}
}
