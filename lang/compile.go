package lang

import (
	"errors"
	"fmt"
	"reflect"
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
	// accepts any word. HiddenFormats are valid too, but not suggested
	// (format.Hidden(): timestamp).
	Formats, HiddenFormats []string
	// LabelNames maps label bits to names (connlabel.conf); may be nil.
	LabelNames map[int]string
	// Vars are the script variables already set (by an earlier line of
	// the shell) and their values; a statement may use them.
	Vars map[string]any
	// Dir is the directory a relative `source` path is read from; empty
	// means the current directory.
	Dir string
}

// Compile turns a statement into a Plan: its expressions are compiled once
// against engine.Flow and type-checked, and the exact-match part of the
// condition is split off into Plan.Filter. Errors are *Error with the
// position in the script. opts may be nil.
//
// The Plan's closures each own an expr VM: a Plan is for one goroutine.
func Compile(st Stmt, opts *Options) (*engine.Plan, error) {
	c := newCompiler(opts)
	for name, v := range c.opts.Vars {
		c.vars[name] = v
	}
	return c.plan(st)
}

// newCompiler returns a compiler for opts (nil: none) with no variables.
func newCompiler(opts *Options) *compiler {
	if opts == nil {
		opts = &Options{}
	}
	c := &compiler{opts: opts, labels: map[string]int{}, vars: map[string]any{}, types: map[string]reflect.Type{}}
	for bit, name := range opts.LabelNames {
		c.labels[name] = bit
	}
	return c
}

// plan compiles a statement that becomes a Plan.
func (c *compiler) plan(st Stmt) (*engine.Plan, error) {
	switch s := st.(type) {
	case *ListStmt:
		return c.list(s)
	case *CountStmt:
		if s.By != nil {
			return c.countBy(s)
		}
		return c.count(s)
	case *TopStmt:
		return c.top(s)
	case *AggStmt:
		return c.agg(s)
	case *GetStmt:
		return c.get(s)
	case *DeleteStmt:
		return c.delete(s)
	case *UpdateStmt:
		return c.update(s)
	case *InsertStmt:
		return c.insert(s)
	case *FlushStmt:
		return c.flush(s)
	case *WatchStmt:
		return c.watch(s)
	case *LetStmt, *PrintStmt, *IfStmt, *ExitStmt, *SourceStmt, *SetStmt, *ExplainStmt, *StatsStmt, *ServeStmt, *AccountStmt, *LoadStmt:
		return nil, st.errAt(st.Pos(), "`%s` is not a query: it runs in a script (CompileProgram)", st.Keyword())
	}
	return nil, fmt.Errorf("compile: unknown statement type %T", st)
}

// compiler holds the options and the script state of one compilation.
type compiler struct {
	opts   *Options
	labels map[string]int // label name -> bit
	// vars holds the value of each script variable an expression may use:
	// its value, or an unknownValue when only the run will tell.
	vars map[string]any
	// types holds the declared type of each variable of the script.
	types map[string]reflect.Type
	// used and unknown record that an expression compiled since they were
	// last cleared read a variable, and one whose value is unknown;
	// labelsUsed that one tested labels.
	used, unknown, labelsUsed bool
	// file is the name of the script being compiled, dir the directory
	// its source statements read from, and sources the stack of files
	// being sourced (to refuse a cycle).
	file    string
	dir     string
	sources []string
}

func (c *compiler) list(s *ListStmt) (*engine.Plan, error) {
	plan := &engine.Plan{Action: engine.ActList, Table: s.Table, Limit: s.Limit}
	if err := c.where(plan, s.Where); err != nil {
		return nil, err
	}
	for _, o := range s.Order {
		if s.Table == engine.TableExpect {
			return nil, o.Expr.errAt(0, "expectations cannot be sorted: `order by` works on conntrack, dying and unconfirmed entries")
		}
		v, err := c.orderKey(o.Expr)
		if err != nil {
			return nil, err
		}
		plan.Order = append(plan.Order, engine.OrderKey{Value: v, Desc: o.Desc})
	}
	if s.Zero {
		if err := zeroable(s, plan); err != nil {
			return nil, err
		}
		plan.Zero = true
	}
	return plan, nil
}

