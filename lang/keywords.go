package lang

import (
	"slices"

	"ctq/engine"
)

// Keywords are lowercase only: "LIST" is not a statement.

// statementNames are the keywords of the statements this package
// implements (parserFor dispatches on them).
var statementNames = []string{
	"list", "count", "get", "delete", "update", "insert", "flush", "load", "watch",
	"top", "sum", "min", "max", "avg", "let", "print", "if", "exit", "source", "set", "explain",
	"stats", "serve", "account", "sync",
}

// parserFor returns the parser of the statement whose keyword is kw, nil
// for a word that is not one of statementNames.
func (p *parser) parserFor(kw string) func(token) (Stmt, error) {
	switch kw {
	case "list":
		return p.list
	case "count":
		return p.count
	case "get":
		return p.get
	case "delete":
		return p.delete
	case "update":
		return p.update
	case "insert":
		return p.insert
	case "flush":
		return p.flush
	case "load":
		return p.load
	case "watch":
		return p.watch
	case "top":
		return p.top
	case "sum", "min", "max", "avg":
		return p.agg
	case "let":
		return p.let
	case "print":
		return p.print
	case "if":
		return p.ifStmt
	case "exit":
		return p.exit
	case "source":
		return p.sourceFile
	case "set":
		return p.set
	case "explain":
		return p.explain
	case "stats":
		return p.stats
	case "serve":
		return p.serve
	case "account":
		return p.account
	case "sync":
		return p.syncStmt
	}
	return nil
}

// futureStatements are statement keywords of the language that are not
// implemented yet; using one is a parse error that says so.
var futureStatements = []string{
	"help",
}

// clauseWords are the words with a meaning inside statements. An
// expression ends before any of them (outside brackets).
var clauseWords = []string{"where", "order", "by", "asc", "desc", "limit", "as", "set", "dry", "for", "every", "sync"}

// eventNames are the event words of watch.
var eventNames = []string{"new", "update", "destroy"}

// eventTypes maps an event word to its type.
var eventTypes = map[string]engine.EventType{
	"new":     engine.EventNew,
	"update":  engine.EventUpdate,
	"destroy": engine.EventDestroy,
}

// Keywords lists the words the statement parser gives a meaning to: the
// statements it implements, their clause words, the table names and the
// event names, sorted and without repeats. (and, or, not, in, ... belong
// to expr.)
func Keywords() []string {
	var out []string
	out = append(out, statementNames...)
	out = append(out, "else")
	out = append(out, settings...)
	out = append(out, clauseWords...)
	out = append(out, engine.TableNames...)
	out = append(out, eventNames...)
	slices.Sort(out)
	return slices.Compact(out)
}
