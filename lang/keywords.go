package lang

import (
	"slices"

	"ctq/engine"
)

// Keywords are lowercase only: "LIST" is not a statement.

// grammar returns the row of the statement table whose keyword is kw, nil
// for a word that is not a statement keyword.
func (p *parser) grammar(kw string) *statement {
	for i := range p.stmts {
		if p.stmts[i].Keyword == kw {
			return &p.stmts[i]
		}
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
var clauseWords = []string{"where", "order", "by", "asc", "desc", "limit", "as", "set", "dry", "zero", "for", "every", "sync", "reliable"}

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
	out = append(out, statementKeywords()...)
	out = append(out, "else")
	out = append(out, settings...)
	out = append(out, clauseWords...)
	out = append(out, engine.TableNames...)
	out = append(out, eventNames...)
	slices.Sort(out)
	return slices.Compact(out)
}
