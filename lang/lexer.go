package lang

import (
	"unicode"
	"unicode/utf8"
)

// Limits on what the parser accepts, far above real scripts; they keep
// hostile or generated input from exhausting the stack or the memory of
// the parser and of expr, which parse recursively.
const (
	// MaxNesting is how deep brackets (and if blocks) may nest.
	MaxNesting = 256
	// MaxExprBytes is the longest expression (a condition or a value).
	MaxExprBytes = 64 << 10
	// MaxScriptBytes is the longest script or sourced file.
	MaxScriptBytes = 4 << 20
)

// tokKind is the kind of a statement-level token.
type tokKind uint8

const (
	tokEOF    tokKind = iota // end of the script
	tokEnd                   // end of a statement: ";" or a newline outside brackets
	tokWord                  // identifier or keyword
	tokNumber                // number literal
	tokString                // string literal, quotes included
	tokPunct                 // any other character (operators, brackets, ",", ":")
)

// token is one lexeme; text is the source slice [off, end).
type token struct {
	kind     tokKind
	text     string
	off, end int
}

// lexer splits a script into tokens. It knows just enough of expr's lexical
// syntax (strings, comments, brackets) to find where statements end: a ";"
// or a newline ends a statement only outside strings and brackets. "#"
// starts a comment outside brackets (inside them it is expr's closure
// pointer); expr's own "//" and "/* */" comments are skipped anywhere.
// The "{" of an if block (markBlock) counts as the top level for all this.
type lexer struct {
	src     *source
	text    string
	i       int
	open    []token // unclosed brackets, innermost last
	blocks  []bool  // blocks[i]: open[i] is a block's "{" (see markBlock)
	lastEnd bool    // the last token returned was tokEnd
}

// markBlock makes the innermost open bracket (the "{" the parser just
// read) a statement block: inside it, as at the top level, newlines and
// ";" end statements and "#" starts a comment.
func (l *lexer) markBlock() {
	if n := len(l.blocks); n > 0 {
		l.blocks[n-1] = true
	}
}

// atTop reports whether the lexer is outside any bracket but blocks.
func (l *lexer) atTop() bool {
	n := len(l.blocks)
	return n == 0 || l.blocks[n-1]
}

// token returns the next token; consecutive statement ends come out as
// one. At the end of the script it reports a bracket left open.
func (l *lexer) token() (token, error) {
	for {
		t, err := l.next()
		if err != nil {
			return token{}, err
		}
		if t.kind == tokEOF && len(l.open) > 0 {
			b := l.open[len(l.open)-1]
			e := l.src.errAt(b.off, "unclosed `%s`", b.text)
			e.Incomplete = true
			return token{}, e
		}
		if t.kind == tokEnd && l.lastEnd {
			continue
		}
		l.lastEnd = t.kind == tokEnd
		return t, nil
	}
}

func (l *lexer) tok(kind tokKind, off int) token {
	return token{kind: kind, text: l.text[off:l.i], off: off, end: l.i}
}

