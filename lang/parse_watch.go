package lang

import (
	"slices"
	"strings"
	"time"

	"ctq/engine"
)

// watch parses "watch [TABLE] [EVENTS] [where EXPR] [count [by KEYS]
// every DURATION] [for DURATION] [limit N] [reliable] [as FORMAT]"; EVENTS
// is a comma list of new, update and destroy.
func (p *parser) watch(kw token) (Stmt, error) {
	clauses := p.grammar(kw.text).Clauses
	s := &WatchStmt{node: p.node(kw), Limit: -1}
	if t := p.peek(); t.kind == tokWord {
		if tb, ok := engine.ParseTable(t.text); ok {
			s.Table, s.TablePos = tb, p.src.pos(t.off)
			p.i++
		}
	}
	if t := p.peek(); t.kind == tokWord && !slices.Contains(clauseWords, t.text) && !slices.Contains(clauses, t.text) {
		var err error
		if s.Events, err = p.events(s.TablePos.Line == 0, clauses); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	var countAt token
	for {
		t, ok, err := p.clause("watch", clauses, seen)
		if err != nil {
			return nil, err
		}
		if !ok {
			if seen["count"] && s.Every == 0 {
				return nil, p.errAt(countAt, "`count` in a watch needs `every DURATION` (e.g. `watch new count by dport every 1s`)")
			}
			return s, nil
		}
		switch t.text {
		case "where":
			s.Where, err = p.expr(t, "count")
		case "count":
			countAt = t
			if b := p.peek(); b.kind == tokWord && b.text == "by" {
				p.i++
				s.By, err = p.exprList(b)
			}
		case "every":
			s.Every, err = p.duration(t)
		case "for":
			s.For, err = p.duration(t)
		case "limit":
			s.Limit, err = p.limit(t)
		case "reliable":
			s.Reliable = true
		case "as":
			s.As, err = p.format(t)
		}
		if err != nil {
			return nil, err
		}
	}
}

// events parses a comma list of event words. orTable says whether a table
// word could still have stood there (for the error message).
func (p *parser) events(orTable bool, clauses []string) (engine.EventMask, error) {
	var mask engine.EventMask
	for {
		t := p.peek()
		ev, ok := eventTypes[t.text]
		switch {
		case t.kind != tokWord || slices.Contains(clauseWords, t.text):
			return 0, p.errAt(t, "expected an event (new, update, destroy) after `,`, found %s", describe(t))
		case !ok && orTable:
			return 0, p.errAt(t, "unknown table or event `%s`%s", t.text, didYouMean(t.text, engine.TableNames, eventNames, clauses))
		case !ok:
			return 0, p.errAt(t, "unknown event `%s`%s (events: %s)", t.text, didYouMean(t.text, eventNames, clauses), strings.Join(eventNames, ", "))
		case mask&ev != 0:
			return 0, p.errAt(t, "duplicate event `%s`", t.text)
		}
		mask |= ev
		p.i++
		if !isPunct(p.peek(), ",") {
			return mask, nil
		}
		p.i++
	}
}

// duration parses the DURATION of "for DURATION": Go's duration syntax
// (20s, 5m, 1h30m), bare or quoted; it must be positive.
func (p *parser) duration(kw token) (time.Duration, error) {
	t := p.peek()
	text := t.text
	switch t.kind {
	case tokNumber:
	case tokString:
		var err error
		if text, err = p.unquote(t); err != nil {
			return 0, err
		}
	default:
		return 0, p.errAt(t, "`%s` needs a duration (e.g. 20s, 5m, 1h30m), found %s", kw.text, describe(t))
	}
	d, err := time.ParseDuration(text)
	if err != nil {
		return 0, p.errAt(t, "invalid duration %s (write e.g. 20s, 5m, 1h30m)", describe(t))
	}
	if d <= 0 {
		return 0, p.errAt(t, "the duration of `%s` must be positive", kw.text)
	}
	p.i++
	return d, nil
}
