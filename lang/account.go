package lang

import (
	"time"

	"ctq/engine"
)

// AccountStmt is `account "FILE" [where EXPR] [every DURATION] [for
// DURATION] [as FORMAT]`: flow accounting, conntrackd's stats mode.
type AccountStmt struct {
	node
	Path  string
	Where *Expr // nil without a where clause
	For   time.Duration
	Every time.Duration // zero without an every clause
	As    []Word
}

// Keyword is "account".
func (*AccountStmt) Keyword() string { return "account" }

// AccountStep is a compiled account statement: append each destroyed
// conntrack entry the condition selects, with its counters and
// timestamps, to Path until interrupted (or for the watch's duration).
type AccountStep struct {
	At   Site
	Path string
	// Resync is the interval of the table dumps that find entries which
	// ended without a destroy event (every DURATION; zero: the default).
	Resync time.Duration
	// Watch is the statement as "watch destroy [where EXPR] [for DURATION]
	// [as FORMAT]" (the step's Format is empty without as).
	Watch *PlanStep
}

// Where is the site of the step.
func (s *AccountStep) Where() Site { return s.At }

// account parses `account "FILE" [where EXPR] [every DURATION] [for
// DURATION] [as FORMAT]`.
func (p *parser) account(kw token) (Stmt, error) {
	t := p.peek()
	if t.kind != tokString {
		return nil, p.errAt(t, "expected a file name in quotes after `account`, found %s", describe(t))
	}
	path, err := p.unquote(t)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, p.errAt(t, "`account` needs a file name, not an empty string")
	}
	p.i++
	s := &AccountStmt{node: p.node(kw), Path: path}
	seen := map[string]bool{}
	for {
		t, ok, err := p.clause(kw.text, p.grammar(kw.text).Clauses, seen)
		if err != nil || !ok {
			return s, err
		}
		switch t.text {
		case "where":
			s.Where, err = p.expr(t)
		case "for":
			s.For, err = p.duration(t)
		case "every":
			s.Every, err = p.duration(t)
		case "as":
			s.As, err = p.format(t)
		}
		if err != nil {
			return nil, err
		}
	}
}

// accountStep compiles an account statement as a watch of destroy events.
func (c *compiler) accountStep(s *AccountStmt, at Site) (*AccountStep, error) {
	w := &WatchStmt{node: s.node, Table: engine.TableConntrack, Events: engine.EventDestroy,
		Where: s.Where, For: s.For, Limit: -1, As: s.As}
	ps, err := c.planStep(w, at)
	if err != nil {
		return nil, err
	}
	ps.Keyword = "account"
	return &AccountStep{At: at, Path: s.Path, Resync: s.Every, Watch: ps}, nil
}
