package lang

import (
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"ctq/engine"
)

// update compiles "update ... set ... where ...": the constant parts of
// the change are computed once, the parts that read the flow (set mark =
// bitor(mark, 0x10)) per selected flow by Plan.Change.
func (c *compiler) update(s *UpdateStmt) (*engine.Plan, error) {
	switch {
	case s.Table == engine.TableExpect:
		return nil, s.errAt(s.tableAt(s.TablePos), "expectations cannot be updated (update changes conntrack entries)")
	case liveOnly(s.Table):
		return nil, s.errAt(s.tableAt(s.TablePos), "entries of the `%s` table cannot be updated (update changes conntrack entries)", s.Table)
	case len(s.Set) == 0:
		return nil, s.errAt(s.start, "update needs a `set` clause: update set mark = 1 where ...")
	case s.Where == nil:
		return nil, s.errAt(s.start, "update needs a where clause; use `where true` to update every entry")
	}
	var base engine.Change
	var steps []func(*engine.Flow, *engine.Change) error
	var state *Assign
	for _, a := range s.Set {
		if a.Field == "state" {
			state = &a
			continue
		}
		step, err := c.assign(s, a, &base)
		if err != nil {
			return nil, err
		}
		if step != nil {
			steps = append(steps, step)
		}
	}
	if both := andLabels(base.AddLabels, base.DelLabels); !both.Empty() {
		for _, a := range s.Set {
			if a.Field == "labels" && a.Op == "-=" {
				return nil, a.Value.errAt(0, "label %d is both added and removed", both.Bits()[0])
			}
		}
	}
	plan := &engine.Plan{Action: engine.ActUpdate, Table: s.Table, Limit: -1, Dry: s.Dry}
	if err := c.where(plan, s.Where); err != nil {
		return nil, err
	}
	if err := echo(&s.node, plan, s.As); err != nil {
		return nil, err
	}
	if state != nil {
		if err := c.stateAssign(s, *state, plan, &base); err != nil {
			return nil, err
		}
	}
	change := func(f *engine.Flow) (engine.Change, error) {
		ch := base
		for _, step := range steps {
			if err := step(f, &ch); err != nil {
				return engine.Change{}, err
			}
		}
		return unchanged(ch, f), nil
	}
	plan.Change = change
	if !setsTimeout(s.Set) {
		// An entry the change leaves as it is is not selected: neither
		// sent nor counted, by a dry run either (conntrack -U skips it).
		match := plan.Match
		plan.Match = func(f *engine.Flow) (bool, error) {
			ok, err := match(f)
			if err != nil || !ok {
				return ok, err
			}
			ch, err := change(f)
			// A change that fails is selected: the failure is reported
			// when the change is computed for it.
			return err != nil || !ch.Empty(), nil
		}
		plan.Exact = false
	}
	return plan, nil
}

// setsTimeout reports whether a set clause sets the timeout: that changes
// every entry (it restarts the entry's timer), whatever its value.
func setsTimeout(set []Assign) bool {
	for _, a := range set {
		if a.Field == "timeout" {
			return true
		}
	}
	return false
}

// unchanged removes from ch what f already is: a mark it has, status bits
// and labels it has set, labels it lacks, the state it is in. A change left
// empty is not sent.
func unchanged(ch engine.Change, f *engine.Flow) engine.Change {
	if ch.SetMark && uint32(f.Mark) == ch.Mark {
		ch.SetMark, ch.Mark = false, 0
	}
	ch.SetStatus &^= f.Status
	for i := range ch.AddLabels.Words {
		ch.AddLabels.Words[i] &^= f.Labels.Words[i]
		ch.DelLabels.Words[i] &= f.Labels.Words[i]
	}
	if ch.SetState && f.Has&engine.HasState != 0 && f.StateNum == ch.StateNum {
		ch.SetState, ch.StateNum = false, 0
	}
	return ch
}

// assign compiles one assignment of a set clause. A constant one goes
// into base; one that reads the flow comes back as a step that fills its
// part of the change per flow.
func (c *compiler) assign(s *UpdateStmt, a Assign, base *engine.Change) (func(*engine.Flow, *engine.Change) error, error) {
	switch a.Field {
	case "mark", "timeout":
		if a.Op != "=" {
			return nil, s.errAt(a.Pos, "`%s` is set with `=`, not `%s`", a.Field, a.Op)
		}
		return c.numeric(a, base)
	case "labels":
		if a.Op == "=" {
			for _, b := range s.Set {
				if b.Field == "labels" && b.Op != "=" {
					return nil, s.errAt(b.Pos, "`labels %s` cannot go with `labels =`, which sets every label (write the labels it should have, or [] for none)", b.Op)
				}
			}
		}
		v, err := c.constant(a.Value)
		if err != nil {
			return nil, err
		}
		l, err := c.labelsValue(a.Field, v)
		if err != nil {
			return nil, a.Value.errAt(0, "%v", err)
		}
		switch a.Op {
		case "=":
			// Exactly these: the others are cleared ([] clears all).
			base.AddLabels = l
			for i := range base.DelLabels.Words {
				base.DelLabels.Words[i] = ^l.Words[i]
			}
		case "+=":
			base.AddLabels = orLabels(base.AddLabels, l)
		default:
			base.DelLabels = orLabels(base.DelLabels, l)
		}
		return nil, nil
	case "status":
		if a.Op != "+=" {
			return nil, s.errAt(a.Pos, "`status` only takes `+=`: the kernel sets SEEN_REPLY, ASSURED and FIXED_TIMEOUT but never clears them")
		}
		v, err := c.constant(a.Value)
		if err != nil {
			return nil, err
		}
		bits, err := statusValue(a.Field, v)
		if err != nil {
			return nil, a.Value.errAt(0, "%v", err)
		}
		base.SetStatus |= bits
		return nil, nil
	}
	return nil, s.errAt(a.Pos, "unknown field `%s`%s (update sets mark, timeout, labels, status and state)", a.Field, didYouMean(a.Field, settableFields))
}

