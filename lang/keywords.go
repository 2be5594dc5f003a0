package lang

import (
	"slices"

	"ctq/engine"
)

// Keywords are lowercase only: "LIST" is not a statement.

// statements maps the keywords of the statements this package implements
// to their parsers.
var statements = map[string]func(*parser, token) (Stmt, error){
	"list":  (*parser).list,
	"count": (*parser).count,
	"get":   (*parser).get,
}

// futureStatements are statement keywords of the language that are not
// implemented yet; using one is a parse error that says so.
var futureStatements = []string{
	"delete", "update", "insert", "load", "flush", "watch", "stats", "let",
	"print", "if", "exit", "source", "set", "help", "explain", "sync", "top",
}

// clauseWords are the words with a meaning inside statements.
var clauseWords = []string{"where", "order", "by", "asc", "desc", "limit", "as"}

// Keywords lists the words the statement parser gives a meaning to: the
// statements it implements, their clause words and the table names,
// sorted. (and, or, not, in, ... belong to expr.)
func Keywords() []string {
	var out []string
	for k := range statements {
		out = append(out, k)
	}
	out = append(out, clauseWords...)
	out = append(out, engine.TableNames...)
	slices.Sort(out)
	return out
}
