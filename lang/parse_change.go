package lang

import (
	"errors"
	"slices"

	"github.com/expr-lang/expr/file"
	exprlexer "github.com/expr-lang/expr/parser/lexer"

	"ctq/engine"
)

// delete parses "delete [TABLE] [where EXPR] [dry]" (the where clause is
// required, but by the compiler, which says what to do instead).
func (p *parser) delete(kw token) (Stmt, error) {
	clauses := p.grammar(kw.text).Clauses
	s := &DeleteStmt{node: p.node(kw)}
	var err error
	if s.Table, s.TablePos, err = p.table(clauses); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for {
		t, ok, err := p.clause("delete", clauses, seen)
		if err != nil || !ok {
			return s, err
		}
		switch t.text {
		case "where":
			if s.Where, err = p.expr(t); err != nil {
				return nil, err
			}
		case "dry":
			s.Dry = true
		case "as":
			if s.As, err = p.format(t); err != nil {
				return nil, err
			}
		}
	}
}

// settableFields are the fields an update's set clause may change.
var settableFields = []string{"mark", "timeout", "labels", "status", "state"}

// update parses "update [TABLE] set FIELD = EXPR[, ...] [where EXPR] [dry]"
// (clauses in any order; set and where are required by the compiler).
func (p *parser) update(kw token) (Stmt, error) {
	clauses := p.grammar(kw.text).Clauses
	s := &UpdateStmt{node: p.node(kw)}
	var err error
	if s.Table, s.TablePos, err = p.table(clauses); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for {
		t, ok, err := p.clause("update", clauses, seen)
		if err != nil || !ok {
			return s, err
		}
		switch t.text {
		case "set":
			s.Set, err = p.assignments(t)
		case "where":
			s.Where, err = p.expr(t)
		case "dry":
			s.Dry = true
		case "as":
			s.As, err = p.format(t)
		}
		if err != nil {
			return nil, err
		}
	}
}

// assignments parses "FIELD OP EXPR {, FIELD OP EXPR}" after "set"; OP is
// =, += or -=. Each field and operator goes at most once.
func (p *parser) assignments(set token) ([]Assign, error) {
	var out []Assign
	seen := map[string]bool{}
	after := set
	for {
		name := p.peek()
		if name.kind != tokWord || p.keywordAt(p.i, clauseWords...) {
			return nil, p.errAt(name, "expected a field name after `%s`, found %s", after.text, describe(name))
		}
		if !slices.Contains(settableFields, name.text) {
			if slices.Contains(flowFields, name.text) {
				return nil, p.errAt(name, "`%s` cannot be changed (update sets mark, timeout, labels, status and state)", name.text)
			}
			return nil, p.errAt(name, "unknown field `%s`%s (update sets mark, timeout, labels, status and state)",
				name.text, didYouMean(name.text, settableFields))
		}
		p.i++
		op, err := p.assignOp(name)
		if err != nil {
			return nil, err
		}
		if seen[name.text+op.text] {
			return nil, p.errAt(name, "duplicate `%s %s` in `set`", name.text, op.text)
		}
		seen[name.text+op.text] = true
		v, err := p.expr(op, ",")
		if err != nil {
			return nil, err
		}
		out = append(out, Assign{Field: name.text, Pos: p.src.pos(name.off), Op: op.text, Value: v})
		if !isPunct(p.peek(), ",") {
			return out, nil
		}
		after = p.next()
	}
}

// assignOp reads the operator after the field name of an assignment: =,
// += or -= (each "+"/"-" and "=" are two adjacent tokens). It returns the
// operator as one token.
func (p *parser) assignOp(name token) (token, error) {
	t, n := p.peek(), p.at(p.i+1)
	joined := isPunct(n, "=") && n.off == t.end
	switch {
	case isPunct(t, "=") && joined:
		return t, p.errAt(t, "expected `=` after `%s`, found `==` (`set` assigns: `%s = ...`)", name.text, name.text)
	case isPunct(t, "="):
		p.i++
		return t, nil
	case (isPunct(t, "+") || isPunct(t, "-")) && joined:
		p.i += 2
		return token{kind: tokPunct, text: t.text + "=", off: t.off, end: n.end}, nil
	}
	return t, p.errAt(t, "expected `=`, `+=` or `-=` after `%s`, found %s", name.text, describe(t))
}

// insertFields are the fields of an inserted conntrack entry.
var insertFields = []string{
	"family", "proto", "src", "dst", "sport", "dport", "icmp_type", "icmp_code", "icmp_id",
	"reply_src", "reply_dst", "reply_sport", "reply_dport", "timeout", "state", "status",
	"mark", "zone", "orig_zone", "reply_zone", "labels", "orig_vtag", "reply_vtag",
}

