package lang

import "ctq/engine"

// tableAt is where a statement names its table: the table word, or the
// statement's keyword when the table was left out.
func (n *node) tableAt(p Pos) Pos {
	if p.Line == 0 {
		return n.start
	}
	return p
}

// liveOnly reports whether t is a table whose entries the kernel lists but
// does not let anyone change (dying, unconfirmed).
func liveOnly(t engine.Table) bool {
	return t == engine.TableDying || t == engine.TableUnconfirmed
}

func (c *compiler) delete(s *DeleteStmt) (*engine.Plan, error) {
	if liveOnly(s.Table) {
		return nil, s.errAt(s.tableAt(s.TablePos), "entries of the `%s` table cannot be deleted (delete from conntrack or expect)", s.Table)
	}
	if s.Where == nil {
		return nil, s.errAt(s.start, "delete needs a where clause: to empty the table use `flush`")
	}
	plan := &engine.Plan{Action: engine.ActDelete, Table: s.Table, Limit: -1, Dry: s.Dry}
	if err := c.where(plan, s.Where); err != nil {
		return nil, err
	}
	if err := echo(&s.node, plan, s.As); err != nil {
		return nil, err
	}
	return plan, nil
}

// echo sets plan.Echo for a delete or update with an as clause (the
// entries it touches are printed in that format), and refuses what cannot
// print them.
func echo(n *node, plan *engine.Plan, as []Word) error {
	if as == nil {
		return nil
	}
	switch {
	case plan.Table == engine.TableExpect:
		return n.errAt(as[0].Pos, "deleted expectations are not printed: `as` works on conntrack entries")
	case plan.Dry:
		return n.errAt(as[0].Pos, "`dry` touches nothing, so there is nothing to print: to see the entries write `list where ... as %s`", as[0].Name)
	}
	plan.Echo = true
	return nil
}

func (c *compiler) flush(s *FlushStmt) (*engine.Plan, error) {
	if liveOnly(s.Table) {
		return nil, s.errAt(s.tableAt(s.TablePos), "the `%s` table cannot be flushed (flush conntrack or expect)", s.Table)
	}
	plan := &engine.Plan{Action: engine.ActFlush, Table: s.Table, Limit: -1}
	plan.Filter.Family = s.Family
	return plan, nil
}

func (c *compiler) watch(s *WatchStmt) (*engine.Plan, error) {
	if liveOnly(s.Table) {
		return nil, s.errAt(s.tableAt(s.TablePos), "the `%s` table has no events (watch conntrack or expect)", s.Table)
	}
	plan := &engine.Plan{Action: engine.ActWatch, Table: s.Table, Events: s.Events, For: s.For, Limit: s.Limit, Reliable: s.Reliable}
	if err := c.where(plan, s.Where); err != nil {
		return nil, err
	}
	if s.Every > 0 {
		if s.Table == engine.TableExpect {
			return nil, s.errAt(s.start, "expectation events cannot be counted by group: count conntrack events")
		}
		plan.Every = s.Every
		plan.Group = &engine.Grouping{Agg: engine.AggCount}
		if err := c.groupKeys(plan, s.By); err != nil {
			return nil, err
		}
	}
	return plan, nil
}
