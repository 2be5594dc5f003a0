package lang

import (
	"slices"
	"strconv"
	"strings"

	"ctq/engine"
)

// Parse parses a whole script: statements separated by newlines or ";",
// with blank lines and "#" comments ignored. A newline inside an open
// bracket continues the statement. On failure it returns an *Error.
//
// Statement keywords and clause words are lowercase only. A condition or
// value is an expr-lang expression; it runs to the next clause word
// (where, order, by, asc, desc, limit, as, set, dry, for) outside brackets
// and strings, or to the end of the statement.
func Parse(text string) (*Script, error) {
	stmts, err := parse(text)
	if err != nil {
		return nil, err
	}
	return &Script{stmts: stmts}, nil
}

// parse parses statements until the end of text or the first error, and
// returns the statements before the error too.
func parse(text string) ([]Stmt, error) {
	src := newSource(text)
	if len(text) > MaxScriptBytes {
		return nil, src.errAt(MaxScriptBytes, "the script is longer than %d bytes", MaxScriptBytes)
	}
	p := &parser{src: src, lx: &lexer{src: src, text: text}, stmts: statementTable}
	var out []Stmt
	for {
		switch p.peek().kind {
		case tokEOF:
			return out, p.lexErr
		case tokEnd:
			p.i++
			continue
		}
		st, err := p.stmt()
		// A lexical error met while parsing a statement is its real fault
		// (the parser only saw the end of input there).
		if p.lexErr != nil {
			return out, p.lexErr
		}
		if err != nil {
			return out, err
		}
		out = append(out, st)
	}
}

// parser is a recursive-descent parser over the tokens of a script, which
// it takes from the lexer as it goes.
type parser struct {
	src    *source
	lx     *lexer
	toks   []token
	i      int
	lexErr error       // the lexer's error; the token stream ends there
	blocks int         // how many if blocks enclose the current statement
	stmts  []statement // statementTable (see there why a field)
}

// at returns token i, lexing as far as needed; past the end of the script
// or a lexical error it returns an EOF token.
func (p *parser) at(i int) token {
	for len(p.toks) <= i {
		if n := len(p.toks); p.lexErr != nil || n > 0 && p.toks[n-1].kind == tokEOF {
			return token{kind: tokEOF, off: len(p.src.text), end: len(p.src.text)}
		}
		t, err := p.lx.token()
		if err != nil {
			p.lexErr = err
			continue
		}
		p.toks = append(p.toks, t)
	}
	return p.toks[i]
}

func (p *parser) peek() token { return p.at(p.i) }

// next consumes a token; the final EOF token is never consumed.
func (p *parser) next() token {
	t := p.at(p.i)
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) *Error {
	return p.src.errAt(t.off, format, args...)
}

// node starts the node of a statement whose keyword is kw.
func (p *parser) node(kw token) node {
	return node{start: p.src.pos(kw.off), src: p.src}
}

// atEnd reports whether t ends a statement.
func atEnd(t token) bool {
	return t.kind == tokEnd || t.kind == tokEOF
}

// isPunct reports whether t is the punctuation s.
func isPunct(t token, s string) bool {
	return t.kind == tokPunct && t.text == s
}

// keywordAt reports whether token i is one of words used as a keyword: a
// word right after a "." is a member name (x.limit), not a keyword.
func (p *parser) keywordAt(i int, words ...string) bool {
	t := p.at(i)
	if t.kind != tokWord || !slices.Contains(words, t.text) {
		return false
	}
	return i == 0 || !isPunct(p.at(i-1), ".")
}

// describe names a token for an error message.
func describe(t token) string {
	switch {
	case t.kind == tokEOF:
		return "end of input"
	case t.kind == tokEnd && t.text != ";":
		return "end of line"
	}
	return "`" + t.text + "`"
}

// didYouMean is " (did you mean `x`?)" for the candidate closest to word,
// or "".
func didYouMean(word string, candidates ...[]string) string {
	if s := suggest(word, candidates...); s != "" {
		return " (did you mean `" + s + "`?)"
	}
	return ""
}

// stmt parses one statement, dispatching on its keyword.
func (p *parser) stmt() (Stmt, error) {
	t := p.next()
	if t.kind != tokWord {
		return nil, p.errAt(t, "expected a statement, found %s", describe(t))
	}
	if g := p.grammar(t.text); g != nil {
		st, err := g.parse(p, t)
		if err != nil {
			return nil, err
		}
		if end := p.peek(); !atEnd(end) && !(p.blocks > 0 && isPunct(end, "}")) {
			return nil, p.errAt(end, "unexpected %s after the `%s` statement", describe(end), t.text)
		}
		return st, nil
	}
	if slices.Contains(futureStatements, t.text) {
		return nil, p.errAt(t, "statement `%s` is not supported yet", t.text)
	}
	if lower := strings.ToLower(t.text); p.grammar(lower) != nil || slices.Contains(futureStatements, lower) {
		return nil, p.errAt(t, "unknown statement `%s` (keywords are lowercase: `%s`)", t.text, lower)
	}
	var known []string
	for _, s := range p.stmts {
		known = append(known, s.Keyword)
	}
	slices.Sort(known)
	return nil, p.errAt(t, "unknown statement `%s`%s", t.text, didYouMean(t.text, known, futureStatements))
}

