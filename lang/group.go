package lang

import (
	"reflect"

	"github.com/expr-lang/expr/vm"

	"ctq/engine"
)

// countBy compiles "count ... by KEYS" into an ActGroup plan.
func (c *compiler) countBy(s *CountStmt) (*engine.Plan, error) {
	plan := &engine.Plan{Action: engine.ActGroup, Table: s.Table, Limit: -1, Group: &engine.Grouping{Agg: engine.AggCount}}
	if err := c.groupWhere(plan, &s.node, s.Where); err != nil {
		return nil, err
	}
	return plan, c.groupKeys(plan, s.By)
}

// top compiles "top N KEY [by VALUE] [where EXPR]": the N keys with the
// largest sum of VALUE (without by: the most entries).
func (c *compiler) top(s *TopStmt) (*engine.Plan, error) {
	plan := &engine.Plan{Action: engine.ActGroup, Table: s.Table, Limit: s.N, Group: &engine.Grouping{Agg: engine.AggCount}}
	if err := c.groupWhere(plan, &s.node, s.Where); err != nil {
		return nil, err
	}
	if err := c.groupKeys(plan, []*Expr{s.Key}); err != nil {
		return nil, err
	}
	if s.By != nil {
		v, err := c.aggValue(s.By, "top ... by")
		if err != nil {
			return nil, err
		}
		plan.Group.Agg, plan.Group.Value = engine.AggSum, v
	}
	return plan, nil
}

// agg compiles "sum|min|max|avg VALUE [where EXPR] [by KEYS]".
func (c *compiler) agg(s *AggStmt) (*engine.Plan, error) {
	plan := &engine.Plan{Action: engine.ActGroup, Table: engine.TableConntrack, Limit: -1, Group: &engine.Grouping{Agg: s.Func}}
	if err := c.where(plan, s.Where); err != nil {
		return nil, err
	}
	v, err := c.aggValue(s.Value, s.Func.String())
	if err != nil {
		return nil, err
	}
	plan.Group.Value = v
	return plan, c.groupKeys(plan, s.By)
}

// groupWhere compiles the condition of a grouping statement; expectations
// cannot be grouped (group keys take flows).
func (c *compiler) groupWhere(plan *engine.Plan, n *node, e *Expr) error {
	if plan.Table == engine.TableExpect {
		return n.errAt(n.start, "expectations cannot be grouped: grouping works on conntrack, dying and unconfirmed entries")
	}
	return c.where(plan, e)
}

// groupKeys compiles the keys of a by clause into plan.Group.By.
func (c *compiler) groupKeys(plan *engine.Plan, keys []*Expr) error {
	if len(keys) > engine.MaxGroupKeys {
		return keys[engine.MaxGroupKeys].errAt(0, "at most %d group keys", engine.MaxGroupKeys)
	}
	for _, k := range keys {
		f, err := c.flowKey(k, "group by")
		if err != nil {
			return err
		}
		plan.Group.By = append(plan.Group.By, f)
	}
	if len(keys) == 1 {
		prog, err := c.compileExpr(keys[0], engine.Flow{})
		if err != nil {
			return err
		}
		plan.Group.AddrKey = fieldAddr(bareField(prog))
	}
	return nil
}

// aggValue compiles the number an aggregate function takes: any number,
// or a duration (in seconds).
func (c *compiler) aggValue(e *Expr, what string) (func(*engine.Flow) (float64, error), error) {
	prog, err := c.compileExpr(e, engine.Flow{})
	if err != nil {
		return nil, err
	}
	t := prog.Node().Type()
	conv := numberConverter(t)
	if conv == nil {
		name := "unknown type"
		if t != nil && t.Kind() != reflect.Interface {
			name = t.String()
		}
		return nil, e.errAt(0, "`%s` needs a number or a duration, not a value of %s", what, name)
	}
	if get := fieldValue(bareField(prog)); get != nil {
		return func(f *engine.Flow) (float64, error) { return get(f), nil }, nil
	}
	var machine vm.VM
	return func(f *engine.Flow) (float64, error) {
		out, err := machine.Run(prog, f)
		if err != nil {
			return 0, e.runtimeError(err)
		}
		return conv(reflect.ValueOf(out)), nil
	}, nil
}

// numberConverter returns the conversion of a value of static type t to
// float64 (a duration in seconds), nil when t is not a number.
func numberConverter(t reflect.Type) func(reflect.Value) float64 {
	if t == nil {
		return nil
	}
	if t == durationType {
		return func(v reflect.Value) float64 { return float64(v.Int()) / 1e9 }
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return func(v reflect.Value) float64 { return float64(v.Int()) }
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return func(v reflect.Value) float64 { return float64(v.Uint()) }
	case reflect.Float32, reflect.Float64:
		return func(v reflect.Value) float64 { return v.Float() }
	}
	return nil
}
