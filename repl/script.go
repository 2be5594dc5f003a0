package repl

import (
	"context"
	"errors"
	"fmt"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/lang"
)

// RuntimeError is a statement that failed while the script ran; File and
// Line name the statement (File is empty for -e and the shell).
type RuntimeError struct {
	File string
	Line int
	Err  error
}

func (e *RuntimeError) Error() string {
	if e.File != "" {
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	}
	return fmt.Sprintf("line %d: %v", e.Line, e.Err)
}

func (e *RuntimeError) Unwrap() error { return e.Err }

// steps runs steps in order until one fails or exits. bare leaves the
// errors of a one-line input without a line number.
func (s *Session) steps(ctx context.Context, steps []lang.Step, bare bool) error {
	for _, st := range steps {
		err := s.step(ctx, st, bare)
		if err == nil {
			continue
		}
		var ee *ExitError
		var re *RuntimeError
		at := st.Where()
		if errors.As(err, &ee) || errors.As(err, &re) || bare && at.File == "" {
			return err
		}
		return &RuntimeError{File: at.File, Line: at.Line, Err: err}
	}
	return nil
}

// step runs one step.
func (s *Session) step(ctx context.Context, st lang.Step, bare bool) error {
	switch st := st.(type) {
	case *lang.PlanStep:
		p, err := st.Plan(s.vars)
		if err != nil {
			return err
		}
		return s.exec(ctx, p, st)
	case *lang.LetStep:
		v, err := s.value(ctx, st.Value)
		if err != nil {
			return err
		}
		s.vars[st.Name] = v
		return nil
	case *lang.PrintStep:
		v, err := s.value(ctx, st.Value)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintln(s.cfg.Stdout, format.Display(v)); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
		return nil
	case *lang.IfStep:
		v, err := s.value(ctx, st.Cond)
		if err != nil {
			return err
		}
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("if: the condition gave %s, not true or false", format.Display(v))
		}
		if b {
			return s.steps(ctx, st.Then, bare)
		}
		return s.steps(ctx, st.Else, bare)
	case *lang.ExitStep:
		return s.exit(ctx, st)
	case *lang.SetStep:
		return s.set(st)
	case *lang.ExplainStep:
		return s.explain(ctx, st.Stmt)
	case *lang.StatsStep:
		return s.stats(ctx, st)
	case *lang.ServeStep:
		return s.serve(ctx, st)
	case *lang.AccountStep:
		return s.account(ctx, st)
	case *lang.LoadStep:
		return s.load(ctx, st)
	case *lang.SyncStep:
		return s.syncStep(ctx, st)
	}
	return fmt.Errorf("unknown step %T", st)
}

// value computes a Value: an expression, or the result of a count, sum,
// min, max or avg (0 when nothing matched).
func (s *Session) value(ctx context.Context, v *lang.Value) (any, error) {
	if v.Agg == nil {
		return v.Eval(s.vars)
	}
	p, err := v.Agg.Plan(s.vars)
	if err != nil {
		return nil, err
	}
	src, err := s.source()
	if err != nil {
		return nil, err
	}
	var groups []engine.Group
	res, err := engine.Exec(ctx, src, p, engine.GroupsTo(func(g []engine.Group) error { groups = g; return nil }), nil)
	s.warn(res.Stats)
	switch {
	case err != nil && p.Action == engine.ActCount:
		return nil, fmt.Errorf("count %s: %w", p.Table, err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", v.Agg.Keyword, err)
	case p.Action == engine.ActCount:
		return res.Count, nil
	case len(groups) == 0:
		return 0.0, nil
	}
	return groups[0].Value, nil
}

// exit ends the script with the step's code.
func (s *Session) exit(ctx context.Context, st *lang.ExitStep) error {
	if st.Code == nil {
		return &ExitError{Code: 0}
	}
	v, err := s.value(ctx, st.Code)
	if err != nil {
		return err
	}
	n, ok := v.(int)
	if !ok || n < 0 || n > 255 {
		return fmt.Errorf("exit: the code must be a whole number 0..255, not %s", format.Display(v))
	}
	return &ExitError{Code: n}
}

// set changes a session setting: the default output format, or the
// network namespace of the live table (the source is reopened there).
func (s *Session) set(st *lang.SetStep) error {
	switch st.Name {
	case "output":
		if err := CheckFormat(st.Value); err != nil {
			return err
		}
		s.cfg.Format = st.Value
	case "netns":
		if s.cfg.From != "" {
			return fmt.Errorf("set netns: the session reads the saved table %s, not a namespace", s.cfg.From)
		}
		if err := s.closeSource(); err != nil {
			return fmt.Errorf("set netns: close the table of the old namespace: %w", err)
		}
		s.cfg.NetNS = st.Value
		if _, err := s.source(); err != nil {
			return fmt.Errorf("set netns %s: %w", st.Value, err)
		}
	}
	return nil
}