// stateAssign compiles "state = NAME" (conntrack -U --state): NAME is a
// constant state name of the one protocol the where clause selects (as
// conntrack's --state needs -p), so that it is checked now and its number
// known.
func (c *compiler) stateAssign(s *UpdateStmt, a Assign, plan *engine.Plan, base *engine.Change) error {
	if a.Op != "=" {
		return s.errAt(a.Pos, "`state` is set with `=`, not `%s`", a.Op)
	}
	v, err := c.constant(a.Value)
	if err != nil {
		return err
	}
	name, ok := v.(string)
	if !ok {
		return a.Value.errAt(0, "`state` must be a state name such as \"ESTABLISHED\", not %#v", v)
	}
	if !slices.Contains(stateNames, name) {
		return a.Value.errAt(0, "unknown state %q%s", name, didYouMean(strings.ToUpper(name), stateNames))
	}
	f := plan.Filter.Orig
	proto := int(f.Proto)
	if f.Fields&engine.TupleProto == 0 || engine.StateTable(proto) == nil {
		return s.errAt(a.Pos, "`state` is a state of one protocol: the where clause must select tcp, sctp or dccp (where proto == tcp and ...)")
	}
	num, ok := engine.StateNum(proto, name)
	if !ok {
		return a.Value.errAt(0, "%q is not a %s state (%s states: %s)", name, engine.ProtoName(proto), engine.ProtoName(proto),
			strings.Join(engine.StateTable(proto), ", "))
	}
	base.SetState, base.StateNum = true, num
	return nil
}

// numeric compiles "mark = EXPR" or "timeout = EXPR": EXPR may read the
// flow. Its static type must be a whole number (or, for timeout, a
// duration); a literal is checked and applied once, now.
func (c *compiler) numeric(a Assign, base *engine.Change) (func(*engine.Flow, *engine.Change) error, error) {
	prog, err := c.compileExpr(a.Value, engine.Flow{})
	if err != nil {
		return nil, err
	}
	timeout := a.Field == "timeout"
	if t := prog.Node().Type(); !numericType(t, timeout) {
		want := "a whole number"
		if timeout {
			want = "a whole number of seconds or a duration"
		}
		return nil, a.Value.errAt(0, "`%s` must be %s, not %s", a.Field, want, typeName(t))
	}
	apply := func(ch *engine.Change, v any) error {
		n, err := toUint32(a.Field, v, timeout)
		if err != nil {
			return a.Value.errAt(0, "%v", err)
		}
		if timeout {
			ch.SetTimeout, ch.Timeout = true, n
		} else {
			ch.SetMark, ch.Mark = true, n
		}
		return nil
	}
	switch prog.Node().(type) {
	case *ast.IntegerNode, *ast.ConstantNode: // a literal, or folded into one
		var machine vm.VM
		v, err := machine.Run(prog, &engine.Flow{})
		if err != nil {
			return nil, a.Value.runtimeError(err)
		}
		return nil, apply(base, v)
	}
	var machine vm.VM
	return func(f *engine.Flow, ch *engine.Change) error {
		v, err := machine.Run(prog, f)
		if err != nil {
			return a.Value.runtimeError(err)
		}
		return apply(ch, v)
	}, nil
}

// numericType reports whether a value of static type t can be a mark (a
// whole number) or a timeout (also a duration). An unknown type (a value
// of mixed types) is checked when it is computed.
func numericType(t reflect.Type, duration bool) bool {
	if t == nil || t.Kind() == reflect.Interface {
		return true
	}
	if t == durationType {
		return duration
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// typeName names a static type for messages.
func typeName(t reflect.Type) string {
	if t == nil || t.Kind() == reflect.Interface {
		return "a value of unknown type"
	}
	return t.String()
}

// toUint32 converts a computed mark or timeout into the kernel's 32-bit
// value. A duration timeout is rounded up to whole seconds.
func toUint32(field string, v any, duration bool) (uint32, error) {
	var n int64
	switch x := v.(type) {
	case time.Duration:
		if !duration {
			return 0, fmt.Errorf("`%s` must be a whole number, not a duration", field)
		}
		if x < 0 {
			return 0, fmt.Errorf("`%s` must not be negative: %v", field, x)
		}
		n = int64((x + time.Second - 1) / time.Second)
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n = rv.Int()
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			if rv.Uint() > math.MaxUint32 {
				return 0, fmt.Errorf("`%s` must be from 0 to %d, not %d", field, uint32(math.MaxUint32), rv.Uint())
			}
			n = int64(rv.Uint())
		default:
			return 0, fmt.Errorf("`%s` must be a whole number, not %T", field, v)
		}
	}
	if n < 0 || n > math.MaxUint32 {
		return 0, fmt.Errorf("`%s` must be from 0 to %d, not %d", field, uint32(math.MaxUint32), n)
	}
	return uint32(n), nil
}
