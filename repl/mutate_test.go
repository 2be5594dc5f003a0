package repl

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"ctq/engine"
	"ctq/engine/snapshot"
)

// mutableSnapshot is the test snapshot with a Mutator that records the
// entries deleted (by source port) and does nothing.
type mutableSnapshot struct {
	engine.Source
	deleted []int
}

func (m *mutableSnapshot) NewBatch(context.Context) (engine.Batch, error) {
	return &recordingBatch{m: m}, nil
}
func (m *mutableSnapshot) Flush(context.Context, engine.Table, int) error { return nil }
func (m *mutableSnapshot) FlushFilter(context.Context, *engine.KernelFilter) (bool, error) {
	return false, nil
}

type recordingBatch struct {
	m     *mutableSnapshot
	stats engine.BatchStats
}

func (b *recordingBatch) Delete(f *engine.Flow) error {
	b.m.deleted = append(b.m.deleted, f.Sport)
	b.stats.Done++
	return nil
}
func (b *recordingBatch) Update(*engine.Flow, engine.Change) error { b.stats.Done++; return nil }
func (b *recordingBatch) Create(*engine.Flow) error                { b.stats.Done++; return nil }
func (b *recordingBatch) Close() (engine.BatchStats, error)        { return b.stats, nil }

// TestMutationEvalErrors: a condition that fails at run time on one entry
// leaves it untouched; the others are deleted, and the summary and the
// exit code say so.
func TestMutationEvalErrors(t *testing.T) {
	for _, tt := range []struct{ format, want string }{
		{"", "deleted 3 entries, 1 could not be evaluated: integer divide by zero at 1:18 (first of 1)\n"},
		{"json", `{"deleted":3,"gone":0,"failed":0,"errors":1}` + "\n"},
	} {
		const script = "delete where 100 % (sport - 40001) >= 0"
		var out, errb bytes.Buffer
		m := &mutableSnapshot{}
		s := NewSession(Config{Stdout: &out, Stderr: &errb, Format: tt.format, OpenLive: func(string) (engine.Source, error) {
			src, err := snapshot.Open("testdata/table.save", nil)
			m.Source = src
			return m, err
		}})
		err := s.Run(context.Background(), "", script)
		s.Close()
		if ExitCode(err) != ExitRuntime {
			t.Errorf("%s: got %v (exit %d), want exit 1", tt.format, err, ExitCode(err))
		}
		if len(m.deleted) != 3 || slices.Contains(m.deleted, 40001) {
			t.Errorf("%s: deleted %v, want the 3 entries other than sport 40001", tt.format, m.deleted)
		}
		if out.String() != tt.want {
			t.Errorf("%s: output\n%q\nwant\n%q", tt.format, out.String(), tt.want)
		}
	}
}
