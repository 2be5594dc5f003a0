package lang

import "strings"

// SyncStmt is `sync ACTION ["PATH"]`: ACTION is run, start, stop, status,
// commit [conntrack|expect], flush [internal|external|kernel [conntrack|
// expect]], resync, refresh [conntrack|expect], bulk, purge, dump internal
// [expect] or dump external [expect].
type SyncStmt struct {
	node
	// Action is the action word with its arguments: the cache of dump
	// ("dump internal expect"), the target of flush ("flush kernel"), the
	// table of commit, refresh and flush kernel ("commit expect").
	Action string
	// Config is the configuration path; empty for the default.
	Config string
}

// Keyword is "sync".
func (*SyncStmt) Keyword() string { return "sync" }

// SyncActions are the actions of the sync statement, in help order.
var SyncActions = []string{
	"run", "start", "stop", "status", "commit", "commit conntrack", "commit expect",
	"flush", "flush internal", "flush external", "flush kernel", "flush kernel conntrack", "flush kernel expect",
	"resync", "refresh", "refresh conntrack", "refresh expect", "bulk", "purge", "dump internal", "dump external",
	"dump internal expect", "dump external expect",
}

// SyncStep is a compiled sync statement. run and start run a sync node
// (in the foreground, or in the background of the session); the other
// actions are requests to the running node over its control socket.
type SyncStep struct {
	At     Site
	Action string
	// Config is the configuration file; empty means the default, resolved
	// when the step runs.
	Config string
}

// Where is the site of the step.
func (s *SyncStep) Where() Site { return s.At }

// syncStmt parses `sync ACTION ["PATH"]`.
func (p *parser) syncStmt(kw token) (Stmt, error) {
	s := &SyncStmt{node: p.node(kw)}
	words := []string{"run", "start", "stop", "status", "commit", "flush", "resync", "refresh", "bulk", "purge", "dump"}
	t := p.peek()
	if t.kind != tokWord || !p.keywordAt(p.i, words...) {
		return nil, p.errAt(t, "expected a sync action (%s) after `sync`, found %s%s",
			syncActionList(), describe(t), hintWord(t, words))
	}
	p.i++
	s.Action = t.text
	if t.text == "dump" {
		c := p.peek()
		if c.kind != tokWord || (c.text != "internal" && c.text != "external") {
			return nil, p.errAt(c, "expected `internal` or `external` after `sync dump`, found %s%s",
				describe(c), hintWord(c, []string{"internal", "external"}))
		}
		p.i++
		s.Action += " " + c.text
		if e := p.peek(); e.kind == tokWord {
			if e.text != "expect" {
				return nil, p.errAt(e, "expected `expect`, a configuration path in quotes or the end after `sync %s`, found %s%s",
					s.Action, describe(e), hintWord(e, []string{"expect"}))
			}
			p.i++
			s.Action += " expect"
		}
	}
	if t.text == "flush" {
		if c := p.peek(); c.kind == tokWord {
			targets := []string{"internal", "external", "kernel"}
			if !p.keywordAt(p.i, targets...) {
				return nil, p.errAt(c, "expected `internal`, `external`, `kernel`, a configuration path in quotes or the end after `sync flush`, found %s%s",
					describe(c), hintWord(c, targets))
			}
			p.i++
			s.Action += " " + c.text
		}
	}
	if s.Action == "commit" || s.Action == "refresh" || s.Action == "flush kernel" {
		if c := p.peek(); c.kind == tokWord {
			tables := []string{"conntrack", "expect"}
			if !p.keywordAt(p.i, tables...) {
				return nil, p.errAt(c, "expected `conntrack`, `expect`, a configuration path in quotes or the end after `sync %s`, found %s%s",
					s.Action, describe(c), hintWord(c, tables))
			}
			p.i++
			s.Action += " " + c.text
		}
	}
	c := p.peek()
	if atEnd(c) {
		return s, nil
	}
	if c.kind != tokString {
		return nil, p.errAt(c, "expected the configuration path in quotes or the end of `sync %s`, found %s", s.Action, describe(c))
	}
	v, err := p.unquote(c)
	if err != nil {
		return nil, err
	}
	if v == "" {
		return nil, p.errAt(c, "`sync %s` needs a configuration path, not an empty string (leave it out for the default)", s.Action)
	}
	p.i++
	s.Config = v
	return s, nil
}

// hintWord is a did-you-mean for a word token, "" otherwise.
func hintWord(t token, words []string) string {
	if t.kind != tokWord {
		return ""
	}
	return didYouMean(t.text, words)
}

// syncActionList is the actions for an error message.
func syncActionList() string {
	return strings.Join(SyncActions, ", ")
}

// syncStep compiles a sync statement.
func (c *compiler) syncStep(s *SyncStmt, at Site) *SyncStep {
	return &SyncStep{At: at, Action: s.Action, Config: s.Config}
}