// expectInsertFields are the fields of an inserted expectation.
var expectInsertFields = []string{
	"family", "proto", "src", "dst", "sport", "dport",
	"mask_src", "mask_dst", "mask_sport", "mask_dport",
	"master_proto", "master_src", "master_dst", "master_sport", "master_dport",
	"timeout", "helper", "zone", "flags", "class", "nat_dir", "nat_src", "nat_sport",
}

// insert parses "insert [TABLE] [if absent] {field: EXPR, ...}" or
// "insert [TABLE] [if absent] [{...}, {...}]" (a trailing comma is
// allowed).
func (p *parser) insert(kw token) (Stmt, error) {
	s := &InsertStmt{node: p.node(kw)}
	after := kw
	if t := p.peek(); t.kind == tokWord {
		after = t
	}
	var err error
	if !p.keywordAt(p.i, "if") {
		if s.Table, s.TablePos, err = p.table(nil); err != nil {
			return nil, err
		}
	}
	if p.keywordAt(p.i, "if") {
		s.IfAbsent, s.IfPos = true, p.src.pos(p.peek().off)
		p.i++
		if t := p.peek(); t.kind != tokWord || t.text != "absent" {
			return nil, p.errAt(t, "expected `absent` after `if`, found %s", describe(t))
		}
		after = p.next()
	}
	what, fields := "insert field", insertFields
	if s.Table == engine.TableExpect {
		what, fields = "expectation field", expectInsertFields
	}
	if !isPunct(p.peek(), "[") {
		r, err := p.record(after, what, fields)
		if err != nil {
			return nil, err
		}
		s.Records = []Record{r}
		return s, nil
	}
	after = p.next() // "["
	for {
		r, err := p.record(after, what, fields)
		if err != nil {
			return nil, err
		}
		s.Records = append(s.Records, r)
		sep := p.next()
		switch {
		case isPunct(sep, "]"):
			return s, nil
		case !isPunct(sep, ","):
			return nil, p.errAt(sep, "expected `,` or `]`, found %s", describe(sep))
		}
		if isPunct(p.peek(), "]") {
			p.i++
			return s, nil
		}
		after = sep
	}
}

// familyWords are the words of flush's family filter.
var familyWords = []string{"ipv4", "ipv6"}

// flush parses "flush [TABLE] [ipv4|ipv6]".
func (p *parser) flush(kw token) (Stmt, error) {
	s := &FlushStmt{node: p.node(kw)}
	if t := p.peek(); t.kind == tokWord && !slices.Contains(familyWords, t.text) {
		var err error
		if s.Table, s.TablePos, err = p.table(familyWords); err != nil {
			return nil, err
		}
	}
	if t := p.peek(); t.kind == tokWord && slices.Contains(familyWords, t.text) {
		s.Family = engine.FamilyNum(t.text)
		p.i++
	}
	t := p.peek()
	switch {
	case atEnd(t):
		return s, nil
	case p.keywordAt(p.i, "where"):
		return nil, p.errAt(t, "`flush` empties a whole table: to remove some entries write `delete where ...`")
	}
	return nil, p.errAt(t, "unexpected %s: expected `ipv4`, `ipv6` or the end of the statement", describe(t))
}

// load parses `load "FILE"` or "load -".
func (p *parser) load(kw token) (Stmt, error) {
	s := &LoadStmt{node: p.node(kw)}
	t := p.peek()
	switch {
	case t.kind == tokString:
		path, err := p.unquote(t)
		if err != nil {
			return nil, err
		}
		if path == "" {
			return nil, p.errAt(t, "`load` needs a file name, not an empty string")
		}
		s.Path = path
	case isPunct(t, "-"):
		s.Path = "-"
	default:
		return nil, p.errAt(t, "expected a file name in quotes, or `-` for standard input, after `load`, found %s", describe(t))
	}
	p.i++
	return s, nil
}

// unquote returns the value of a string token, with expr's escapes.
func (p *parser) unquote(t token) (string, error) {
	toks, err := exprlexer.Lex(file.NewSource(t.text))
	if err != nil {
		msg := err.Error()
		var fe *file.Error
		if errors.As(err, &fe) {
			msg = fe.Message
		}
		return "", p.errAt(t, "%s", msg)
	}
	if len(toks) == 0 || toks[0].Kind != exprlexer.String {
		return "", p.errAt(t, "expected a string, found %s", describe(t))
	}
	return toks[0].Value, nil
}
