package lang

import (
	"fmt"
	"net"
	"net/netip"
	"time"

	"ctq/engine"
)

// ServeStmt is `serve "ADDR" [where EXPR] [by EXPR, ...] [every DURATION]
// [for DURATION] [sync ["CONF"]]` or `serve textfile "FILE" [where EXPR]
// [by EXPR, ...] [sync ["CONF"]]`.
type ServeStmt struct {
	node
	// Addr is the listen address (host:port); empty for textfile.
	Addr string
	// Textfile is the file of the one-shot form; empty for a server.
	Textfile string
	Where    *Expr   // nil without a where clause
	By       []*Expr // nil without a by clause
	For      time.Duration
	Every    time.Duration // zero without an every clause
	// Sync is true with a sync clause; SyncConfig is its configuration
	// path (empty: the default).
	Sync       bool
	SyncConfig string
}

// Keyword is "serve".
func (*ServeStmt) Keyword() string { return "serve" }

// ServeStep is a compiled serve statement.
type ServeStep struct {
	At Site
	// Addr is where the /metrics endpoint listens; empty for Textfile.
	Addr string
	// Textfile, when set, is the file the metrics are written to once, in
	// node_exporter's textfile format.
	Textfile string
	// For bounds how long the server runs (zero: until interrupted).
	For time.Duration
	// Resync is the interval of the full dumps that correct the per-state
	// counts (every DURATION; zero: the server's default).
	Resync time.Duration
	// Series is the user's own series: a count statement over the
	// conntrack table with the serve statement's where and by clauses (its
	// Columns name the by keys), nil without them.
	Series *PlanStep
	// Sync adds the counters of the sync node of SyncConfig (empty: the
	// default configuration), asked over its control socket at each
	// scrape.
	Sync       bool
	SyncConfig string
}

// Where is the site of the step.
func (s *ServeStep) Where() Site { return s.At }

// serve parses the serve statement.
func (p *parser) serve(kw token) (Stmt, error) {
	g := p.grammar(kw.text)
	clauses := g.Clauses
	s := &ServeStmt{node: p.node(kw)}
	textfile := p.keywordAt(p.i, g.Words...)
	if textfile {
		p.i++
		clauses = clauses[:3]
	}
	t := p.peek()
	what := "a listen address (\"127.0.0.1:9100\")"
	if textfile {
		what = "a file name"
	}
	if t.kind != tokString {
		return nil, p.errAt(t, "expected %s in quotes after `%s`, found %s", what, p.at(p.i-1).text, describe(t))
	}
	v, err := p.unquote(t)
	if err != nil {
		return nil, err
	}
	if v == "" {
		return nil, p.errAt(t, "`serve` needs %s, not an empty string", what)
	}
	if !textfile {
		if msg := checkListenAddr(v); msg != "" {
			return nil, p.errAt(t, "%s", msg)
		}
	}
	p.i++
	if textfile {
		s.Textfile = v
	} else {
		s.Addr = v
	}
	seen := map[string]bool{}
	for {
		t, ok, err := p.clause("serve", clauses, seen)
		if err != nil || !ok {
			return s, err
		}
		switch t.text {
		case "where":
			s.Where, err = p.expr(t)
		case "by":
			s.By, err = p.exprList(t)
		case "for":
			s.For, err = p.duration(t)
		case "every":
			s.Every, err = p.duration(t)
		case "sync":
			s.Sync = true
			if c := p.peek(); c.kind == tokString {
				if s.SyncConfig, err = p.unquote(c); err == nil && s.SyncConfig == "" {
					err = p.errAt(c, "`sync` needs a configuration path, not an empty string (leave it out for the default)")
				}
				p.i++
			}
		}
		if err != nil {
			return nil, err
		}
	}
}

// serveStep compiles a serve statement; its where and by clauses compile
// as "count where EXPR by EXPR, ...".
func (c *compiler) serveStep(s *ServeStmt, at Site) (*ServeStep, error) {
	step := &ServeStep{At: at, Addr: s.Addr, Textfile: s.Textfile, For: s.For, Resync: s.Every,
		Sync: s.Sync, SyncConfig: s.SyncConfig}
	if s.Where == nil && s.By == nil {
		return step, nil
	}
	count := &CountStmt{node: s.node, Table: engine.TableConntrack, Where: s.Where, By: s.By}
	ps, err := c.planStep(count, at)
	if err != nil {
		return nil, err
	}
	ps.Keyword = "serve"
	step.Series = ps
	return step, nil
}

// checkListenAddr returns why addr is not a literal IP address and port to
// listen on, or "". Host names are refused (they would be resolved when the
// server starts, to whatever the resolver says then), and so is a missing
// host, which would listen on every address without saying so.
func checkListenAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	switch {
	case err != nil:
		return fmt.Sprintf("`serve` needs an IP address and a port (\"127.0.0.1:9466\", \"[::1]:9466\"), not %q", addr)
	case host == "":
		return fmt.Sprintf("`serve` needs an address before the port: \"127.0.0.1:%s\" for this host only, \"0.0.0.0:%s\" or \"[::]:%s\" for every address", port, port, port)
	}
	if _, err := netip.ParseAddr(host); err != nil {
		return fmt.Sprintf("`serve` needs a literal IP address, not %q (names are not resolved)", host)
	}
	if _, err := netip.ParseAddrPort(addr); err != nil {
		return fmt.Sprintf("`serve`: invalid port %q (0 to 65535)", port)
	}
	return ""
}
