package lang

import (
	"slices"

	"ctq/engine"
)

// Keywords are lowercase only: "LIST" is not a statement.

// statements maps the keywords of the statements this package implements
// to their parsers.
var statements = map[string]func(*parser, token) (Stmt, error){
	"list":   (*parser).list,
	"count":  (*parser).count,
	"get":    (*parser).get,
	"delete": (*parser).delete,
	"update": (*parser).update,
	"insert": (*parser).insert,
	"flush":  (*parser).flush,
	"load":   (*parser).load,
	"watch":  (*parser).watch,
}

// futureStatements are statement keywords of the language that are not
// implemented yet; using one is a parse error that says so.
var futureStatements = []string{
	"stats", "let", "print", "if", "exit", "source", "set", "help", "explain", "sync", "top",
}

// clauseWords are the words with a meaning inside statements. An
// expression ends before any of them (outside brackets).
var clauseWords = []string{"where", "order", "by", "asc", "desc", "limit", "as", "set", "dry", "for"}

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
	for k := range statements {
		out = append(out, k)
	}
	out = append(out, clauseWords...)
	out = append(out, engine.TableNames...)
	out = append(out, eventNames...)
	slices.Sort(out)
	return slices.Compact(out)
}
