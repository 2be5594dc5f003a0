// Package repl runs ctq statements: a Session holds the settings, the
// source and the output of one ctq run, and executes scripts, one-liners and
// interactive lines through it.
package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/engine/snapshot"
	"ctq/lang"
	"ctq/sync/daemon"
)

// Config sets up a Session.
type Config struct {
	// Stdout receives data; Stderr receives warnings and errors.
	Stdout, Stderr io.Writer
	// Format is the default output format ("text" when empty).
	Format string
	// From is a saved table to query instead of the live kernel ("-" for
	// standard input); empty means the live table.
	From string
	// NetNS names the network namespace of the live table (as `ip netns`
	// knows it); empty means ctq's own.
	NetNS string
	// OpenLive opens the live table of a network namespace (empty: ctq's
	// own): on Linux, ctnetlink's. nil means this system has none, and
	// only saved tables can be queried.
	OpenLive func(netns string) (engine.Source, error)
	// Now is the clock for ages and delta-time; nil means time.Now.
	Now func() time.Time
	// FailEmpty makes Run return an *EmptyError when a statement that
	// reads or changes a table selected or changed nothing (ctq
	// --fail-empty; conntrack exits 1 then).
	FailEmpty bool
}

// Session runs statements against one source with one set of settings.
// It is not safe for concurrent use.
type Session struct {
	cfg    Config
	src    engine.Source
	labels map[int]string
	// labelsRead records that the label names were looked up (they may be
	// absent).
	labelsRead bool
	// vars are the script variables (let) and their values; they live as
	// long as the session (the shell's lines share them).
	vars map[string]any
	// exited records that an exit statement ran (the shell then ends).
	exited bool
	// empty is the first statement of the running input that selected
	// or changed nothing (with Config.FailEmpty), nil while none did.
	empty *EmptyError
	// daemon is the sync node of sync start, nil when none runs.
	daemon *daemon.Node
}