// zeroable checks that "list ... zero" can zero exactly the entries it
// lists: the kernel zeroes the counters of every entry its dump reads, so
// the dump must read only what the statement lists.
func zeroable(s *ListStmt, plan *engine.Plan) error {
	switch {
	case s.Table != engine.TableConntrack:
		return s.errAt(s.ZeroPos, "`zero` zeroes the counters of conntrack entries; the `%s` table has none to zero", s.Table)
	case len(s.Order) > 0:
		return s.errAt(s.ZeroPos, "`zero` lists in the kernel's order: it cannot be combined with `order by`")
	case s.Limit >= 0:
		return s.errAt(s.ZeroPos, "`zero` zeroes every entry the dump reads, also those past the limit: it cannot be combined with `limit`")
	case s.Where != nil && !plan.Exact:
		return s.Where.errAt(0, "with `zero` the kernel must apply the whole condition (it zeroes every entry its dump reads, matching or not): "+
			"use exact matches of family, proto, ports, addresses, mark and status joined by `and`, or list without `zero`")
	}
	f := &plan.Filter
	for _, t := range []*engine.TupleFilter{&f.Orig, &f.Reply} {
		v6 := t.Fields&engine.TupleSrc != 0 && t.Src.Is6() || t.Fields&engine.TupleDst != 0 && t.Dst.Is6()
		if v6 {
			return s.Where.errAt(0, "with `zero` the kernel must apply the whole condition, and it cannot match IPv6 addresses: list without `zero`")
		}
	}
	if f.Orig.Fields|f.Reply.Fields != 0 && f.Family == engine.FamilyUnspec && !v4Address(f) {
		return s.Where.errAt(0, "with `zero` the kernel must apply the whole condition, and its tuple filter needs a family: add `family == ipv4` (or ipv6)")
	}
	return nil
}

// v4Address reports whether f matches an IPv4 address (which fixes the
// family the kernel's tuple filter needs).
func v4Address(f *engine.KernelFilter) bool {
	for _, t := range []*engine.TupleFilter{&f.Orig, &f.Reply} {
		if t.Fields&engine.TupleSrc != 0 && t.Src.Is4() || t.Fields&engine.TupleDst != 0 && t.Dst.Is4() {
			return true
		}
	}
	return false
}

func (c *compiler) count(s *CountStmt) (*engine.Plan, error) {
	plan := &engine.Plan{Action: engine.ActCount, Table: s.Table, Limit: -1}
	if err := c.where(plan, s.Where); err != nil {
		return nil, err
	}
	return plan, nil
}

// where compiles the condition e (nil: every entry) into plan.Match (or
// plan.MatchExpect for the expect table) and plan.Filter, and sets
// plan.Exact when the filter is the whole condition.
func (c *compiler) where(plan *engine.Plan, e *Expr) error {
	if e == nil {
		return nil
	}
	if plan.Table == engine.TableExpect {
		return c.whereExpect(plan, e)
	}
	prog, err := c.compileExpr(e, engine.Flow{}, expr.AsBool())
	if err != nil {
		return err
	}
	var exact bool
	plan.Filter, exact = pushdown(prog.Node())
	// Only the conntrack table is ever flushed by filter; elsewhere Exact
	// would promise nothing useful.
	plan.Exact = exact && plan.Table == engine.TableConntrack
	var machine vm.VM
	plan.Match = func(f *engine.Flow) (bool, error) {
		return runBool(&machine, prog, f, e)
	}
	return nil
}

// runBool runs a condition on env and checks that it gave a boolean.
func runBool(machine *vm.VM, prog *vm.Program, env any, e *Expr) (bool, error) {
	out, err := machine.Run(prog, env)
	if err != nil {
		return false, e.runtimeError(err)
	}
	b, ok := out.(bool)
	if !ok {
		return false, e.errAt(0, "the condition gave %T, not a boolean", out)
	}
	return b, nil
}

