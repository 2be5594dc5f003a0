package repl

import (
	"bytes"
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ctq/engine"
	"ctq/engine/format"
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

// TestFailEmpty: with Config.FailEmpty a run in which a statement selected
// or changed nothing ends with an *EmptyError (exit code 1) after every
// statement ran; an exit statement's code wins.
func TestFailEmpty(t *testing.T) {
	for _, tt := range []struct {
		script string
		fail   bool
		want   string // the EmptyError's text
		out    string
	}{
		{"list where dport == 22", false, "", ""},
		{"list where dport == 23", true, "--fail-empty: list (line 1) selected nothing", ""},
		{"count where mark == 9", true, "--fail-empty: count (line 1) selected nothing", "0\n"},
		{"count where dport == 53", false, "", "1\n"},
		{"count where mark == 9 by dport", true, "--fail-empty: count (line 1) selected nothing", ""},
		{"list where dport == 23\ncount where dport == 53", true, "--fail-empty: list (line 1) selected nothing", "1\n"},
		{"let n = count where mark == 9\nprint n", false, "", "0\n"},
		{"list where dport == 23\nexit 0", false, "", ""},
		{"list where dport == 23\nexit 3", true, "the script exited with code 3", ""},
	} {
		var out, errb bytes.Buffer
		s := NewSession(Config{Stdout: &out, Stderr: &errb, From: "testdata/table.save", FailEmpty: true})
		err := s.Run(context.Background(), "", tt.script)
		s.Close()
		if (err != nil) != tt.fail || err != nil && err.Error() != tt.want {
			t.Errorf("%q: error %v, want %q", tt.script, err, tt.want)
		}
		if tt.fail && tt.want[0] == '-' && ExitCode(err) != ExitRuntime {
			t.Errorf("%q: exit code %d, want 1", tt.script, ExitCode(err))
		}
		if tt.out != "" && out.String() != tt.out {
			t.Errorf("%q: output %q, want %q", tt.script, out.String(), tt.out)
		}
	}
	// Without FailEmpty nothing selected is no error.
	s := NewSession(Config{Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, From: "testdata/table.save"})
	defer s.Close()
	if err := s.Run(context.Background(), "", "list where dport == 23"); err != nil {
		t.Errorf("without FailEmpty: %v", err)
	}
}

// TestLabelFilterShowsLabels: a condition on labels makes conntrack's text
// format show the labels, as conntrack -l does; other statements keep
// conntrack -L's line.
func TestLabelFilterShowsLabels(t *testing.T) {
	f := &engine.Flow{Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"), Sport: 1, Dport: 2,
		ReplySrc: netip.MustParseAddr("192.0.2.2"), ReplyDst: netip.MustParseAddr("192.0.2.1"), ReplySport: 2, ReplyDport: 1, Timeout: 50}
	f.SetFamily(engine.FamilyIPv4)
	f.SetProto(engine.ProtoUDP)
	f.Labels.Set(1)
	f.Has |= engine.HasLabels | engine.HasReply | engine.HasTimeout
	path := filepath.Join(t.TempDir(), "t.json")
	if err := os.WriteFile(path, append(format.AppendJSON(nil, f, nil), '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		script string
		labels bool
	}{
		{"list", false},
		{`list where "web" in labels`, true},
		{`list where 1 in labels and dport == 2`, true},
		{`list where 1 in label_bits`, true},
		{`list where dport == 2`, false},
	} {
		var out, errb bytes.Buffer
		s := NewSession(Config{Stdout: &out, Stderr: &errb, From: path})
		s.labels, s.labelsRead = map[int]string{1: "web"}, true
		if err := s.Run(context.Background(), "", tt.script); err != nil {
			t.Fatalf("%s: %v", tt.script, err)
		}
		s.Close()
		if got := strings.Contains(out.String(), " labels=web"); got != tt.labels {
			t.Errorf("%s: %q, labels shown %v, want %v", tt.script, out.String(), got, tt.labels)
		}
	}
}

// TestExplainNewClauses: explain says what zero and as do on delete.
func TestExplainNewClauses(t *testing.T) {
	for _, tt := range []struct{ script, want string }{
		{"explain list where mark == 1 zero", "zero:              the kernel zeroes the counters of every entry its dump reads (explain zeroes nothing)\n"},
		{"explain delete where mark == 1 as save", "print:             each entry the kernel deleted, as save\n"},
		{"explain update set mark = 2 where mark == 1 as json", "print:             each entry the kernel updated, as json\n"},
		{"explain list where protonum == 50", "kernel filter:     proto 50\n"},
	} {
		var out bytes.Buffer
		s := NewSession(Config{Stdout: &out, Stderr: &bytes.Buffer{}, From: "testdata/table.save"})
		if err := s.Run(context.Background(), "", tt.script); err != nil {
			t.Fatalf("%s: %v", tt.script, err)
		}
		s.Close()
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("%s:\n%s\nlacks %q", tt.script, out.String(), tt.want)
		}
	}
}
