package savefmt

// Token is one word of a line, as Tokenize splits it.
type Token struct {
	// Text is the word with quotes removed and escapes resolved.
	Text string
	// Col is the 1-based byte column where the word starts in the line.
	Col int
	// Verbatim is set when Text is the line's bytes unchanged (no quote or
	// escape in the word), so that byte i of Text is at column Col+i.
	Verbatim bool
}

// Tokenize splits a line the way conntrack -R does: spaces, tabs and
// newlines separate words; a double quote opens a quoted part that runs to
// the next unescaped double quote, in which whitespace is kept and a
// backslash makes the next character literal. Quotes may start or end in
// the middle of a word ("a"b is the word ab) and are removed. An
// unterminated quote is an error (conntrack silently takes the rest of the
// line).
func Tokenize(line string) ([]Token, error) {
	var toks []Token
	var buf []byte
	for i := 0; i < len(line); {
		c := line[i]
		if isSpace(c) {
			i++
			continue
		}
		start := i
		verbatim := true
		buf = buf[:0]
		for i < len(line) && !isSpace(line[i]) {
			if line[i] != '"' {
				buf = append(buf, line[i])
				i++
				continue
			}
			verbatim = false
			open := i
			i++
			closed := false
			for i < len(line) {
				c := line[i]
				if c == '\\' {
					if i+1 >= len(line) {
						break
					}
					buf = append(buf, line[i+1])
					i += 2
					continue
				}
				i++
				if c == '"' {
					closed = true
					break
				}
				buf = append(buf, c)
			}
			if !closed {
				return nil, &Error{Col: open + 1, Msg: "unterminated quote"}
			}
		}
		toks = append(toks, Token{Text: string(buf), Col: start + 1, Verbatim: verbatim})
	}
	return toks, nil
}

// isSpace reports whether c separates words (conntrack: space, tab, newline).
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
