package lang

import "ctq/engine"

// LetStmt is "let NAME = EXPR", or "let NAME = STMT" with a count, sum,
// min, max or avg statement (without by) whose result is the value.
type LetStmt struct {
	node
	Name    string
	NamePos Pos
	Value   *Expr // nil when Agg is set
	Agg     Stmt  // a *CountStmt or *AggStmt; nil for an expression
}

// Keyword returns "let".
func (*LetStmt) Keyword() string { return "let" }

// PrintStmt is "print EXPR".
type PrintStmt struct {
	node
	Value *Expr
}

// Keyword returns "print".
func (*PrintStmt) Keyword() string { return "print" }

// IfStmt is "if EXPR { ... } [else { ... } | else if ...]".
type IfStmt struct {
	node
	Cond       *Expr
	Then, Else []Stmt
}

// Keyword returns "if".
func (*IfStmt) Keyword() string { return "if" }

// ExitStmt is "exit [EXPR]".
type ExitStmt struct {
	node
	Code *Expr // nil: exit code 0
}

// Keyword returns "exit".
func (*ExitStmt) Keyword() string { return "exit" }

// SourceStmt is `source "FILE"`.
type SourceStmt struct {
	node
	Path string
}

// Keyword returns "source".
func (*SourceStmt) Keyword() string { return "source" }

// SetStmt is "set output FORMAT" or "set netns NAME".
type SetStmt struct {
	node
	Name     string // "output" or "netns"
	Value    string
	ValuePos Pos
}

// Keyword returns "set".
func (*SetStmt) Keyword() string { return "set" }

// ExplainStmt is "explain STMT" for a list, count, delete, update, top,
// sum, min, max or avg statement.
type ExplainStmt struct {
	node
	Stmt Stmt
}

// Keyword returns "explain".
func (*ExplainStmt) Keyword() string { return "explain" }

// TopStmt is "top [TABLE] N EXPR [by EXPR] [where EXPR]": the N values
// of the first EXPR with the largest sums of the by EXPR (without by: the
// most entries).
type TopStmt struct {
	node
	Table engine.Table
	N     int
	Key   *Expr
	By    *Expr // nil: count entries
	Where *Expr
}

// Keyword returns "top".
func (*TopStmt) Keyword() string { return "top" }

// AggStmt is "sum|min|max|avg EXPR [where EXPR] [by EXPR, ...]" over
// the conntrack table.
type AggStmt struct {
	node
	Func  engine.AggFunc
	Value *Expr
	Where *Expr
	By    []*Expr
}

// Keyword returns the function's name.
func (s *AggStmt) Keyword() string { return s.Func.String() }
