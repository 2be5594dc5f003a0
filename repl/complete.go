package repl

import (
	"slices"
	"strings"

	"ctq/engine/format"
	"ctq/lang"
	"ctq/sync/verb"
)

// completer completes the word under the cursor from the grammar's tables
// (lang.Statements, sync/verb, format.Names), by context: statement
// keywords at the start of a statement; help topics after help; sync
// verbs after sync and a verb's argument words after it; tables, the
// statement's words and its clauses after its keyword (and table);
// formats after as and set output; fields and constants after where, and,
// or, not and by, with the statement's clauses too elsewhere (in an
// expression). It implements
// readline's AutoCompleter.
type completer struct {
	stmts   map[string]lang.Statement
	start   []string // statement keywords and help
	topics  []string
	formats []string
	tables  []string
	flow    []string // flow fields and constants
	expect  []string // expectation fields and constants
}

func newCompleter() *completer {
	c := &completer{
		stmts:   map[string]lang.Statement{},
		topics:  helpTopics(),
		formats: format.Names(),
		tables:  lang.Tables(),
		flow:    append(lang.Fields(), lang.Constants()...),
		expect:  append(lang.ExpectFields(), lang.Constants()...),
	}
	for _, s := range lang.Statements() {
		c.stmts[s.Keyword] = s
		c.start = append(c.start, s.Keyword)
	}
	c.start = append(c.start, "help")
	return c
}

// exprStarts are the words after which an expression starts: only fields
// and constants can come next.
var exprStarts = []string{"where", "and", "or", "not", "by"}

// Do returns the completions of the word that ends at pos, as suffixes,
// and the length of that word.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	head := statementHead(string(line[:pos]))
	start := strings.LastIndexFunc(head, func(r rune) bool { return !isWordRune(r) }) + 1
	word := head[start:]
	var out [][]rune
	for _, w := range c.candidates(words(head[:start])) {
		if strings.HasPrefix(w, word) && w != word {
			out = append(out, []rune(w[len(word):]+" "))
		}
	}
	return out, len([]rune(word))
}

// candidates are the words that may follow the words prev of a statement.
func (c *completer) candidates(prev []string) []string {
	if len(prev) > 0 && prev[0] == "explain" {
		prev = prev[1:]
	}
	if len(prev) == 0 {
		return c.start
	}
	kw, last := prev[0], prev[len(prev)-1]
	switch kw {
	case "help":
		if len(prev) == 1 {
			return c.topics
		}
		return nil
	case "sync":
		return syncCandidates(prev[1:])
	}
	st, ok := c.stmts[kw]
	if !ok {
		return nil
	}
	fields := c.flow
	if len(prev) > 1 && prev[1] == "expect" {
		fields = c.expect
	}
	switch {
	case last == "as" || last == "output":
		return c.formats
	case slices.Contains(exprStarts, last):
		return fields
	case last == "if" && slices.Contains(st.Words, "absent"):
		return []string{"absent"} // insert if absent
	case len(prev) == 1 && (st.Table || len(st.Words) > 0):
		var out []string
		if st.Table {
			out = append(out, c.tables...)
		}
		return append(append(out, st.Words...), st.Clauses...)
	case slices.Contains(st.Words, last) || st.Table && len(prev) == 2 && slices.Contains(c.tables, last):
		return append(slices.Clone(st.Words), st.Clauses...)
	}
	return append(slices.Clone(fields), st.Clauses...)
}

// syncCandidates are the words that may follow `sync` and the words args
// after it: the verbs, then the verb's argument words.
func syncCandidates(args []string) []string {
	if len(args) == 0 {
		return verb.Names(verb.Statement)
	}
	v, ok := verb.Lookup(args[0], verb.Statement)
	if !ok {
		return nil
	}
	next, _ := v.Next(strings.Join(args[1:], " "))
	return next
}

// statementHead is the part of the line head that belongs to the statement
// under the cursor: after the last ";", and inside an if's block after its
// last "{".
func statementHead(head string) string {
	if i := strings.LastIndex(head, ";"); i >= 0 {
		head = head[i+1:]
	}
	if w := words(head); len(w) > 0 && w[0] == "if" {
		if i := strings.LastIndexAny(head, "{}"); i >= 0 {
			head = head[i+1:]
		}
	}
	return head
}

func isWordRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// words are the whole words of s.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) })
}
