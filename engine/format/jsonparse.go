package format

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth bounds the nesting of values that DecodeJSON skips.
const maxJSONDepth = 512

// errJSONSyntax is wrapped by every syntax error of jsonParser.
var errJSONSyntax = errors.New("invalid JSON")

// jsonParser reads JSON (RFC 8259) from a byte slice, one value at a time.
// It is a small scanner for DecodeJSON: flat objects of strings, numbers
// and arrays, anything else skipped after validation.
type jsonParser struct {
	data    []byte
	pos     int
	scratch []byte // unescaped string contents
	escaped bool   // the last string read is in scratch
}

func (p *jsonParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errJSONSyntax, p.pos, fmt.Sprintf(format, args...))
}

// ws skips blanks.
func (p *jsonParser) ws() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

// peek returns the next non-blank byte, 0 at the end (and for a NUL byte,
// which no JSON token starts with).
func (p *jsonParser) peek() byte {
	p.ws()
	if p.pos >= len(p.data) {
		return 0
	}
	return p.data[p.pos]
}

// expect consumes c after blanks.
func (p *jsonParser) expect(c byte) error {
	if p.peek() != c {
		if p.pos >= len(p.data) {
			return p.errorf("unexpected end, want %q", c)
		}
		return p.errorf("unexpected %q, want %q", p.data[p.pos], c)
	}
	p.pos++
	return nil
}

// literal consumes the word w (true, false, null) if it comes next.
func (p *jsonParser) literal(w string) bool {
	p.ws()
	if len(p.data)-p.pos >= len(w) && string(p.data[p.pos:p.pos+len(w)]) == w {
		p.pos += len(w)
		return true
	}
	return false
}

// str reads a string and returns its contents, valid UTF-8 (invalid bytes
// and lone surrogates become U+FFFD, as with encoding/json). The result
// aliases the input or the parser's scratch buffer: copy it to keep it.
func (p *jsonParser) str() ([]byte, error) {
	if err := p.expect('"'); err != nil {
		return nil, err
	}
	start := p.pos
	p.escaped = false
	// Fast path: no escapes, ASCII or valid UTF-8.
fast:
	for p.pos < len(p.data) {
		c := p.data[p.pos]
		switch {
		case c == '"':
			s := p.data[start:p.pos]
			p.pos++
			return s, nil
		case c == '\\' || c < 0x20:
			break fast
		case c < utf8.RuneSelf:
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				break fast
			}
			p.pos += size
		}
	}
	p.escaped = true
	buf := append(p.scratch[:0], p.data[start:p.pos]...)
	for {
		if p.pos >= len(p.data) {
			return nil, p.errorf("unterminated string")
		}
		c := p.data[p.pos]
		switch {
		case c == '"':
			p.pos++
			p.scratch = buf
			return buf, nil
		case c < 0x20:
			return nil, p.errorf("control character in string")
		case c == '\\':
			r, err := p.escape()
			if err != nil {
				return nil, err
			}
			buf = utf8.AppendRune(buf, r)
		case c < utf8.RuneSelf:
			buf = append(buf, c)
			p.pos++
		default:
			r, size := utf8.DecodeRune(p.data[p.pos:])
			if r == utf8.RuneError && size == 1 {
				buf = append(buf, "\uFFFD"...)
			} else {
				buf = append(buf, p.data[p.pos:p.pos+size]...)
			}
			p.pos += size
		}
	}
}

// escape reads one backslash escape and returns its rune.
func (p *jsonParser) escape() (rune, error) {
	if p.pos+1 >= len(p.data) {
		return 0, p.errorf("unterminated escape")
	}
	c := p.data[p.pos+1]
	p.pos += 2
	switch c {
	case '"', '\\', '/':
		return rune(c), nil
	case 'b':
		return '\b', nil
	case 'f':
		return '\f', nil
	case 'n':
		return '\n', nil
	case 'r':
		return '\r', nil
	case 't':
		return '\t', nil
	case 'u':
		r, err := p.hex4()
		if err != nil {
			return 0, err
		}
		if !utf16.IsSurrogate(r) {
			return r, nil
		}
		// A high surrogate followed by an escaped low one is one rune.
		if r < 0xDC00 && len(p.data)-p.pos >= 6 && p.data[p.pos] == '\\' && p.data[p.pos+1] == 'u' {
			save := p.pos
			p.pos += 2
			r2, err := p.hex4()
			if err != nil {
				return 0, err
			}
			if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
				return d, nil
			}
			p.pos = save
		}
		return utf8.RuneError, nil
	}
	return 0, p.errorf("bad escape \\%c", c)
}

// hex4 reads four hex digits.
func (p *jsonParser) hex4() (rune, error) {
	if len(p.data)-p.pos < 4 {
		return 0, p.errorf("short \\u escape")
	}
	var r rune
	for _, c := range p.data[p.pos : p.pos+4] {
		r <<= 4
		switch {
		case '0' <= c && c <= '9':
			r |= rune(c - '0')
		case 'a' <= c && c <= 'f':
			r |= rune(c - 'a' + 10)
		case 'A' <= c && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, p.errorf("bad \\u escape")
		}
	}
	p.pos += 4
	return r, nil
}

// number reads a number and returns its text.
func (p *jsonParser) number() ([]byte, error) {
	p.ws()
	start := p.pos
	d := p.data
	i := p.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && '1' <= d[i] && d[i] <= '9':
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	default:
		return nil, p.errorf("bad number")
	}
	if i < len(d) && d[i] == '.' {
		i++
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return nil, p.errorf("bad number")
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if i >= len(d) || d[i] < '0' || d[i] > '9' {
			return nil, p.errorf("bad number")
		}
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
	}
	p.pos = i
	return d[start:i], nil
}

// integer reads a number that must be an integer in the range of int.
func (p *jsonParser) integer() (int, error) {
	start := p.pos
	b, err := p.number()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil || n < math.MinInt || n > math.MaxInt {
		p.pos = start
		return 0, p.errorf("%s is not an integer", b)
	}
	return int(n), nil
}

// skip reads and discards any value.
func (p *jsonParser) skip(depth int) error {
	if depth > maxJSONDepth {
		return p.errorf("nested too deeply")
	}
	switch c := p.peek(); {
	case c == '"':
		_, err := p.str()
		return err
	case c == '-' || '0' <= c && c <= '9':
		_, err := p.number()
		return err
	case c == '{':
		p.pos++
		if p.peek() == '}' {
			p.pos++
			return nil
		}
		for {
			if _, err := p.str(); err != nil {
				return err
			}
			if err := p.expect(':'); err != nil {
				return err
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			if p.peek() == ',' {
				p.pos++
				continue
			}
			return p.expect('}')
		}
	case c == '[':
		return p.array(func() error { return p.skip(depth + 1) })
	}
	if p.literal("true") || p.literal("false") || p.literal("null") {
		return nil
	}
	return p.errorf("unexpected input")
}

// array reads an array, calling elem to read each element.
func (p *jsonParser) array(elem func() error) error {
	if err := p.expect('['); err != nil {
		return err
	}
	if p.peek() == ']' {
		p.pos++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		if p.peek() == ',' {
			p.pos++
			continue
		}
		return p.expect(']')
	}
}

// end checks that only blanks follow.
func (p *jsonParser) end() error {
	p.ws()
	if p.pos < len(p.data) {
		return p.errorf("data after the object")
	}
	return nil
}