// format validates the words of "as FORMAT" and joins them with ",".
func (c *compiler) format(n *node, words []Word) (string, error) {
	names := make([]string, len(words))
	for i, w := range words {
		if c.opts.Formats != nil && !slices.Contains(c.opts.Formats, w.Name) && !slices.Contains(c.opts.HiddenFormats, w.Name) {
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
// operators and folding; errors carry script positions. env is
// engine.Flow, engine.Expect, or struct{} for a constant.
func (c *compiler) compileExpr(e *Expr, env any, extra ...expr.Option) (*vm.Program, error) {
	_, flow := env.(engine.Flow)
	fold := &folder{labels: c.labels, vars: c.vars, flow: flow}
	prog, err := expr.Compile(e.Text, append(exprOptions(env, fold), extra...)...)
	c.used = c.used || fold.used
	c.unknown = c.unknown || fold.unknown
	c.labelsUsed = c.labelsUsed || fold.labelsUsed
	if fold.err != nil {
		return nil, e.errAt(fold.err.From, "%s", fold.err.Message)
	}
	if err != nil {
		return nil, e.compileError(err, envFields(env))
	}
	return prog, nil
}

// envFields are the field names an expression environment has: nil for a
// constant.
func envFields(env any) []string {
	switch env.(type) {
	case engine.Flow:
		return flowFields
	case engine.Expect:
		return expectFields
	}
	return nil
}

// compileError maps an expr compile error into the script and rewords the
// common ones. fields are the names in scope (nil: none, a constant).
func (e *Expr) compileError(err error, fields []string) *Error {
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
		msg = e.unknownName(name, fe.To, fields)
	} else if msg == "unexpected token EOF" {
		msg, at = "unexpected end of expression", utf8.RuneCountInString(e.Text)
	} else if op, ok := e.bitOperator(msg, at); ok {
		msg, at = "expr has no bitwise operators: write bitor(a, b) (also bitand, bitxor, bitnot, bitshl, bitshr)", op
	}
	return e.errAt(at, "%s", msg)
}

// bitOperator reports whether the parse error msg at rune offset at comes
// from a C-style bitwise operator (a & b, or a | b, which expr reads as a
// pipe into a function), and where that operator is.
func (e *Expr) bitOperator(msg string, at int) (int, bool) {
	if !strings.HasPrefix(msg, "unexpected token ") {
		return 0, false
	}
	if msg == `unexpected token Operator("&")` {
		return at, true
	}
	runes := []rune(e.Text)
	i := min(at, len(runes)) - 1
	for i >= 0 && (runes[i] == ' ' || runes[i] == '\t') {
		i--
	}
	if i >= 0 && runes[i] == '|' && (i == 0 || runes[i-1] != '|') {
		return i, true
	}
	return 0, false
}

// unknownName words the error for an unknown identifier that ends at rune
// offset end of the expression; fields are the names in scope.
func (e *Expr) unknownName(name string, end int, fields []string) string {
	rest := strings.TrimLeft(e.Text[byteOffset(e.Text, end):], " \t\r\n")
	if strings.HasPrefix(rest, "(") {
		return "unknown function `" + name + "`" + didYouMean(name, builtin.Names, []string{fnCIDR, fnMask})
	}
	if slices.Contains(stateNames, name) || slices.Contains(engine.StatusNames, name) {
		return fmt.Sprintf("unknown field `%s` (state and status names are strings: write \"%s\")", name, name)
	}
	if fields == nil {
		if slices.Contains(flowFields, name) {
			return "`" + name + "` is a flow field; this value must be a constant"
		}
		if slices.Contains(expectFields, name) {
			return "`" + name + "` is an expectation field; this value must be a constant"
		}
		return "unknown name `" + name + "`" + didYouMean(name, constants)
	}
	return "unknown field `" + name + "`" + didYouMean(name, fields, constants)
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
