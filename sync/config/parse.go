package config

import (
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// ParseFile reads and parses a conntrackd.conf.
func ParseFile(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses the text of a conntrackd.conf; file names it in messages.
// The error, if any, is an *Error.
func Parse(file string, data []byte) (*Config, error) {
	p := &parser{cfg: defaults(file), toks: lex(data)}
	if err := p.file(); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	return p.cfg, nil
}

// parser walks the tokens of one file.
type parser struct {
	cfg  *Config
	toks []token
	pos  int
}

// errf is an *Error at a line.
func (p *parser) errf(line int, format string, args ...any) error {
	return &Error{File: p.cfg.File, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// warnf records a warning at a line.
func (p *parser) warnf(line int, format string, args ...any) {
	p.cfg.Warnings = append(p.cfg.Warnings, Warning{File: p.cfg.File, Line: line, Msg: fmt.Sprintf(format, args...)})
}

// lastLine is the line of the last token, for faults at the end of file.
func (p *parser) lastLine() int {
	if len(p.toks) == 0 {
		return 1
	}
	return p.toks[len(p.toks)-1].line
}

// next returns the next token; ok is false at the end of the file.
func (p *parser) next() (token, bool) {
	if p.pos >= len(p.toks) {
		return token{line: p.lastLine()}, false
	}
	t := p.toks[p.pos]
	p.pos++
	return t, true
}

// peek returns the next token without consuming it.
func (p *parser) peek() (token, bool) {
	if p.pos >= len(p.toks) {
		return token{line: p.lastLine()}, false
	}
	return p.toks[p.pos], true
}

// value reads the value of key: a word that is not a brace.
func (p *parser) value(key token) (token, error) {
	t, ok := p.next()
	if !ok || t.text == "{" || t.text == "}" {
		return t, p.errf(key.line, "%s: missing value", key.text)
	}
	return t, nil
}

// open reads the '{' that opens the block of key.
func (p *parser) open(key token) error {
	t, ok := p.next()
	if !ok || t.text != "{" {
		return p.errf(t.line, "%s: want '{', found %s", key.text, describe(t, ok))
	}
	return nil
}

// describe names a token in messages.
func describe(t token, ok bool) string {
	if !ok {
		return "end of file"
	}
	return strconv.Quote(t.text)
}

// block reads the items of a block up to its closing '}', calling item for
// each key; section names the block in messages.
func (p *parser) block(section string, opened int, item func(key token) error) error {
	for {
		t, ok := p.next()
		if !ok {
			return p.errf(opened, "section %s: missing '}'", section)
		}
		if t.text == "}" {
			return nil
		}
		if t.text == "{" {
			return p.errf(t.line, "unexpected '{' in section %s", section)
		}
		if err := item(t); err != nil {
			return err
		}
	}
}

// unknown is the fault for a key a section does not have.
func (p *parser) unknown(key token, section string) error {
	return p.errf(key.line, "unknown key %q in section %s", key.text, section)
}

// skip reads a block of a section ctq does not implement, braces balanced.
func (p *parser) skip(section string, opened int) error {
	depth := 1
	for depth > 0 {
		t, ok := p.next()
		if !ok {
			return p.errf(opened, "section %s: missing '}'", section)
		}
		switch t.text {
		case "{":
			depth++
		case "}":
			depth--
		}
	}
	return nil
}

// number reads a non-negative decimal number (conntrackd's [0-9]+).
func (p *parser) number(key token) (int, error) {
	t, err := p.value(key)
	if err != nil {
		return 0, err
	}
	if !isDigits(t.text) {
		return 0, p.errf(t.line, "%s: bad value %q: want a non-negative integer", key.text, t.text)
	}
	n, err := strconv.ParseUint(t.text, 10, 64)
	if err != nil || n > maxNumber {
		return 0, p.errf(t.line, "%s: value %s out of range (0..%d)", key.text, t.text, maxNumber)
	}
	return int(n), nil
}

// numberOr reads a number; 0 keeps def, as conntrackd treats 0 as unset.
func (p *parser) numberOr(key token, def int) (int, error) {
	n, err := p.number(key)
	if err != nil || n == 0 {
		return def, err
	}
	return n, nil
}

// seconds reads a number of seconds; 0 keeps def.
func (p *parser) seconds(key token, def time.Duration) (time.Duration, error) {
	n, err := p.number(key)
	if err != nil || n == 0 {
		return def, err
	}
	return time.Duration(n) * time.Second, nil
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// boolWord parses on/off/yes/no in any letter case.
func boolWord(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "on", "yes":
		return true, true
	case "off", "no":
		return false, true
	}
	return false, false
}

// boolean reads on/off/yes/no.
func (p *parser) boolean(key token) (bool, error) {
	t, err := p.value(key)
	if err != nil {
		return false, err
	}
	v, ok := boolWord(t.text)
	if !ok {
		return false, p.errf(t.line, "%s: bad value %q: want on or off", key.text, t.text)
	}
	return v, nil
}

// path reads an absolute path, as conntrackd's lexer demands.
func (p *parser) path(key token) (string, error) {
	t, err := p.value(key)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(t.text, "/") {
		return "", p.errf(t.line, "%s: bad value %q: want an absolute path", key.text, t.text)
	}
	return t.text, nil
}

// addrPort reads a literal IP address and port ("127.0.0.1:9101",
// "[::1]:9101").
func (p *parser) addrPort(key token) (string, error) {
	t, err := p.value(key)
	if err != nil {
		return "", err
	}
	if _, err := netip.ParseAddrPort(t.text); err != nil {
		return "", p.errf(t.line, "%s: bad value %q: want an IP address and port (127.0.0.1:9101, [::1]:9101)", key.text, t.text)
	}
	return t.text, nil
}

// addr reads an address of one family (v6 false: IPv4).
func (p *parser) addr(key token, v6 bool) (netip.Addr, error) {
	t, err := p.value(key)
	if err != nil {
		return netip.Addr{}, err
	}
	a, err := netip.ParseAddr(t.text)
	if err != nil || a.Is6() != v6 || a.Zone() != "" {
		fam := "IPv4"
		if v6 {
			fam = "IPv6"
		}
		return netip.Addr{}, p.errf(t.line, "%s: bad value %q: want an %s address", key.text, t.text, fam)
	}
	return a, nil
}

// file reads the top level: General, Sync, Stats and Helper sections.
func (p *parser) file() error {
	for {
		t, ok := p.next()
		if !ok {
			return nil
		}
		switch t.text {
		case "General":
			if err := p.open(t); err != nil {
				return err
			}
			if err := p.general(t.line); err != nil {
				return err
			}
		case "Sync":
			if err := p.open(t); err != nil {
				return err
			}
			p.cfg.HasSync = true
			if err := p.sync(t.line); err != nil {
				return err
			}
		case "Stats", "Helper":
			if err := p.open(t); err != nil {
				return err
			}
			if t.text == "Stats" {
				p.cfg.StatsLine = t.line // sync run says what to use instead
				if err := p.stats(t.line); err != nil {
					return err
				}
				continue
			}
			p.warnf(t.line, "section %s is not implemented by ctq, ignored", t.text)
			if err := p.skip(t.text, t.line); err != nil {
				return err
			}
		case "{", "}":
			return p.errf(t.line, "unexpected %q at top level", t.text)
		default:
			return p.errf(t.line, "unknown key %q in section top level", t.text)
		}
	}
}

// check applies conntrackd's whole-file rules.
func (p *parser) check() error {
	if p.cfg.StatsLine > 0 && p.cfg.HasSync {
		return p.errf(p.cfg.StatsLine, "cannot use both Stats and Sync sections")
	}
	return nil
}
