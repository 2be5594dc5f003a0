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
	{Statement: Statement{Keyword: "list",
		Syntax:  "list [TABLE] [where EXPR] [order by EXPR [asc|desc], ...] [limit N] [zero] [as FORMAT]",
		Summary: "Print the entries that match",
		Table:   true,
		Clauses: []string{"where", "order", "limit", "zero", "as"}},
		parse: (*parser).list, explain: true},
	{Statement: Statement{Keyword: "count",
		Syntax:  "count [TABLE] [where EXPR] [by EXPR, ...]",
		Summary: "Count the entries that match, or each group's",
		Table:   true,
		Clauses: []string{"where", "by"}},
		parse: (*parser).count, explain: true},
	{Statement: Statement{Keyword: "get",
		Syntax: "get [TABLE] {proto: P, src: ADDR, dst: ADDR, sport: N, dport: N [, zone: Z] [, id: N]} [as FORMAT]\n" +
			"get [TABLE] {id: N} [as FORMAT]",
		Summary: "Look one entry up by its original tuple, or by its id",
		Table:   true,
		Clauses: []string{"as"}},
		parse: (*parser).get},
	{Statement: Statement{Keyword: "delete",
		Syntax:  "delete [TABLE] where EXPR [dry] [as FORMAT]",
		Summary: "Remove the entries that match",
		Table:   true,
		Clauses: []string{"where", "dry", "as"}},
		parse: (*parser).delete, explain: true},
	{Statement: Statement{Keyword: "update",
		Syntax:  "update set FIELD = EXPR[, ...] where EXPR [dry] [as FORMAT]",
		Summary: "Change mark, timeout, labels, status or state of the entries that match",
		Table:   true,
		Clauses: []string{"set", "where", "dry", "as"}},
		parse: (*parser).update, explain: true},
	{Statement: Statement{Keyword: "insert",
		Syntax:  "insert [TABLE] [if absent] {field: VALUE, ...} | insert [TABLE] [if absent] [{...}, {...}]",
		Summary: "Create entries from constant values",
		Table:   true,
		Words:   []string{"if", "absent"}},
		parse: (*parser).insert},
	{Statement: Statement{Keyword: "flush",
		Syntax:  "flush [TABLE] [ipv4|ipv6]",
		Summary: "Empty a table, or one family of it",
		Table:   true,
		Words:   familyWords},
		parse: (*parser).flush},
	{Statement: Statement{Keyword: "load",
		Syntax:  `load "FILE" | load -`,
		Summary: "Apply a file of conntrack -R lines"},
		parse: (*parser).load},
	{Statement: Statement{Keyword: "watch",
		Syntax:  "watch [TABLE] [EVENTS] [where EXPR] [count [by KEYS] every DURATION] [for DURATION] [limit N] [reliable] [as FORMAT]",
		Summary: "Stream events, or count them every interval",
		Table:   true,
		Words:   eventNames,
		Clauses: []string{"where", "count", "every", "for", "limit", "reliable", "as"}},
		parse: (*parser).watch},
	{Statement: Statement{Keyword: "top",
		Syntax:  "top [TABLE] N EXPR [by EXPR] [where EXPR]",
		Summary: "The N values with the most entries or the largest sum",
		Table:   true,
		Clauses: []string{"by", "where"}},
		parse: (*parser).top, explain: true},
	{Statement: Statement{Keyword: "sum",
		Syntax:  aggSyntax,
		Summary: "Add up a number over the entries that match",
		Clauses: aggClauses},
		parse: (*parser).agg, explain: true},
	{Statement: Statement{Keyword: "min",
		Syntax:  aggSyntax,
		Summary: "The smallest value of a number over the entries that match",
		Clauses: aggClauses},
		parse: (*parser).agg, explain: true},
	{Statement: Statement{Keyword: "max",
		Syntax:  aggSyntax,
		Summary: "The largest value of a number over the entries that match",
		Clauses: aggClauses},
		parse: (*parser).agg, explain: true},
	{Statement: Statement{Keyword: "avg",
		Syntax:  aggSyntax,
		Summary: "The average of a number over the entries that match",
		Clauses: aggClauses},
		parse: (*parser).agg, explain: true},
	{Statement: Statement{Keyword: "let",
		Syntax:  "let NAME = EXPR | let NAME = count|sum|min|max|avg ...",
		Summary: "Set a variable"},
		parse: (*parser).let},
	{Statement: Statement{Keyword: "print",
		Syntax:  "print EXPR",
		Summary: "Print a value"},
		parse: (*parser).print},
	{Statement: Statement{Keyword: "if",
		Syntax:  "if EXPR { ... } [else { ... } | else if EXPR { ... }]",
		Summary: "Run a block when a condition holds"},
		parse: (*parser).ifStmt},
	{Statement: Statement{Keyword: "exit",
		Syntax:  "exit [N]",
		Summary: "End the script with an exit code"},
		parse: (*parser).exit},
	{Statement: Statement{Keyword: "source",
		Syntax:  `source "FILE"`,
		Summary: "Run the statements of another file here"},
		parse: (*parser).sourceFile},
	{Statement: Statement{Keyword: "set",
		Syntax:  "set output FORMAT | set netns NAME",
		Summary: "Change the output format or the network namespace",
		Words:   settings},
		parse: (*parser).set},
	{Statement: Statement{Keyword: "explain",
		Syntax:  "explain STMT",
		Summary: "Show how a statement would run"},
		parse: (*parser).explain},
	{Statement: Statement{Keyword: "stats",
		Syntax:  "stats [conntrack|expect] [as FORMAT]",
		Summary: "The kernel's per-CPU counters (conntrack -S)",
		Table:   true,
		Clauses: []string{"as"}},
		parse: (*parser).stats},
	{Statement: Statement{Keyword: "serve",
		Syntax: `serve "ADDR" [where EXPR] [by EXPR, ...] [sync ["CONF"]] [every DURATION] [for DURATION]` + "\n" +
			`serve textfile "FILE" [where EXPR] [by EXPR, ...] [sync ["CONF"]]`,
		Summary: "Answer Prometheus scrapes, or write a textfile for node_exporter",
		Words:   []string{"textfile"},
		Clauses: []string{"where", "by", "sync", "every", "for"}},
		parse: (*parser).serve},
	{Statement: Statement{Keyword: "account",
		Syntax:  `account "FILE" [where EXPR] [every DURATION] [for DURATION] [as FORMAT]`,
		Summary: "Log the flows that end to a file (conntrackd's stats mode)",
		Clauses: []string{"where", "every", "for", "as"}},
		parse: (*parser).account},
	{Statement: Statement{Keyword: "sync",
		Syntax:  syncSyntax(),
		Summary: "State synchronization with a peer (conntrackd's sync modes)",
		Words:   verb.Names(verb.Statement)},
		parse: (*parser).syncStmt},
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
