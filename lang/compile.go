package lang

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"

	"ctq/engine"
)

// Options configure Compile.
type Options struct {
	// Formats are the valid output format names (format.Names()); nil
	// accepts any word.
	Formats []string
	// LabelNames maps label bits to names (connlabel.conf); may be nil.
	LabelNames map[int]string
}

// CompileScript parses and compiles a whole script before anything runs:
// a fault anywhere fails the whole script with an *Error, the first fault
// in source order.
func CompileScript(src string, opts *Options) ([]*engine.Plan, error) {
	stmts, parseErr := parse(src)
	plans := make([]*engine.Plan, 0, len(stmts))
	for _, st := range stmts {
		p, err := Compile(st, opts)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	if parseErr != nil {
		return nil, parseErr
	}
	return plans, nil
}

// Compile turns a statement into a Plan: its expressions are compiled once
// against engine.Flow and type-checked, and the exact-match part of the
// condition is split off into Plan.Filter. Errors are *Error with the
// position in the script. opts may be nil.
//
// The Plan's closures each own an expr VM: a Plan is for one goroutine.
func Compile(st Stmt, opts *Options) (*engine.Plan, error) {
	if opts == nil {
		opts = &Options{}
	}
	c := &compiler{opts: opts, labels: map[string]int{}}
	for bit, name := range opts.LabelNames {
		c.labels[name] = bit
	}
	switch s := st.(type) {
	case *ListStmt:
		return c.list(s)
	case *CountStmt:
		return c.count(s)
	case *GetStmt:
		return c.get(s)
	}
	return nil, fmt.Errorf("compile: unknown statement type %T", st)
}

// compiler holds the options of one Compile call.
type compiler struct {
	opts   *Options
	labels map[string]int // label name -> bit
}

func (c *compiler) list(s *ListStmt) (*engine.Plan, error) {
	plan := &engine.Plan{Action: engine.ActList, Table: s.Table, Limit: s.Limit}
	if err := c.where(plan, s.Where); err != nil {
		return nil, err
	}
	for _, o := range s.Order {
		if err := checkTable(s.Table, o.Expr); err != nil {
			return nil, err
		}
		v, err := c.orderKey(o.Expr)
		if err != nil {
			return nil, err
		}
		plan.Order = append(plan.Order, engine.OrderKey{Value: v, Desc: o.Desc})
	}
	var err error
	plan.Format, err = c.format(&s.node, s.As)
	if err != nil {
		return nil, err
	}
	return plan, nil
}

func (c *compiler) count(s *CountStmt) (*engine.Plan, error) {
	plan := &engine.Plan{Action: engine.ActCount, Table: s.Table, Limit: -1}
	if err := c.where(plan, s.Where); err != nil {
		return nil, err
	}
	return plan, nil
}

// checkTable refuses expressions over expectations: their records are not
// flows and the language has no fields for them yet.
func checkTable(t engine.Table, e *Expr) error {
	if t == engine.TableExpect {
		return e.errAt(0, "conditions and sort keys on `expect` entries are not supported yet")
	}
	return nil
}

// where compiles the condition e (nil: every entry) into plan.Match and
// plan.Filter.
func (c *compiler) where(plan *engine.Plan, e *Expr) error {
	if e == nil {
		return nil
	}
	if err := checkTable(plan.Table, e); err != nil {
		return err
	}
	prog, err := c.compileExpr(e, engine.Flow{}, expr.AsBool())
	if err != nil {
		return err
	}
	plan.Filter = pushdown(prog.Node())
	var machine vm.VM
	plan.Match = func(f *engine.Flow) (bool, error) {
		out, err := machine.Run(prog, f)
		if err != nil {
			return false, e.runtimeError(err)
		}
		b, ok := out.(bool)
		if !ok {
			return false, e.errAt(0, "the condition gave %T, not a boolean", out)
		}
		return b, nil
	}
	return nil
}

// format validates the words of "as FORMAT" and joins them with ",".
func (c *compiler) format(n *node, words []Word) (string, error) {
	names := make([]string, len(words))
	for i, w := range words {
		if c.opts.Formats != nil && !slices.Contains(c.opts.Formats, w.Name) {
			hint := didYouMean(w.Name, c.opts.Formats)
			if hint == "" {
				hint = " (formats: " + strings.Join(c.opts.Formats, ", ") + ")"
			}
			return "", n.errAt(w.Pos, "unknown format `%s`%s", w.Name, hint)
		}
		names[i] = w.Name
	}
	return strings.Join(names, ","), nil
}

// compileExpr compiles e against env with the language's functions,
// operators and folding; errors carry script positions.
func (c *compiler) compileExpr(e *Expr, env any, extra ...expr.Option) (*vm.Program, error) {
	fold := &folder{labels: c.labels}
	prog, err := expr.Compile(e.Text, append(exprOptions(env, fold), extra...)...)
	if fold.err != nil {
		return nil, e.errAt(fold.err.From, "%s", fold.err.Message)
	}
	if err != nil {
		_, isFlow := env.(engine.Flow)
		return nil, e.compileError(err, isFlow)
	}
	return prog, nil
}

// compileError maps an expr compile error into the script and rewords the
// common ones. isFlow says whether flow fields were in scope.
func (e *Expr) compileError(err error, isFlow bool) *Error {
	var fe *file.Error
	if !errors.As(err, &fe) {
		// Only the result type check has no position.
		msg := err.Error()
		if got, ok := strings.CutPrefix(msg, "expected bool, but got "); ok {
			msg = "the condition must be true or false, but it is " + got
		}
		return e.errAt(0, "%s", msg)
	}
	msg, at := fe.Message, fe.From
	if name, ok := strings.CutPrefix(msg, "unknown name "); ok {
		msg = e.unknownName(name, fe.To, isFlow)
	} else if msg == "unexpected token EOF" {
		msg, at = "unexpected end of expression", utf8.RuneCountInString(e.Text)
	}
	return e.errAt(at, "%s", msg)
}

// unknownName words the error for an unknown identifier that ends at rune
// offset end of the expression.
func (e *Expr) unknownName(name string, end int, isFlow bool) string {
	rest := strings.TrimLeft(e.Text[byteOffset(e.Text, end):], " \t\r\n")
	if strings.HasPrefix(rest, "(") {
		return "unknown function `" + name + "`" + didYouMean(name, builtin.Names, []string{fnCIDR})
	}
	if slices.Contains(stateNames, name) || slices.Contains(engine.StatusNames, name) {
		return fmt.Sprintf("unknown field `%s` (state and status names are strings: write \"%s\")", name, name)
	}
	if !isFlow {
		if slices.Contains(flowFields, name) {
			return "`" + name + "` is a flow field; this value must be a constant"
		}
		return "unknown name `" + name + "`" + didYouMean(name, constants)
	}
	return "unknown field `" + name + "`" + didYouMean(name, flowFields, constants)
}

// runtimeError maps an error from running e into the script.
func (e *Expr) runtimeError(err error) *Error {
	var fe *file.Error
	if errors.As(err, &fe) {
		return e.errAt(fe.From, "%s", fe.Message)
	}
	return e.errAt(0, "%v", err)
}

// errAt builds an Error at rune offset off of the expression text. An Expr
// built by hand (not by Parse) reports positions within its own text.
func (e *Expr) errAt(off int, format string, args ...any) *Error {
	src, base := e.src, e.Pos.Offset
	if src == nil {
		src, base = newSource(e.Text), 0
	}
	return src.errAt(base+byteOffset(e.Text, off), format, args...)
}

// byteOffset converts a rune offset of s (as expr counts positions) into a
// byte offset, clamped to len(s).
func byteOffset(s string, runes int) int {
	if runes <= 0 {
		return 0
	}
	n := 0
	for i := range s {
		if n == runes {
			return i
		}
		n++
	}
	return len(s)
}