// table parses the optional TABLE after a statement keyword, returning the
// table and the position of its word (a zero Pos when it was left out).
func (p *parser) table(clauses []string) (engine.Table, Pos, error) {
	t := p.peek()
	if t.kind != tokWord || slices.Contains(clauseWords, t.text) {
		return engine.TableConntrack, Pos{}, nil
	}
	if tb, ok := engine.ParseTable(t.text); ok {
		p.i++
		return tb, p.src.pos(t.off), nil
	}
	return 0, Pos{}, p.errAt(t, "unknown table `%s`%s", t.text, didYouMean(t.text, engine.TableNames, clauses))
}

// clause reads the word that starts the next clause of a statement whose
// clauses are allowed; ok is false at the end of the statement.
func (p *parser) clause(stmt string, allowed []string, seen map[string]bool) (t token, ok bool, err error) {
	t = p.peek()
	if atEnd(t) {
		return t, false, nil
	}
	if t.kind == tokWord && slices.Contains(allowed, t.text) {
		if seen[t.text] {
			return t, false, p.errAt(t, "duplicate `%s` clause", t.text)
		}
		seen[t.text] = true
		p.i++
		return t, true, nil
	}
	if t.kind == tokWord && slices.Contains(clauseWords, t.text) {
		return t, false, p.errAt(t, "`%s` does not belong in a `%s` statement", t.text, stmt)
	}
	hint := ""
	if t.kind == tokWord {
		hint = didYouMean(t.text, allowed)
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = "`" + a + "`"
	}
	return t, false, p.errAt(t, "unexpected %s: expected %s or the end of the statement%s",
		describe(t), strings.Join(quoted, ", "), hint)
}

// expr collects the tokens of an expression that follows token after: up
// to the end of the statement, a clause word outside brackets, or (outside
// brackets) one of the punctuation marks or words in stops (a word that is
// called, like expr's count(...), does not stop it).
func (p *parser) expr(after token, stops ...string) (*Expr, error) {
	start := p.i
	depth := 0
loop:
	for ; ; p.i++ {
		t := p.at(p.i)
		if atEnd(t) {
			break
		}
		if t.end-p.at(start).off > MaxExprBytes {
			return nil, p.errAt(t, "expression longer than %d bytes", MaxExprBytes)
		}
		if depth == 0 && (p.keywordAt(p.i, clauseWords...) || t.kind == tokPunct && slices.Contains(stops, t.text) ||
			t.kind == tokWord && slices.Contains(stops, t.text) && !isPunct(p.at(p.i+1), "(")) {
			break
		}
		if t.kind == tokPunct {
			switch t.text {
			case "(", "[", "{":
				depth++
			case ")", "]", "}":
				if depth == 0 {
					break loop
				}
				depth--
			}
		}
	}
	if p.i == start {
		t := p.peek()
		return nil, p.errAt(t, "expected an expression after `%s`, found %s", after.text, describe(t))
	}
	first, last := p.toks[start], p.toks[p.i-1]
	return &Expr{Text: p.src.text[first.off:last.end], Pos: p.src.pos(first.off), src: p.src}, nil
}

// format parses the words of "as FORMAT": a word or a comma list of words.
func (p *parser) format(as token) ([]Word, error) {
	var out []Word
	after := as
	for {
		t := p.peek()
		if t.kind != tokWord {
			return nil, p.errAt(t, "expected a format name after `%s`, found %s", after.text, describe(t))
		}
		p.i++
		out = append(out, Word{Name: t.text, Pos: p.src.pos(t.off)})
		if !isPunct(p.peek(), ",") {
			return out, nil
		}
		after = p.next()
	}
}

// limit parses the number of "limit N".
func (p *parser) limit(kw token) (int, error) {
	t := p.peek()
	n, err := strconv.Atoi(t.text)
	if t.kind != tokNumber || err != nil {
		return 0, p.errAt(t, "`%s` needs a whole number, found %s", kw.text, describe(t))
	}
	p.i++
	return n, nil
}

