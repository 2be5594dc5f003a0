package lang

import (
	"slices"
	"strings"

	"ctq/engine"
)

// aggStatements are the statements whose single result can be a value
// (let n = count where ...).
var aggStatements = []string{"count", "sum", "min", "max", "avg"}

// aggFuncs maps an aggregate statement keyword to its function.
var aggFuncs = map[string]engine.AggFunc{
	"sum": engine.AggSum, "min": engine.AggMin, "max": engine.AggMax, "avg": engine.AggAvg,
}

// settings are the names "set" takes.
var settings = []string{"output", "netns"}

// endOfStmt reports whether t ends the statement being parsed: the end of
// a line, ";", or the "}" of an enclosing block.
func (p *parser) endOfStmt(t token) bool {
	return atEnd(t) || p.blocks > 0 && isPunct(t, "}")
}

// exprList parses "EXPR {, EXPR}" after token after.
func (p *parser) exprList(after token) ([]*Expr, error) {
	var out []*Expr
	for {
		e, err := p.expr(after, ",")
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		if !isPunct(p.peek(), ",") {
			return out, nil
		}
		after = p.next()
	}
}

// let parses "let NAME = EXPR" or "let NAME = count|sum|min|max|avg ...".
func (p *parser) let(kw token) (Stmt, error) {
	s := &LetStmt{node: p.node(kw)}
	name := p.next()
	if name.kind != tokWord {
		return nil, p.errAt(name, "expected a variable name after `let`, found %s", describe(name))
	}
	s.Name, s.NamePos = name.text, p.src.pos(name.off)
	eq := p.next()
	if !isPunct(eq, "=") || isPunct(p.peek(), "=") && p.peek().off == eq.end {
		return nil, p.errAt(eq, "expected `=` after `let %s`, found %s", name.text, describe(eq))
	}
	if p.keywordAt(p.i, aggStatements...) && !isPunct(p.at(p.i+1), "(") {
		t := p.next()
		st, err := p.grammar(t.text).parse(p, t)
		if err != nil {
			return nil, err
		}
		s.Agg = st
		return s, nil
	}
	var err error
	s.Value, err = p.expr(eq)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// print parses "print EXPR".
func (p *parser) print(kw token) (Stmt, error) {
	e, err := p.expr(kw)
	if err != nil {
		return nil, err
	}
	return &PrintStmt{node: p.node(kw), Value: e}, nil
}

// exit parses "exit [EXPR]".
func (p *parser) exit(kw token) (Stmt, error) {
	s := &ExitStmt{node: p.node(kw)}
	if p.endOfStmt(p.peek()) {
		return s, nil
	}
	var err error
	s.Code, err = p.expr(kw)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// sourceFile parses `source "FILE"`.
func (p *parser) sourceFile(kw token) (Stmt, error) {
	t := p.peek()
	if t.kind != tokString {
		return nil, p.errAt(t, "expected a file name in quotes after `source`, found %s", describe(t))
	}
	path, err := p.unquote(t)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, p.errAt(t, "`source` needs a file name, not an empty string")
	}
	p.i++
	return &SourceStmt{node: p.node(kw), Path: path}, nil
}

// set parses "set output FORMAT" or "set netns NAME". The value is a
// quoted string or the rest of the statement as written (ns-1, extended,id).
func (p *parser) set(kw token) (Stmt, error) {
	name := p.next()
	if name.kind != tokWord || !slices.Contains(settings, name.text) {
		hint := ""
		if name.kind == tokWord {
			hint = didYouMean(name.text, settings)
		}
		return nil, p.errAt(name, "expected `output` or `netns` after `set`, found %s%s", describe(name), hint)
	}
	s := &SetStmt{node: p.node(kw), Name: name.text}
	first := p.peek()
	if p.endOfStmt(first) {
		return nil, p.errAt(first, "`set %s` needs a value, found %s", name.text, describe(first))
	}
	s.ValuePos = p.src.pos(first.off)
	if first.kind == tokString {
		v, err := p.unquote(first)
		if err != nil {
			return nil, err
		}
		p.i++
		s.Value = v
		return s, nil
	}
	last := first
	for !p.endOfStmt(p.peek()) {
		last = p.next()
	}
	s.Value = strings.TrimSpace(p.src.text[first.off:last.end])
	return s, nil
}

// ifStmt parses "if EXPR { ... } [else { ... } | else if ...]".
func (p *parser) ifStmt(kw token) (Stmt, error) {
	s := &IfStmt{node: p.node(kw)}
	var err error
	if s.Cond, err = p.expr(kw, "{"); err != nil {
		return nil, err
	}
	if s.Then, err = p.block(kw); err != nil {
		return nil, err
	}
	if !p.keywordAt(p.i, "else") {
		return s, nil
	}
	els := p.next()
	if p.keywordAt(p.i, "if") {
		inner, err := p.ifStmt(p.next())
		if err != nil {
			return nil, err
		}
		s.Else = []Stmt{inner}
		return s, nil
	}
	if s.Else, err = p.block(els); err != nil {
		return nil, err
	}
	return s, nil
}

// block parses "{ STMT ... }" after token after. The "{" is the last
// token lexed so far, so the lexer can still learn that it opens a block.
func (p *parser) block(after token) ([]Stmt, error) {
	open := p.peek()
	if !isPunct(open, "{") {
		return nil, p.errAt(open, "expected `{` after `%s`, found %s", after.text, describe(open))
	}
	p.i++
	p.lx.markBlock()
	p.blocks++
	defer func() { p.blocks-- }()
	var out []Stmt
	for {
		t := p.peek()
		switch {
		case t.kind == tokEnd:
			p.i++
			continue
		case isPunct(t, "}"):
			p.i++
			return out, nil
		case t.kind == tokEOF:
			return nil, p.errAt(open, "unclosed `{`")
		}
		st, err := p.stmt()
		if err != nil {
			return nil, err
		}
		out = append(out, st)
	}
}

// explain parses "explain STMT".
func (p *parser) explain(kw token) (Stmt, error) {
	t := p.next()
	g := p.grammar(t.text)
	if t.kind != tokWord || g == nil || !g.explain {
		var explainable []string
		for _, s := range p.stmts {
			if s.explain {
				explainable = append(explainable, s.Keyword)
			}
		}
		return nil, p.errAt(t, "`explain` takes a %s statement, found %s", strings.Join(explainable, ", "), describe(t))
	}
	st, err := g.parse(p, t)
	if err != nil {
		return nil, err
	}
	return &ExplainStmt{node: p.node(kw), Stmt: st}, nil
}

// top parses "top [TABLE] N EXPR [by EXPR] [where EXPR]".
func (p *parser) top(kw token) (Stmt, error) {
	clauses := p.grammar(kw.text).Clauses
	s := &TopStmt{node: p.node(kw)}
	var err error
	if p.peek().kind == tokWord && p.at(p.i+1).kind == tokNumber {
		if s.Table, _, err = p.table(clauses); err != nil {
			return nil, err
		}
	}
	if s.N, err = p.limit(kw); err != nil {
		return nil, err
	}
	if s.Key, err = p.expr(kw); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for {
		t, ok, err := p.clause("top", clauses, seen)
		if err != nil || !ok {
			return s, err
		}
		if t.text == "by" {
			s.By, err = p.expr(t)
		} else {
			s.Where, err = p.expr(t)
		}
		if err != nil {
			return nil, err
		}
	}
}

// agg parses "sum|min|max|avg EXPR [where EXPR] [by EXPR, ...]".
func (p *parser) agg(kw token) (Stmt, error) {
	clauses := p.grammar(kw.text).Clauses
	s := &AggStmt{node: p.node(kw), Func: aggFuncs[kw.text]}
	var err error
	if s.Value, err = p.expr(kw); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for {
		t, ok, err := p.clause(kw.text, clauses, seen)
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
