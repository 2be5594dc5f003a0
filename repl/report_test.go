package repl

import (
	"bytes"
	"testing"

	"ctq/engine"
)

// TestSummaryLines: what a mutation's summary says, and where it goes,
// for the plans of insert if absent and of delete/update with as (whose
// entries are the output: the summary then goes to stderr).
func TestSummaryLines(t *testing.T) {
	for _, tt := range []struct {
		name     string
		plan     engine.Plan
		res      engine.Result
		format   string
		out, err string
	}{
		{"insert", engine.Plan{Action: engine.ActInsert}, engine.Result{Count: 2, Batch: engine.BatchStats{Done: 2}}, "",
			"inserted 2 entries\n", ""},
		{"insert if absent", engine.Plan{Action: engine.ActInsert, IfAbsent: true},
			engine.Result{Count: 2, Batch: engine.BatchStats{Done: 2, Exists: 3}}, "",
			"inserted 2 entries, 3 existed\n", ""},
		{"insert if absent json", engine.Plan{Action: engine.ActInsert, IfAbsent: true},
			engine.Result{Count: 1, Batch: engine.BatchStats{Done: 1, Exists: 0}}, "json",
			`{"inserted":1,"existed":0,"failed":0}` + "\n", ""},
		{"delete as save", engine.Plan{Action: engine.ActDelete, Echo: true}, engine.Result{Count: 3, Batch: engine.BatchStats{Done: 3}}, "save",
			"", "ctq: deleted 3 entries\n"},
		{"update as json", engine.Plan{Action: engine.ActUpdate, Echo: true}, engine.Result{Count: 1, Batch: engine.BatchStats{Done: 1}}, "json",
			"", "ctq: updated 1 entry\n"},
		{"delete", engine.Plan{Action: engine.ActDelete}, engine.Result{Count: 3, Batch: engine.BatchStats{Done: 3}}, "save",
			"deleted 3 entries\n", ""},
	} {
		var out, errb bytes.Buffer
		s := NewSession(Config{Stdout: &out, Stderr: &errb})
		if err := s.summary(&tt.plan, tt.res, tt.format); err != nil {
			t.Fatal(err)
		}
		if out.String() != tt.out || errb.String() != tt.err {
			t.Errorf("%s: stdout %q stderr %q, want %q %q", tt.name, out.String(), errb.String(), tt.out, tt.err)
		}
	}
}