// list parses "list [TABLE] [where EXPR] [order by EXPR [asc|desc], ...]
// [limit N] [as FORMAT]" (clauses in any order, each at most once).
func (p *parser) list(kw token) (Stmt, error) {
	clauses := p.grammar(kw.text).Clauses
	s := &ListStmt{node: p.node(kw), Limit: -1}
	var err error
	if s.Table, _, err = p.table(clauses); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for {
		t, ok, err := p.clause("list", clauses, seen)
		if err != nil || !ok {
			return s, err
		}
		switch t.text {
		case "where":
			s.Where, err = p.expr(t)
		case "order":
			s.Order, err = p.orderBy(t)
		case "limit":
			s.Limit, err = p.limit(t)
		case "as":
			s.As, err = p.format(t)
		case "zero":
			s.Zero, s.ZeroPos = true, p.src.pos(t.off)
		}
		if err != nil {
			return nil, err
		}
	}
}

// orderBy parses "by EXPR [asc|desc] {, EXPR [asc|desc]}" after "order".
func (p *parser) orderBy(order token) ([]OrderItem, error) {
	by := p.peek()
	if !p.keywordAt(p.i, "by") {
		return nil, p.errAt(by, "expected `by` after `order`, found %s", describe(by))
	}
	p.i++
	var out []OrderItem
	after := by
	for {
		e, err := p.expr(after, ",")
		if err != nil {
			return nil, err
		}
		item := OrderItem{Expr: e}
		if p.keywordAt(p.i, "asc", "desc") {
			item.Desc = p.next().text == "desc"
		}
		out = append(out, item)
		if !isPunct(p.peek(), ",") {
			return out, nil
		}
		after = p.next()
	}
}

// count parses "count [TABLE] [where EXPR] [by EXPR, ...]".
func (p *parser) count(kw token) (Stmt, error) {
	clauses := p.grammar(kw.text).Clauses
	s := &CountStmt{node: p.node(kw)}
	var err error
	if s.Table, _, err = p.table(clauses); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for {
		t, ok, err := p.clause("count", clauses, seen)
		if err != nil || !ok {
			return s, err
		}
		if t.text == "by" {
			s.By, err = p.exprList(t)
		} else {
			s.Where, err = p.expr(t)
		}
		if err != nil {
			return nil, err
		}
	}
}

// getFields are the tuple fields a get statement accepts.
var getFields = []string{"family", "proto", "src", "dst", "sport", "dport", "zone", "icmp_type", "icmp_code", "icmp_id", "id"}

// get parses "get [TABLE] {field: EXPR, ...} [as FORMAT]".
func (p *parser) get(kw token) (Stmt, error) {
	s := &GetStmt{node: p.node(kw)}
	after := kw
	if t := p.peek(); t.kind == tokWord {
		after = t
	}
	var err error
	if s.Table, s.TablePos, err = p.table(nil); err != nil {
		return nil, err
	}
	r, err := p.record(after, "get field", getFields)
	if err != nil {
		return nil, err
	}
	s.Fields = r.Fields
	t, ok, err := p.clause(kw.text, p.grammar(kw.text).Clauses, map[string]bool{})
	if err != nil || !ok {
		return s, err
	}
	if s.As, err = p.format(t); err != nil {
		return nil, err
	}
	return s, nil
}

// record parses "{field: EXPR, ...}" after token after, each field one of
// allowed and at most once; what names a field in errors ("get field").
func (p *parser) record(after token, what string, allowed []string) (Record, error) {
	open := p.peek()
	if !isPunct(open, "{") {
		return Record{}, p.errAt(open, "expected `{` after `%s`, found %s", after.text, describe(open))
	}
	p.i++
	r := Record{Pos: p.src.pos(open.off)}
	seen := map[string]bool{}
	for !isPunct(p.peek(), "}") {
		name := p.next()
		if name.kind != tokWord {
			return Record{}, p.errAt(name, "expected a field name, found %s", describe(name))
		}
		if !slices.Contains(allowed, name.text) {
			return Record{}, p.errAt(name, "unknown %s `%s`%s", what, name.text, didYouMean(name.text, allowed))
		}
		if seen[name.text] {
			return Record{}, p.errAt(name, "duplicate field `%s`", name.text)
		}
		seen[name.text] = true
		colon := p.next()
		if !isPunct(colon, ":") {
			return Record{}, p.errAt(colon, "expected `:` after `%s`, found %s", name.text, describe(colon))
		}
		v, err := p.expr(colon, ",", "}")
		if err != nil {
			return Record{}, err
		}
		r.Fields = append(r.Fields, Field{Name: name.text, Pos: p.src.pos(name.off), Value: v})
		sep := p.peek()
		switch {
		case isPunct(sep, ","):
			p.i++
		case !isPunct(sep, "}"):
			return Record{}, p.errAt(sep, "expected `,` or `}`, found %s", describe(sep))
		}
	}
	p.i++ // "}"
	return r, nil
}
