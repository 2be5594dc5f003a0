package lang

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"ctq/engine"
)

// Program is a compiled script: its steps in order, every statement
// parsed and type-checked. Session-level statements (let, print, if,
// exit, source, set, explain) are steps of their own; the others are
// PlanSteps.
type Program struct {
	Steps []Step
	// Vars are the variables the program declares, with their types.
	Vars map[string]reflect.Type
}

// Site is where a step was written: the file name given to
// CompileProgram (or the path of a sourced file) and the line of its
// keyword.
type Site struct {
	File string
	Line int
}

// Step is one step of a Program: *PlanStep, *LetStep, *PrintStep,
// *IfStep, *ExitStep, *SetStep, *ExplainStep, *StatsStep, *ServeStep,
// *AccountStep or *SyncStep (a source statement's steps are spliced in).
type Step interface {
	// Where is the site of the step.
	Where() Site
}

// PlanStep is a statement that runs as an engine.Plan.
type PlanStep struct {
	At Site
	// Keyword is the statement's keyword ("list").
	Keyword string
	// Cond is the text of the statement's condition, empty without one.
	Cond string
	// Format is the output format of the statement's as clause, empty
	// without one (the session's format).
	Format string
	// Columns names the output columns of an ActGroup plan: the text of
	// each group key, then the function ("count", "sum", ..., or for top
	// the summed expression).
	Columns []string
	// Labels is set when the condition tests labels ("web" in labels):
	// conntrack's text and xml formats then show the labels, as conntrack
	// does for -l.
	Labels bool
	stmt   Stmt
	plan   *engine.Plan
	c      *compiler
	vars   bool // the statement reads script variables
}

// Where is the site of the step.
func (s *PlanStep) Where() Site { return s.At }

// Plan returns the statement's plan for the current values of the script
// variables: the plan compiled up front, or, when the statement reads
// variables, one compiled again with their values as constants (so that
// they reach the kernel filter and cost nothing per flow).
func (s *PlanStep) Plan(vars map[string]any) (*engine.Plan, error) {
	if !s.vars {
		return s.plan, nil
	}
	c := s.c.withValues(vars)
	return c.plan(s.stmt)
}

// LetStep is "let NAME = VALUE".
type LetStep struct {
	At    Site
	Name  string
	Value *Value
}

// Where is the site of the step.
func (s *LetStep) Where() Site { return s.At }

// PrintStep is "print VALUE".
type PrintStep struct {
	At    Site
	Value *Value
}

// Where is the site of the step.
func (s *PrintStep) Where() Site { return s.At }

// IfStep is "if COND { THEN } else { ELSE }".
type IfStep struct {
	At         Site
	Cond       *Value
	Then, Else []Step
}

// Where is the site of the step.
func (s *IfStep) Where() Site { return s.At }

// ExitStep is "exit [CODE]"; Code is nil for 0.
type ExitStep struct {
	At   Site
	Code *Value
}

// Where is the site of the step.
func (s *ExitStep) Where() Site { return s.At }

// SetStep is "set output FORMAT" or "set netns NAME".
type SetStep struct {
	At    Site
	Name  string
	Value string
}

// Where is the site of the step.
func (s *SetStep) Where() Site { return s.At }

// LoadStep is `load "FILE"` or `load -`: it applies the conntrack -R
// lines of a file (or standard input).
type LoadStep struct {
	At   Site
	Path string // "-" for standard input
}

// Where is the site of the step.
func (s *LoadStep) Where() Site { return s.At }

// asClause is the statement of st and the format words of its as clause,
// nil without one.
func asClause(st Stmt) (*node, []Word) {
	switch s := st.(type) {
	case *ListStmt:
		return &s.node, s.As
	case *GetStmt:
		return &s.node, s.As
	case *WatchStmt:
		return &s.node, s.As
	case *DeleteStmt:
		return &s.node, s.As
	case *UpdateStmt:
		return &s.node, s.As
	}
	return nil, nil
}

// ExplainStep is "explain STMT".
type ExplainStep struct {
	At   Site
	Stmt *PlanStep
}

// Where is the site of the step.
func (s *ExplainStep) Where() Site { return s.At }

