package account

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"ctq/engine"
	"ctq/engine/format"
)

// eventSource is a tableSource with an event stream: Watch sends the
// events of the types asked for; at a nil event it empties the table and
// calls the resync (as after lost events).
type eventSource struct {
	tableSource
	events []*engine.Event
	cfg    engine.WatchConfig // the watch's
}

func (e *eventSource) Watch(ctx context.Context, cfg engine.WatchConfig, yield func(*engine.Event) error) (engine.WatchStats, error) {
	e.cfg = cfg
	var st engine.WatchStats
	for _, ev := range e.events {
		if ev == nil {
			st.Overflows++
			e.flows = nil
			if err := cfg.Resync(ctx); err != nil {
				return st, err
			}
			continue
		}
		if cfg.Events != 0 && ev.Type&cfg.Events == 0 {
			continue
		}
		st.Received++
		if err := yield(ev); err != nil {
			return st, err
		}
	}
	return st, nil
}

func flow(id int) engine.Flow {
	return engine.Flow{ID: id, Proto: "udp", ProtoNum: 17, Sport: 1000 + id, Dport: id}
}

func TestRun(t *testing.T) {
	f1, f2, f3, f10 := flow(1), flow(2), flow(3), flow(10)
	src := &eventSource{
		tableSource: tableSource{flows: []engine.Flow{f1, f2, f3, f10}},
		events: []*engine.Event{
			{Type: engine.EventNew, Flow: &f3},
			{Type: engine.EventDestroy, Flow: &f1},
			{Type: engine.EventDestroy, Flow: &f10}, // not selected
			nil,                                     // lost events: 2 and 3 are gone
			{Type: engine.EventDestroy, Flow: &f3},  // 3's event came late after all
		},
	}
	path := filepath.Join(t.TempDir(), "acct.log")
	var stderr strings.Builder
	res, err := Run(context.Background(), Config{
		Source: src,
		Plan: &engine.Plan{Action: engine.ActWatch, Table: engine.TableConntrack, Events: engine.EventDestroy, Limit: -1,
			Match: func(f *engine.Flow) (bool, error) { return f.Dport < 10, nil }},
		Path:   path,
		Format: "json",
		Stderr: &stderr,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res != (Result{Overflows: 1, Recovered: 1}) {
		t.Errorf("result %+v, want one overflow and one entry recovered", res)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	var dports []string
	for _, l := range lines {
		if !strings.Contains(l, `"type":"destroy"`) && !strings.Contains(l, `"event":"destroy"`) {
			t.Errorf("not a destroy event: %s", l)
		}
		_, rest, _ := strings.Cut(l, `"dport":`)
		dports = append(dports, strings.TrimSuffix(rest, "}"))
	}
	if got := strings.Join(dports, " "); got != "1 3 2" {
		t.Errorf("logged dports %s, want 1 3 2:\n%s", got, b)
	}
	for _, want := range []string{
		"ctq: accounting destroyed flows to " + path + "\n",
		"overflowed 1 times (ENOBUFS)",
		"1 flows ended without a destroy event",
	} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr.String())
		}
	}
}

