package lang

import (
	"slices"
	"strings"

	"ctq/engine"
	"ctq/sync/verb"
)

// Statement describes a statement of the language: what help shows of it
// and what completion offers after its keyword. Statements lists them
// from the table the parser dispatches on.
type Statement struct {
	// Keyword is the word that starts the statement.
	Keyword string
	// Syntax is its usage, a line a form.
	Syntax string
	// Summary says what it does, in one line.
	Summary string
	// Table reports whether a table name (Tables) may follow the keyword.
	Table bool
	// Words are the words that may come right after the keyword (and
	// table) besides clauses: flush's families, watch's events, set's
	// settings.
	Words []string
	// Clauses are the clause words the statement takes.
	Clauses []string
}

// statement is a row of the statement table: a Statement and its parser.
type statement struct {
	Statement
	parse func(*parser, token) (Stmt, error)
	// explain reports whether explain takes the statement.
	explain bool
}

// aggSyntax is the usage of sum, min, max and avg.
const aggSyntax = "sum|min|max|avg EXPR [where EXPR] [by EXPR, ...]"

// statementTable is the statements, in the order help lists them. It is
// never changed. The parsers read it through parser.stmts only: the
// parsers it names parse statements themselves (if, let, explain), so a
// reference to the variable from them would be an initialization cycle.
var statementTable = []statement{
	{Statement{"list", "list [TABLE] [where EXPR] [order by EXPR [asc|desc], ...] [limit N] [as FORMAT]",
		"Print the entries that match", true, nil, []string{"where", "order", "limit", "as"}}, (*parser).list, true},
	{Statement{"count", "count [TABLE] [where EXPR] [by EXPR, ...]",
		"Count the entries that match, or each group's", true, nil, []string{"where", "by"}}, (*parser).count, true},
	{Statement{"get", "get {proto: P, src: ADDR, dst: ADDR, sport: N, dport: N [, zone: Z]} [as FORMAT]",
		"Look one entry up by its original tuple", false, nil, []string{"as"}}, (*parser).get, false},
	{Statement{"delete", "delete [TABLE] where EXPR [dry]",
		"Remove the entries that match", true, nil, []string{"where", "dry"}}, (*parser).delete, true},
	{Statement{"update", "update set FIELD = EXPR[, ...] where EXPR [dry]",
		"Change mark, timeout, labels or status of the entries that match", true, nil, []string{"set", "where", "dry"}}, (*parser).update, true},
	{Statement{"insert", "insert [TABLE] {field: VALUE, ...} | insert [TABLE] [{...}, {...}]",
		"Create entries from constant values", true, nil, nil}, (*parser).insert, false},
	{Statement{"flush", "flush [TABLE] [ipv4|ipv6]",
		"Empty a table, or one family of it", true, familyWords, nil}, (*parser).flush, false},
	{Statement{"load", `load "FILE" | load -`,
		"Apply a file of conntrack -R lines", false, nil, nil}, (*parser).load, false},
	{Statement{"watch", "watch [TABLE] [EVENTS] [where EXPR] [count [by KEYS] every DURATION] [for DURATION] [limit N] [as FORMAT]",
		"Stream events, or count them every interval", true, eventNames, []string{"where", "count", "every", "for", "limit", "as"}}, (*parser).watch, false},
	{Statement{"top", "top [TABLE] N EXPR [by EXPR] [where EXPR]",
		"The N values with the most entries or the largest sum", true, nil, []string{"by", "where"}}, (*parser).top, true},
	{Statement{"sum", aggSyntax, "Add up a number over the entries that match", false, nil, aggClauses}, (*parser).agg, true},
	{Statement{"min", aggSyntax, "The smallest value of a number over the entries that match", false, nil, aggClauses}, (*parser).agg, true},
	{Statement{"max", aggSyntax, "The largest value of a number over the entries that match", false, nil, aggClauses}, (*parser).agg, true},
	{Statement{"avg", aggSyntax, "The average of a number over the entries that match", false, nil, aggClauses}, (*parser).agg, true},
	{Statement{"let", "let NAME = EXPR | let NAME = count|sum|min|max|avg ...",
		"Set a variable", false, nil, nil}, (*parser).let, false},
	{Statement{"print", "print EXPR", "Print a value", false, nil, nil}, (*parser).print, false},
	{Statement{"if", "if EXPR { ... } [else { ... } | else if EXPR { ... }]",
		"Run a block when a condition holds", false, nil, nil}, (*parser).ifStmt, false},
	{Statement{"exit", "exit [N]", "End the script with an exit code", false, nil, nil}, (*parser).exit, false},
	{Statement{"source", `source "FILE"`, "Run the statements of another file here", false, nil, nil}, (*parser).sourceFile, false},
	{Statement{"set", "set output FORMAT | set netns NAME",
		"Change the output format or the network namespace", false, settings, nil}, (*parser).set, false},
	{Statement{"explain", "explain STMT", "Show how a statement would run", false, nil, nil}, (*parser).explain, false},
	{Statement{"stats", "stats [conntrack|expect] [as FORMAT]",
		"The kernel's per-CPU counters (conntrack -S)", true, nil, []string{"as"}}, (*parser).stats, false},
	{Statement{"serve", `serve "ADDR" [where EXPR] [by EXPR, ...] [sync ["CONF"]] [every DURATION] [for DURATION]` + "\n" +
		`serve textfile "FILE" [where EXPR] [by EXPR, ...] [sync ["CONF"]]`,
		"Answer Prometheus scrapes, or write a textfile for node_exporter", false, []string{"textfile"}, []string{"where", "by", "sync", "every", "for"}}, (*parser).serve, false},
	{Statement{"account", `account "FILE" [where EXPR] [every DURATION] [for DURATION] [as FORMAT]`,
		"Log the flows that end to a file (conntrackd's stats mode)", false, nil, []string{"where", "every", "for", "as"}}, (*parser).account, false},
	{Statement{"sync", syncSyntax(),
		"State synchronization with a peer (conntrackd's sync modes)", false, verb.Names(verb.Statement), nil}, (*parser).syncStmt, false},
}

// aggClauses are the clauses of sum, min, max and avg.
var aggClauses = []string{"where", "by"}

// syncSyntax is the usage of sync: a line a group of verbs.
func syncSyntax() string {
	var b strings.Builder
	for i, form := range verb.Usage(verb.Statement) {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(`sync ` + form + ` ["PATH"]`)
	}
	return b.String()
}

// Statements lists the statements the parser implements, in help order.
func Statements() []Statement {
	var out []Statement
	for _, s := range statementTable {
		st := s.Statement
		st.Words = slices.Clone(st.Words)
		st.Clauses = slices.Clone(st.Clauses)
		out = append(out, st)
	}
	return out
}

// statementKeywords are the keywords of the statements, in help order.
func statementKeywords() []string {
	var out []string
	for _, s := range statementTable {
		out = append(out, s.Keyword)
	}
	return out
}

// Tables lists the table names a statement may name, in the order of
// engine.Table.
func Tables() []string {
	return slices.Clone(engine.TableNames)
}

// Events lists the event words of watch.
func Events() []string {
	return slices.Clone(eventNames)
}