// Value is a value computed when its step runs: an expression over the
// script variables, or the result of a count, sum, min, max or avg
// statement (Agg; the caller runs its plan).
type Value struct {
	// Agg is the statement whose single result is the value (an ActCount
	// or an ActGroup plan without keys), nil for an expression.
	Agg *PlanStep
	// Type is the static type of the value (int for count, float64 for
	// sum, min, max and avg; interface{} when expr cannot tell).
	Type reflect.Type
	e    *Expr
	prog *vm.Program
	c    *compiler
	vars bool // the expression reads script variables
}

// Eval computes an expression Value with the current values of the
// script variables. Errors are *Error at the expression.
func (v *Value) Eval(vars map[string]any) (any, error) {
	if v.Agg != nil {
		return nil, errors.New("eval: the value is a statement's result")
	}
	prog := v.prog
	if v.vars {
		var err error
		if prog, err = v.c.withValues(vars).compileExpr(v.e, struct{}{}); err != nil {
			return nil, err
		}
	}
	out, err := expr.Run(prog, struct{}{})
	if err != nil {
		return nil, v.e.runtimeError(err)
	}
	return out, nil
}

// withValues is a copy of c for compiling again at run time, with the
// variables' current values.
func (c *compiler) withValues(vars map[string]any) *compiler {
	return &compiler{opts: c.opts, labels: c.labels, vars: vars, types: c.types}
}

// CompileProgram parses and compiles a whole script before anything runs:
// a fault anywhere, in sourced files too, fails the whole script with an
// *Error (the first in source order; Error.File names a sourced file).
// name labels the steps' sites (a file name, "" for none).
func CompileProgram(name, text string, opts *Options) (*Program, error) {
	c := newCompiler(opts)
	for n, v := range c.opts.Vars {
		c.vars[n] = v
		c.types[n] = typeOf(v)
	}
	c.file, c.dir = name, c.opts.Dir
	steps, err := c.script(text)
	if err != nil {
		return nil, err
	}
	prog := &Program{Steps: steps, Vars: map[string]reflect.Type{}}
	for n, t := range c.types {
		if _, old := c.opts.Vars[n]; !old || t != typeOf(c.opts.Vars[n]) {
			prog.Vars[n] = t
		}
	}
	return prog, nil
}

// CompileScript compiles a script of plan statements only (no let, print,
// if, exit, source, set or explain) into its plans; see CompileProgram.
func CompileScript(src string, opts *Options) ([]*engine.Plan, error) {
	prog, err := CompileProgram("", src, opts)
	if err != nil {
		return nil, err
	}
	plans := make([]*engine.Plan, 0, len(prog.Steps))
	for _, st := range prog.Steps {
		ps, ok := st.(*PlanStep)
		if !ok {
			return nil, fmt.Errorf("compile: line %d is not a query statement", st.Where().Line)
		}
		plans = append(plans, ps.plan)
	}
	return plans, nil
}

// script parses and compiles text, the script c.file.
func (c *compiler) script(text string) ([]Step, error) {
	stmts, parseErr := parse(text)
	steps, err := c.steps(stmts)
	if err != nil {
		return nil, err
	}
	if parseErr != nil {
		return nil, parseErr
	}
	return steps, nil
}

