package lang

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"ctq/internal/quote"
)

// Pos is a position in a script: a byte offset and the 1-based line and
// column (columns count characters, not bytes).
type Pos struct {
	Offset int
	Line   int
	Col    int
}

// Error is a parse or compile error at a position of the script. Its text
// names the line and column and shows the source line with a caret under
// the fault.
type Error struct {
	// File names the sourced file the fault is in; empty for the script
	// given to CompileProgram (whose name the caller knows).
	File      string
	Line, Col int
	Msg       string
	// Src is the source line holding the fault, without its newline.
	Src string
	// Incomplete is set when the input ended inside an open bracket, string
	// or comment: more lines could complete it (an interactive shell then
	// asks for a continuation line instead of reporting the error).
	Incomplete bool
}

// Error renders "LINE:COL: MSG", then the source line and a caret under
// column COL, each indented by two spaces. Tabs of the source line are kept
// in the caret line so that the caret aligns. Of a long line only the part
// around the fault is shown, with "..." for what is left out. Control
// characters and other non-printable input are shown escaped (\x1b), in the
// message and the source line, so that none reaches the terminal raw.
func (e *Error) Error() string {
	head := fmt.Sprintf("%d:%d: %s", e.Line, e.Col, quote.Escape(e.Msg))
	if e.Src == "" {
		return head
	}
	// units are the source line's characters as shown, an escape wide as
	// its text, any other character one column.
	type unit struct {
		text  string
		width int
	}
	var units []unit
	for i := 0; i < len(e.Src); {
		r, w := utf8.DecodeRuneInString(e.Src[i:])
		u := unit{e.Src[i : i+w], 1}
		if esc := quote.Rune(r, w, e.Src[i]); esc != "" && r != '\t' {
			u = unit{esc, len(esc)}
		}
		units = append(units, u)
		i += w
	}
	col := max(e.Col-1, 0) // the fault's rune index
	from, to := 0, len(units)
	if to > srcWindow {
		from = max(0, min(col-srcWindow*2/3, to-srcWindow))
		to = min(to, from+srcWindow)
	}
	var b, caret strings.Builder
	b.WriteString(head)
	b.WriteString("\n  ")
	caret.WriteString("\n  ")
	if from > 0 {
		b.WriteString("...")
		caret.WriteString("   ")
	}
	for i, u := range units[from:to] {
		b.WriteString(u.text)
		if from+i >= col {
			continue
		}
		if u.text == "\t" {
			caret.WriteByte('\t')
		} else {
			caret.WriteString(strings.Repeat(" ", u.width))
		}
	}
	if to < len(units) {
		b.WriteString("...")
	}
	for n := max(from, to); n < col; n++ {
		caret.WriteByte(' ')
	}
	caret.WriteByte('^')
	b.WriteString(caret.String())
	return b.String()
}

// srcWindow is how many characters of a long source line an error shows.
const srcWindow = 100

// source is a script's text with the offsets of its line starts, to turn
// byte offsets into positions and errors.
type source struct {
	text  string
	lines []int // byte offset of the start of each line
}

func newSource(text string) *source {
	s := &source{text: text, lines: []int{0}}
	for i := 0; i < len(text); i++ {
		if text[i] == '\n' {
			s.lines = append(s.lines, i+1)
		}
	}
	return s
}

// pos converts a byte offset (clamped to the text) into a Pos.
func (s *source) pos(off int) Pos {
	off = max(0, min(off, len(s.text)))
	line := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
	start := s.lines[line]
	return Pos{Offset: off, Line: line + 1, Col: utf8.RuneCountInString(s.text[start:off]) + 1}
}

// line returns the text of line n (1-based) without its line ending
// ("\n" or "\r\n").
func (s *source) line(n int) string {
	if n < 1 || n > len(s.lines) {
		return ""
	}
	start := s.lines[n-1]
	if n == len(s.lines) {
		return s.text[start:]
	}
	return strings.TrimSuffix(s.text[start:s.lines[n]-1], "\r")
}

// errAt builds an Error at byte offset off.
func (s *source) errAt(off int, format string, args ...any) *Error {
	p := s.pos(off)
	return &Error{Line: p.Line, Col: p.Col, Msg: fmt.Sprintf(format, args...), Src: s.line(p.Line)}
}
