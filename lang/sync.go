package lang

import (
	"strings"

	"ctq/sync/verb"
)

// SyncStmt is `sync ACTION ["PATH"]`: ACTION is a statement verb of
// package verb with one of its arguments (run, start, stop, status,
// commit [conntrack|expect], flush [internal|external|kernel [conntrack|
// expect]], resync, refresh [conntrack|expect], bulk, purge, dump internal
// [expect] or dump external [expect]).
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

// syncStmt parses `sync ACTION ["PATH"]`: a statement verb of package
// verb, then the words of one of its arguments.
func (p *parser) syncStmt(kw token) (Stmt, error) {
	s := &SyncStmt{node: p.node(kw)}
	names := verb.Names(verb.Statement)
	t := p.peek()
	if t.kind != tokWord || !p.keywordAt(p.i, names...) {
		return nil, p.errAt(t, "expected a sync action (%s) after `sync`, found %s%s",
			strings.Join(verb.Actions(verb.Statement), ", "), describe(t), hintWord(t, names))
	}
	p.i++
	v, _ := verb.Lookup(t.text, verb.Statement)
	s.Action = v.Name
	arg := "" // the argument words so far
	for {
		next, done := v.Next(arg)
		c := p.peek()
		if len(next) == 0 || done && c.kind != tokWord {
			break
		}
		if !p.keywordAt(p.i, next...) {
			return nil, p.errAt(c, "expected %s after `sync %s`, found %s%s",
				syncExpected(next, done), s.Action, describe(c), hintWord(c, next))
		}
		p.i++
		s.Action += " " + c.text
		arg = strings.TrimPrefix(s.Action, v.Name+" ")
	}
	c := p.peek()
	if atEnd(c) {
		return s, nil
	}
	if c.kind != tokString {
		return nil, p.errAt(c, "expected the configuration path in quotes or the end of `sync %s`, found %s", s.Action, describe(c))
	}
	path, err := p.unquote(c)
	if err != nil {
		return nil, err
	}
	if path == "" {
		return nil, p.errAt(c, "`sync %s` needs a configuration path, not an empty string (leave it out for the default)", s.Action)
	}
	p.i++
	s.Config = path
	return s, nil
}

// syncExpected names the words that may come next in a sync action for an
// error message; done says the action may also end there.
func syncExpected(words []string, done bool) string {
	q := make([]string, len(words))
	for i, w := range words {
		q[i] = "`" + w + "`"
	}
	if done {
		return strings.Join(append(q, "a configuration path in quotes or the end"), ", ")
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// hintWord is a did-you-mean for a word token, "" otherwise.
func hintWord(t token, words []string) string {
	if t.kind != tokWord {
		return ""
	}
	return didYouMean(t.text, words)
}

// syncStep compiles a sync statement.
func (c *compiler) syncStep(s *SyncStmt, at Site) *SyncStep {
	return &SyncStep{At: at, Action: s.Action, Config: s.Config}
}
