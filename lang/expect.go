package lang

import (
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"

	"ctq/engine"
)

// whereExpect compiles the condition e over expectations into
// plan.MatchExpect; only the family goes into plan.Filter, and the plan is
// never Exact.
func (c *compiler) whereExpect(plan *engine.Plan, e *Expr) error {
	prog, err := c.compileExpr(e, engine.Expect{}, expr.AsBool())
	if err != nil {
		return err
	}
	plan.Filter = pushdownExpect(prog.Node())
	var machine vm.VM
	plan.MatchExpect = func(x *engine.Expect) (bool, error) {
		return runBool(&machine, prog, x, e)
	}
	return nil
}