// next returns the next token, skipping spaces and comments.
func (l *lexer) next() (token, error) {
	for l.i < len(l.text) {
		off := l.i
		r, w := utf8.DecodeRuneInString(l.text[l.i:])
		switch {
		case r == '\n' || r == '\r' && l.peekAt(1) == '\n':
			l.i += w
			if r == '\r' {
				l.i++
			}
			if l.atTop() {
				return l.tok(tokEnd, off), nil
			}
		case r == ' ' || r == '\t' || r == '\r' || r == '\f' || r == '\v':
			l.i += w
		case r == '#' && l.atTop():
			l.skipLine()
		case r == '/' && l.peekAt(1) == '/':
			l.skipLine()
		case r == '/' && l.peekAt(1) == '*':
			if err := l.skipBlockComment(); err != nil {
				return token{}, err
			}
		case r == ';' && l.atTop():
			l.i += w
			return l.tok(tokEnd, off), nil
		case r == '"' || r == '\'':
			return l.quoted(r)
		case r == '`':
			return l.raw()
		case r >= '0' && r <= '9':
			l.number()
			return l.tok(tokNumber, off), nil
		case r == '_' || r == '$' || unicode.IsLetter(r):
			l.i += w
			l.alnum()
			return l.tok(tokWord, off), nil
		case r == '(' || r == '[' || r == '{':
			l.i += w
			t := l.tok(tokPunct, off)
			if len(l.open) >= MaxNesting {
				return token{}, l.src.errAt(off, "brackets nested more than %d deep", MaxNesting)
			}
			l.open = append(l.open, t)
			l.blocks = append(l.blocks, false)
			return t, nil
		case r == ')' || r == ']' || r == '}':
			l.i += w
			t := l.tok(tokPunct, off)
			if len(l.open) == 0 {
				return token{}, l.src.errAt(off, "unexpected `%s`", t.text)
			}
			b := l.open[len(l.open)-1]
			if closer(b.text) != t.text {
				return token{}, l.src.errAt(off, "unexpected `%s`: `%s` at %d:%d is still open",
					t.text, b.text, l.src.pos(b.off).Line, l.src.pos(b.off).Col)
			}
			l.open = l.open[:len(l.open)-1]
			l.blocks = l.blocks[:len(l.blocks)-1]
			return t, nil
		default:
			l.i += w
			return l.tok(tokPunct, off), nil
		}
	}
	return token{kind: tokEOF, off: len(l.text), end: len(l.text)}, nil
}

// closer is the closing bracket of an opening one.
func closer(open string) string {
	switch open {
	case "(":
		return ")"
	case "[":
		return "]"
	}
	return "}"
}

func (l *lexer) peekAt(n int) byte {
	if l.i+n < len(l.text) {
		return l.text[l.i+n]
	}
	return 0
}

// skipLine skips to the end of the line, leaving the newline ("\n" or
// "\r\n").
func (l *lexer) skipLine() {
	for l.i < len(l.text) && l.text[l.i] != '\n' && !(l.text[l.i] == '\r' && l.peekAt(1) == '\n') {
		l.i++
	}
}

func (l *lexer) skipBlockComment() error {
	off := l.i
	l.i += 2
	for l.i+1 < len(l.text) {
		if l.text[l.i] == '*' && l.text[l.i+1] == '/' {
			l.i += 2
			return nil
		}
		l.i++
	}
	l.i = len(l.text)
	e := l.src.errAt(off, "unclosed comment")
	e.Incomplete = true
	return e
}

// quoted scans a "..." or '...' string with backslash escapes; like expr,
// it must end on the line it starts.
func (l *lexer) quoted(q rune) (token, error) {
	off := l.i
	l.i++
	for l.i < len(l.text) {
		switch l.text[l.i] {
		case '\\':
			l.i += 2
			continue
		case '\n':
			return token{}, l.src.errAt(off, "unterminated string")
		case byte(q):
			l.i++
			return l.tok(tokString, off), nil
		}
		l.i++
	}
	l.i = len(l.text)
	return token{}, l.src.errAt(off, "unterminated string")
}

// raw scans a `...` string, which may span lines.
func (l *lexer) raw() (token, error) {
	off := l.i
	l.i++
	for l.i < len(l.text) {
		if l.text[l.i] == '`' {
			l.i++
			return l.tok(tokString, off), nil
		}
		l.i++
	}
	e := l.src.errAt(off, "unterminated string")
	e.Incomplete = true
	return token{}, e
}

// number scans a number literal loosely (digits, letters and "_" for hex,
// exponents and separators, one fractional part); expr checks the details.
func (l *lexer) number() {
	l.alnum()
	if l.peekAt(0) == '.' && l.peekAt(1) >= '0' && l.peekAt(1) <= '9' {
		l.i++
		l.alnum()
	}
}

// alnum skips letters, digits, "_" and "$" (as expr identifiers do).
func (l *lexer) alnum() {
	for l.i < len(l.text) {
		r, w := utf8.DecodeRuneInString(l.text[l.i:])
		if r != '_' && r != '$' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return
		}
		l.i += w
	}
}