// NewSession returns a Session; it opens its source on first use, so a
// script that fails to compile touches nothing.
func NewSession(cfg Config) *Session {
	if cfg.Format == "" {
		cfg.Format = "text"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Session{cfg: cfg, vars: map[string]any{}}
}

// CheckFormat reports whether name is an output format ctq knows, as a
// UsageError naming the valid ones.
func CheckFormat(name string) error {
	if _, err := format.Parse(name); err != nil {
		return &UsageError{Msg: err.Error()}
	}
	return nil
}

// Close stops the session's background sync node and releases its source.
func (s *Session) Close() error {
	return errors.Join(s.stopDaemon(), s.closeSource())
}

// closeSource releases the session's source.
func (s *Session) closeSource() error {
	if s.src == nil {
		return nil
	}
	err := s.src.Close()
	s.src = nil
	return err
}

// Run compiles the whole of text (a script, a one-liner, or a line typed
// in the shell) and, only if all of it compiles (sourced files included),
// runs its statements in order, stopping at the first runtime error (a
// *RuntimeError naming the line) or exit statement (an *ExitError, or nil
// for exit 0). name
// labels positions in errors (a file name, "-e", "<stdin>"); relative
// source paths are read from the directory of a named file.
func (s *Session) Run(ctx context.Context, name, text string) error {
	if topic, ok := isHelp(text); ok {
		return writeHelp(s.cfg.Stdout, topic)
	}
	labels, err := s.labelNames()
	if err != nil {
		return err
	}
	opts := &lang.Options{Formats: format.Names(), HiddenFormats: format.Hidden(), LabelNames: labels, Vars: s.vars}
	if name != "" && !strings.HasPrefix(name, "<") && name != "-e" {
		opts.Dir = filepath.Dir(name)
	}
	prog, err := lang.CompileProgram(name, text, opts)
	if err != nil {
		return &SourceError{Name: name, Err: err}
	}
	for n, t := range prog.Vars {
		s.vars[n] = lang.ZeroValue(t)
	}
	s.empty = nil
	err = s.steps(ctx, prog.Steps, !strings.Contains(strings.TrimSpace(text), "\n"))
	var ee *ExitError
	if errors.As(err, &ee) {
		s.exited = true
		if ee.Code == 0 {
			return nil
		}
	}
	if err == nil && s.empty != nil {
		return s.empty
	}
	return err
}

// EmptyError is the outcome of a run with Config.FailEmpty in which a
// statement selected or changed nothing: every statement ran, and the
// exit code is 1.
type EmptyError struct {
	// Keyword and Line name the first such statement.
	Keyword string
	Line    int
}

func (e *EmptyError) Error() string {
	return fmt.Sprintf("--fail-empty: %s (line %d) selected nothing", e.Keyword, e.Line)
}

// noteEmpty records, with Config.FailEmpty, that the statement of ps
// selected or changed nothing.
func (s *Session) noteEmpty(p *engine.Plan, ps *lang.PlanStep, res engine.Result, groups int) {
	if !s.cfg.FailEmpty || s.empty != nil {
		return
	}
	var empty bool
	switch p.Action {
	case engine.ActList, engine.ActGet, engine.ActCount, engine.ActDelete, engine.ActUpdate, engine.ActInsert:
		empty = res.Count == 0
	case engine.ActGroup:
		empty = groups == 0
	}
	if empty {
		s.empty = &EmptyError{Keyword: ps.Keyword, Line: ps.At.Line}
	}
}

// SourceError is a parse or type error in named input; nothing of that
// input ran.
type SourceError struct {
	Name string
	Err  error
}

func (e *SourceError) Error() string {
	var le *lang.Error
	if errors.As(e.Err, &le) && le.File != "" {
		return le.File + ":" + e.Err.Error()
	}
	if e.Name != "" && errors.As(e.Err, &le) {
		return e.Name + ":" + e.Err.Error()
	}
	return e.Err.Error()
}

func (e *SourceError) Unwrap() error { return e.Err }

// exec runs one compiled statement through the engine, then reports its
// result; ps gives the column names of a grouping.
func (s *Session) exec(ctx context.Context, p *engine.Plan, ps *lang.PlanStep) error {
	src, err := s.source()
	if err != nil {
		return err
	}
	name := ps.Format
	if name == "" {
		name = s.cfg.Format
	}
	out := s.newOutput(name, ps.Columns)
	out.labels = ps.Labels
	var prog *progress
	if p.Table != engine.TableExpect {
		verb := map[engine.Action]string{engine.ActDelete: "deleting", engine.ActUpdate: "updating", engine.ActInsert: "inserting"}[p.Action]
		if verb != "" {
			prog = newProgress(s.cfg.Stderr, verb)
		}
	}
	res, err := engine.Exec(ctx, src, p, out, &engine.ExecOptions{Progress: prog.callback()})
	if prog != nil {
		prog.done()
	}
	if cerr := out.close(); err == nil {
		err = cerr
	}
	s.warn(res.Stats)
	if res.Watch.Skipped > 0 {
		fmt.Fprintf(s.cfg.Stderr, "ctq: warning: %d events could not be decoded and were skipped\n", res.Watch.Skipped)
	}
	if err == nil {
		s.noteEmpty(p, ps, res, out.groups)
	}
	return s.report(p, ps, res, name, err)
}

// report prints what a statement's result says beyond its output (a
// count, a mutation's summary) and names the statement in its error.
func (s *Session) report(p *engine.Plan, ps *lang.PlanStep, res engine.Result, name string, err error) error {
	mutation := p.Action == engine.ActDelete || p.Action == engine.ActUpdate || p.Action == engine.ActInsert || p.Action == engine.ActFlush
	switch {
	case p.Action == engine.ActWatch:
		if err != nil {
			return fmt.Errorf("watch: %w", err)
		}
		if res.Watch.Overflows > 0 {
			return fmt.Errorf("watch: events were lost: the kernel's event queue overflowed %d times (ENOBUFS)", res.Watch.Overflows)
		}
		return nil
	case p.Action == engine.ActGroup:
		if err != nil {
			return fmt.Errorf("%s: %w", ps.Columns[len(ps.Columns)-1], err)
		}
		return nil
	case p.Table == engine.TableExpect && err != nil:
		return fmt.Errorf("%s expect: %w", ps.Keyword, err)
	case mutation && p.Table == engine.TableExpect:
		return s.summary(p, res, name)
	case mutation:
		// The summary says what was done also when some of it failed.
		if serr := s.summary(p, res, name); err == nil {
			err = serr
		}
		return err
	case err != nil && p.Action == engine.ActGet:
		return fmt.Errorf("get: %w", err)
	case err != nil:
		return fmt.Errorf("%s %s: %w", ps.Keyword, p.Table, err)
	case p.Action == engine.ActCount:
		return s.printCount(name, res.Count)
	}
	return nil
}

// printCount prints a count as a bare number, or as {"count":N} for json.
func (s *Session) printCount(formatName string, n int) error {
	var err error
	if format.KindOf(formatName) == format.KindJSON {
		_, err = fmt.Fprintf(s.cfg.Stdout, "{\"count\":%d}\n", n)
	} else {
		_, err = fmt.Fprintf(s.cfg.Stdout, "%d\n", n)
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// warn reports on stderr what a scan could not deliver faithfully.
func (s *Session) warn(st engine.ScanStats) {
	if st.Skipped > 0 {
		fmt.Fprintf(s.cfg.Stderr, "ctq: warning: %d entries could not be decoded and were skipped\n", st.Skipped)
	}
	if st.Interrupted {
		fmt.Fprintln(s.cfg.Stderr, "ctq: warning: the kernel interrupted the dump (the table changed meanwhile): entries may be missing or repeated")
	}
}

// formatOptions gives the label names only to the formats that print them:
// conntrack's text and xml show labels just with its "labels" flag, so the
// default line stays byte-identical to conntrack -L.
func (s *Session) formatOptions(name string) format.Options {
	o := format.Options{Now: s.cfg.Now}
	spec, err := format.Parse(name)
	labels := err == nil && (spec.Kind == format.KindJSON || spec.Kind == format.KindCSV || spec.Kind == format.KindTable)
	for _, item := range strings.Split(strings.ToLower(name), ",") {
		labels = labels || strings.TrimSpace(item) == "labels"
	}
	if labels {
		o.LabelNames = s.labels
	}
	return o
}

// labelNames reads connlabel.conf once per session.
func (s *Session) labelNames() (map[int]string, error) {
	if !s.labelsRead {
		m, err := engine.LoadConnlabels()
		if err != nil {
			return nil, err
		}
		s.labels, s.labelsRead = m, true
	}
	return s.labels, nil
}

// source opens the session's source on first use.
func (s *Session) source() (engine.Source, error) {
	if s.src != nil {
		return s.src, nil
	}
	var err error
	if s.cfg.From != "" {
		s.src, err = snapshot.Open(s.cfg.From, &snapshot.Options{Now: s.cfg.Now})
	} else {
		if s.cfg.OpenLive == nil {
			return nil, fmt.Errorf("open live source: %w", engine.ErrUnsupported)
		}
		s.src, err = s.cfg.OpenLive(s.cfg.NetNS)
	}
	if err != nil {
		s.src = nil
		return nil, err
	}
	return s.src, nil
}
