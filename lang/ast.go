package lang

import (
	"fmt"
	"time"

	"ctq/engine"
)

// Script is a parsed script: its statements in order.
type Script struct {
	stmts []Stmt
}

// Stmts returns the statements of the script in source order.
func (s *Script) Stmts() []Stmt {
	return s.stmts
}

// Stmt is one parsed statement. The concrete types are *ListStmt,
// *CountStmt, *GetStmt, *DeleteStmt, *UpdateStmt, *InsertStmt, *FlushStmt,
// *LoadStmt, *WatchStmt, *TopStmt, *AggStmt, *LetStmt, *PrintStmt,
// *IfStmt, *ExitStmt, *SourceStmt, *SetStmt and *ExplainStmt.
type Stmt interface {
	// Pos is the position of the statement's keyword.
	Pos() Pos
	// Keyword is the statement's keyword ("list").
	Keyword() string
	stmt()
	errAt(p Pos, format string, args ...any) *Error
}

// node holds what every statement carries: its position and the script it
// came from (to place compile errors).
type node struct {
	start Pos
	src   *source
}

// Pos is the position of the statement's keyword.
func (n *node) Pos() Pos { return n.start }

func (n *node) stmt() {}

// errAt builds an Error at p; a statement built by hand (no source) gets
// the bare position.
func (n *node) errAt(p Pos, format string, args ...any) *Error {
	if n.src == nil {
		return &Error{Line: max(p.Line, 1), Col: max(p.Col, 1), Msg: fmt.Sprintf(format, args...)}
	}
	return n.src.errAt(p.Offset, format, args...)
}

// Expr is an embedded expr-lang expression: its source text and where that
// text starts in the script.
type Expr struct {
	Text string
	Pos  Pos
	src  *source // the whole script; nil for an Expr built by hand
}

// Word is a word of the script with its position (a format name).
type Word struct {
	Name string
	Pos  Pos
}

// OrderItem is one key of an "order by" clause.
type OrderItem struct {
	Expr *Expr
	Desc bool
}

// ListStmt is "list [TABLE] [where EXPR] [order by EXPR [asc|desc], ...]
// [limit N] [as FORMAT]".
type ListStmt struct {
	node
	Table engine.Table
	Where *Expr // nil without a where clause
	Order []OrderItem
	Limit int    // -1 without a limit clause
	As    []Word // the format words of "as", nil without it
	// Zero zeroes the counters of the entries as they are read (conntrack
	// -L -z); ZeroPos is where the word was written.
	Zero    bool
	ZeroPos Pos
}

// Keyword returns "list".
func (*ListStmt) Keyword() string { return "list" }

// CountStmt is "count [TABLE] [where EXPR] [by EXPR, ...]".
type CountStmt struct {
	node
	Table engine.Table
	Where *Expr   // nil without a where clause
	By    []*Expr // the group keys; nil without a by clause
}

// Keyword returns "count".
func (*CountStmt) Keyword() string { return "count" }

// GetStmt is "get [TABLE] {field: EXPR, ...} [as FORMAT]".
type GetStmt struct {
	node
	Table    engine.Table
	TablePos Pos
	Fields   []Field
	As       []Word
}

// Keyword returns "get".
func (*GetStmt) Keyword() string { return "get" }

// Field is one "field: EXPR" of a get or insert record.
type Field struct {
	Name  string
	Pos   Pos // position of the field name
	Value *Expr
}

// DeleteStmt is "delete [TABLE] where EXPR [dry] [as FORMAT]".
type DeleteStmt struct {
	node
	Table    engine.Table
	TablePos Pos   // position of the table word; zero when it was left out
	Where    *Expr // nil without a where clause (a compile error)
	Dry      bool
	// As prints each deleted entry in that format (nil: only the summary).
	As []Word
}

// Keyword returns "delete".
func (*DeleteStmt) Keyword() string { return "delete" }

// UpdateStmt is "update [TABLE] set FIELD = EXPR[, ...] where EXPR [dry]
// [as FORMAT]".
type UpdateStmt struct {
	node
	Table    engine.Table
	TablePos Pos
	Set      []Assign // nil without a set clause (a compile error)
	Where    *Expr    // nil without a where clause (a compile error)
	Dry      bool
	// As prints each updated entry in that format (nil: only the summary).
	As []Word
}

// Keyword returns "update".
func (*UpdateStmt) Keyword() string { return "update" }

// Assign is one "FIELD = EXPR" (or += / -=) of an update's set clause.
type Assign struct {
	Field string
	Pos   Pos    // position of the field name
	Op    string // "=", "+=" or "-="
	Value *Expr
}

// InsertStmt is "insert [TABLE] [if absent] {field: EXPR, ...}" or
// "insert [TABLE] [if absent] [{...}, {...}]".
type InsertStmt struct {
	node
	Table    engine.Table
	TablePos Pos
	Records  []Record
	// IfAbsent leaves an entry that exists already as it is, without an
	// error ("insert if absent", conntrack -A); IfPos is where "if" is.
	IfAbsent bool
	IfPos    Pos
}

// Keyword returns "insert".
func (*InsertStmt) Keyword() string { return "insert" }

// Record is one "{field: EXPR, ...}" of an insert statement.
type Record struct {
	Pos    Pos // position of the "{"
	Fields []Field
}

// FlushStmt is "flush [TABLE] [ipv4|ipv6]".
type FlushStmt struct {
	node
	Table    engine.Table
	TablePos Pos
	// Family is engine.AF_INET or engine.AF_INET6 with a family word,
	// engine.AF_UNSPEC without.
	Family int
}

// Keyword returns "flush".
func (*FlushStmt) Keyword() string { return "flush" }

// LoadStmt is `load "FILE"` or "load -" (standard input).
type LoadStmt struct {
	node
	Path string // the file name, unquoted; "-" for standard input
}

// Keyword returns "load".
func (*LoadStmt) Keyword() string { return "load" }

// WatchStmt is "watch [TABLE] [EVENTS] [where EXPR] [for DURATION]
// [limit N] [reliable] [as FORMAT]".
type WatchStmt struct {
	node
	Table    engine.Table
	TablePos Pos
	Events   engine.EventMask // zero: every event
	Where    *Expr
	For      time.Duration // zero without a for clause
	Limit    int           // -1 without a limit clause
	As       []Word
	// Every makes the watch count events per interval instead of printing
	// them (zero: print each event); By are the group keys of "count by".
	Every time.Duration
	By    []*Expr
	// Reliable asks for the kernel's reliable delivery of destroy events
	// (engine.WatchConfig.Reliable).
	Reliable bool
}

// Keyword returns "watch".
func (*WatchStmt) Keyword() string { return "watch" }