// steps compiles statements in order.
func (c *compiler) steps(stmts []Stmt) ([]Step, error) {
	var out []Step
	for _, st := range stmts {
		at := Site{File: c.file, Line: st.Pos().Line}
		switch s := st.(type) {
		case *LetStmt:
			step, err := c.let(s, at)
			if err != nil {
				return nil, err
			}
			out = append(out, step)
		case *PrintStmt:
			v, err := c.scriptValue(s.Value)
			if err != nil {
				return nil, err
			}
			out = append(out, &PrintStep{At: at, Value: v})
		case *IfStmt:
			step, err := c.ifStep(s, at)
			if err != nil {
				return nil, err
			}
			out = append(out, step)
		case *ExitStmt:
			step, err := c.exit(s, at)
			if err != nil {
				return nil, err
			}
			out = append(out, step)
		case *SourceStmt:
			steps, err := c.source(s)
			if err != nil {
				return nil, err
			}
			out = append(out, steps...)
		case *SetStmt:
			step, err := c.set(s, at)
			if err != nil {
				return nil, err
			}
			out = append(out, step)
		case *StatsStmt:
			step, err := c.statsStep(s, at)
			if err != nil {
				return nil, err
			}
			out = append(out, step)
		case *ServeStmt:
			step, err := c.serveStep(s, at)
			if err != nil {
				return nil, err
			}
			out = append(out, step)
		case *SyncStmt:
			out = append(out, c.syncStep(s, at))
		case *LoadStmt:
			out = append(out, &LoadStep{At: at, Path: s.Path})
		case *AccountStmt:
			step, err := c.accountStep(s, at)
			if err != nil {
				return nil, err
			}
			out = append(out, step)
		case *ExplainStmt:
			ps, err := c.planStep(s.Stmt, Site{File: c.file, Line: s.Stmt.Pos().Line})
			if err != nil {
				return nil, err
			}
			out = append(out, &ExplainStep{At: at, Stmt: ps})
		default:
			ps, err := c.planStep(st, at)
			if err != nil {
				return nil, err
			}
			out = append(out, ps)
		}
	}
	return out, nil
}

// planStep compiles a statement that runs as a plan.
func (c *compiler) planStep(st Stmt, at Site) (*PlanStep, error) {
	c.used, c.labelsUsed = false, false
	plan, err := c.plan(st)
	if err != nil {
		return nil, err
	}
	ps := &PlanStep{At: at, Keyword: st.Keyword(), stmt: st, plan: plan, c: c, vars: c.used, Labels: c.labelsUsed}
	if n, words := asClause(st); words != nil {
		if ps.Format, err = c.format(n, words); err != nil {
			return nil, err
		}
	}
	switch s := st.(type) {
	case *ListStmt:
		ps.Cond = exprText(s.Where)
	case *CountStmt:
		ps.Cond = exprText(s.Where)
		ps.Columns = columns(s.By, "count")
	case *DeleteStmt:
		ps.Cond = exprText(s.Where)
	case *UpdateStmt:
		ps.Cond = exprText(s.Where)
	case *WatchStmt:
		ps.Cond = exprText(s.Where)
		if s.Every > 0 {
			ps.Columns = columns(s.By, "count")
		}
	case *TopStmt:
		ps.Cond = exprText(s.Where)
		val := "count"
		if s.By != nil {
			val = s.By.Text
		}
		ps.Columns = columns([]*Expr{s.Key}, val)
	case *AggStmt:
		ps.Cond = exprText(s.Where)
		ps.Columns = columns(s.By, s.Func.String())
	}
	return ps, nil
}

// exprText is the text of e, "" for nil.
func exprText(e *Expr) string {
	if e == nil {
		return ""
	}
	return e.Text
}

// columns are the texts of keys, then value.
func columns(keys []*Expr, value string) []string {
	var out []string
	for _, k := range keys {
		out = append(out, k.Text)
	}
	return append(out, value)
}

// scriptValue compiles an expression over the script variables.
func (c *compiler) scriptValue(e *Expr, extra ...expr.Option) (*Value, error) {
	c.used, c.unknown = false, false
	prog, err := c.compileExpr(e, struct{}{}, extra...)
	if err != nil {
		return nil, err
	}
	t := prog.Node().Type()
	if t == nil {
		t = anyType
	}
	return &Value{Type: t, e: e, prog: prog, c: c, vars: c.used}, nil
}