// TestRunReliable: Run asks for reliable destroy events, and an entry the
// kernel holds on the dying table (its event waits for room in the
// socket) is not taken for one that ended without an event: it is logged
// once, when its event comes.
func TestRunReliable(t *testing.T) {
	f1, f2 := flow(1), flow(2)
	src := &eventSource{
		tableSource: tableSource{flows: []engine.Flow{f1, f2}, dying: []engine.Flow{f2}},
		events: []*engine.Event{
			nil, // the table empties: 1 ended without an event, 2 is held
			nil, // a dump later 1 is logged from the dumps; 2 is still held
			{Type: engine.EventDestroy, Flow: &f2},
		},
	}
	path := filepath.Join(t.TempDir(), "acct.log")
	res, err := Run(context.Background(), Config{Source: src, Path: path,
		Plan: &engine.Plan{Action: engine.ActWatch, Table: engine.TableConntrack, Events: engine.EventDestroy, Limit: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if !src.cfg.Reliable {
		t.Error("the watch did not ask for reliable delivery")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n1, n2 := strings.Count(string(b), "dport=1\n"), strings.Count(string(b), "dport=2\n"); n1 != 1 || n2 != 1 || res.Recovered != 1 {
		t.Errorf("entry 1 logged %d times, entry 2 %d times, %d recovered; want 1, 1, 1:\n%s", n1, n2, res.Recovered, b)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	plan := &engine.Plan{Action: engine.ActWatch, Table: engine.TableConntrack, Limit: -1}
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no plan", Config{Source: &eventSource{}, Path: filepath.Join(dir, "a")}, "no watch plan"},
		{"no events", Config{Source: &tableSource{}, Plan: plan, Path: filepath.Join(dir, "a")}, "no event stream"},
		{"format", Config{Source: &eventSource{}, Plan: plan, Path: filepath.Join(dir, "a"), Format: "csv"}, "or json, not csv"},
		{"path", Config{Source: &eventSource{}, Plan: plan, Path: filepath.Join(dir, "missing", "a")}, "account: open log"},
	}
	for _, tt := range tests {
		if _, err := Run(context.Background(), tt.cfg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

// TestRunReopen renames the log while Run writes it and asks for a
// reopen, as logrotate does with SIGHUP.
func TestRunReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "acct.log")
	reopen := make(chan os.Signal)
	f1, f2 := flow(1), flow(2)
	src := &hookSource{eventSource: eventSource{tableSource: tableSource{flows: []engine.Flow{f1, f2}}}}
	src.hook = func(yield func(*engine.Event) error) error {
		if err := yield(&engine.Event{Type: engine.EventDestroy, Flow: &f1}); err != nil {
			return err
		}
		if err := os.Rename(path, path+".1"); err != nil {
			return err
		}
		reopen <- syscall.SIGHUP // received by Run's loop: the reopen is under way
		reopen <- syscall.SIGHUP // and done once this one is received
		return yield(&engine.Event{Type: engine.EventDestroy, Flow: &f2})
	}
	plan := &engine.Plan{Action: engine.ActWatch, Table: engine.TableConntrack, Limit: -1}
	if _, err := Run(context.Background(), Config{Source: src, Plan: plan, Path: path, Reopen: reopen}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{path + ".1": "dport=1\n", path: "dport=2\n"} {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(string(b), "\n"); n != 1 || !strings.Contains(string(b), want) {
			t.Errorf("%s holds %q, want one line with %q", name, b, want)
		}
	}
}

// hookSource runs hook as its event stream.
type hookSource struct {
	eventSource
	hook func(yield func(*engine.Event) error) error
}

func (h *hookSource) Watch(_ context.Context, _ engine.WatchConfig, yield func(*engine.Event) error) (engine.WatchStats, error) {
	err := h.hook(yield)
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	return engine.WatchStats{}, err
}

// lineWriter writes "destroyed DPORT" lines: Config.Writer's writer.
type lineWriter struct{ w io.Writer }

func (l lineWriter) WriteEvent(ev *engine.Event) error {
	_, err := fmt.Fprintf(l.w, "destroyed %d\n", ev.Flow.Dport)
	return err
}
func (lineWriter) Flush() error { return nil }
func (lineWriter) Close() error { return nil }

// TestRunWriter: Config.Writer writes the log in place of Format.
func TestRunWriter(t *testing.T) {
	f1, f2 := flow(1), flow(2)
	src := &eventSource{
		tableSource: tableSource{flows: []engine.Flow{f1, f2}},
		events:      []*engine.Event{{Type: engine.EventDestroy, Flow: &f1}},
	}
	path := filepath.Join(t.TempDir(), "acct.log")
	if _, err := Run(context.Background(), Config{
		Source: src,
		Plan:   &engine.Plan{Action: engine.ActWatch, Table: engine.TableConntrack, Events: engine.EventDestroy, Limit: -1},
		Path:   path,
		Format: "not a format",
		Writer: func(w io.Writer) format.EventWriter { return lineWriter{w} },
	}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "destroyed 1\n" {
		t.Errorf("log %q, want the writer's line", b)
	}
}
