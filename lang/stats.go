package lang

import "ctq/engine"

// StatsStmt is "stats [conntrack|expect] [as FORMAT]".
type StatsStmt struct {
	node
	Table    engine.Table
	TablePos Pos    // zero when the table was left out
	As       []Word // nil without an as clause
}

// Keyword is "stats".
func (*StatsStmt) Keyword() string { return "stats" }

// StatsStep is a compiled stats statement: print the per-CPU counters of
// Table (conntrack -S, conntrack -S expect) and, for conntrack, the
// global entry count and limit.
type StatsStep struct {
	At    Site
	Table engine.Table
	// Format is the format of the as clause, empty for the session's.
	Format string
}

// Where is the site of the step.
func (s *StatsStep) Where() Site { return s.At }

// stats parses "stats [TABLE] [as FORMAT]".
func (p *parser) stats(kw token) (Stmt, error) {
	clauses := p.grammar(kw.text).Clauses
	s := &StatsStmt{node: p.node(kw)}
	var err error
	if s.Table, s.TablePos, err = p.table(clauses); err != nil {
		return nil, err
	}
	t, ok, err := p.clause("stats", clauses, map[string]bool{})
	if err != nil || !ok {
		return s, err
	}
	if s.As, err = p.format(t); err != nil {
		return nil, err
	}
	return s, nil
}

// statsStep compiles a stats statement: the kernel keeps statistics for
// the conntrack and expect tables only.
func (c *compiler) statsStep(s *StatsStmt, at Site) (*StatsStep, error) {
	if s.Table != engine.TableConntrack && s.Table != engine.TableExpect {
		return nil, s.errAt(s.TablePos, "the kernel keeps statistics for the conntrack and expect tables only, not %s", s.Table)
	}
	f, err := c.format(&s.node, s.As)
	if err != nil {
		return nil, err
	}
	return &StatsStep{At: at, Table: s.Table, Format: f}, nil
}