// let compiles "let NAME = VALUE" and declares the variable: its value is
// known from here on when it is a constant, else only its type.
func (c *compiler) let(s *LetStmt, at Site) (*LetStep, error) {
	if why := reservedName(s.Name); why != "" {
		return nil, s.errAt(s.NamePos, "`%s` is %s and cannot name a variable", s.Name, why)
	}
	var v *Value
	var known any
	isKnown := false
	if s.Agg != nil {
		ps, err := c.planStep(s.Agg, at)
		if err != nil {
			return nil, err
		}
		if g := ps.plan.Group; ps.plan.Action == engine.ActGroup && len(g.By) > 0 {
			return nil, s.errAt(s.Agg.Pos(), "a grouped `%s` gives many values, not one: a variable takes a count, sum, min, max or avg without `by`", ps.Keyword)
		}
		t := reflect.TypeFor[float64]()
		if ps.plan.Action == engine.ActCount {
			t = intType
		}
		v = &Value{Agg: ps, Type: t}
	} else {
		var err error
		if v, err = c.scriptValue(s.Value); err != nil {
			return nil, err
		}
		if !c.unknown {
			if out, err := expr.Run(v.prog, struct{}{}); err == nil {
				known, isKnown = out, true
			}
		}
	}
	if old, ok := c.types[s.Name]; ok && old != v.Type && old != anyType && v.Type != anyType {
		return nil, s.errAt(s.NamePos, "`%s` holds %s; it cannot take %s", s.Name, varTypeName(old), varTypeName(v.Type))
	}
	if _, ok := c.types[s.Name]; !ok || v.Type != anyType {
		c.types[s.Name] = v.Type
	}
	if isKnown {
		c.vars[s.Name] = known
	} else {
		c.vars[s.Name] = unknownValue{t: c.types[s.Name]}
	}
	return &LetStep{At: at, Name: s.Name, Value: v}, nil
}

// varTypeName names a type for messages: "an int", "a string".
func varTypeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Interface:
		return "an " + t.String()
	}
	return "a " + t.String()
}

// ifStep compiles "if COND { ... } else { ... }".
func (c *compiler) ifStep(s *IfStmt, at Site) (*IfStep, error) {
	cond, err := c.scriptValue(s.Cond, expr.AsBool())
	if err != nil {
		return nil, err
	}
	step := &IfStep{At: at, Cond: cond}
	if step.Then, err = c.steps(s.Then); err != nil {
		return nil, err
	}
	if step.Else, err = c.steps(s.Else); err != nil {
		return nil, err
	}
	return step, nil
}

// exit compiles "exit [CODE]"; CODE must be a whole number.
func (c *compiler) exit(s *ExitStmt, at Site) (*ExitStep, error) {
	step := &ExitStep{At: at}
	if s.Code == nil {
		return step, nil
	}
	v, err := c.scriptValue(s.Code)
	if err != nil {
		return nil, err
	}
	if v.Type.Kind() != reflect.Int && v.Type != anyType {
		return nil, s.Code.errAt(0, "the exit code must be a whole number 0..255, not %s", varTypeName(v.Type))
	}
	step.Code = v
	return step, nil
}

// set compiles "set output FORMAT" or "set netns NAME".
func (c *compiler) set(s *SetStmt, at Site) (*SetStep, error) {
	if s.Name == "output" {
		var words []Word
		for _, item := range strings.Split(s.Value, ",") {
			words = append(words, Word{Name: strings.TrimSpace(item), Pos: s.ValuePos})
		}
		if _, err := c.format(&s.node, words); err != nil {
			return nil, err
		}
	}
	return &SetStep{At: at, Name: s.Name, Value: s.Value}, nil
}

// maxSourceDepth bounds nested source statements.
const maxSourceDepth = 16

// source reads and compiles a sourced file; its errors name the file.
func (c *compiler) source(s *SourceStmt) ([]Step, error) {
	path := s.Path
	if !filepath.IsAbs(path) && c.dir != "" {
		path = filepath.Join(c.dir, path)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, s.errAt(s.start, "source %q: %v", s.Path, err)
	}
	if slices.Contains(c.sources, abs) {
		return nil, s.errAt(s.start, "source %q: the file sources itself (a cycle)", s.Path)
	}
	if len(c.sources) >= maxSourceDepth {
		return nil, s.errAt(s.start, "source %q: more than %d nested source statements", s.Path, maxSourceDepth)
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		return nil, s.errAt(s.start, "source %q: not a regular file", s.Path)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, s.errAt(s.start, "source: %v", err)
	}
	file, dir := c.file, c.dir
	c.file, c.dir = path, filepath.Dir(path)
	c.sources = append(c.sources, abs)
	steps, err := c.script(string(text))
	c.file, c.dir = file, dir
	c.sources = c.sources[:len(c.sources)-1]
	if err != nil {
		var le *Error
		if errors.As(err, &le) && le.File == "" {
			le.File = path
		}
		return nil, err
	}
	return steps, nil
}
