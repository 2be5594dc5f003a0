// Package quote makes strings from tables, files and scripts safe to print
// on a terminal: control characters (ESC, CSI, OSC, ...), invalid UTF-8
// and other non-printable runes are written as Go escapes (\x1b, \u009b)
// so that none reaches the terminal raw. Printable text, spaces and
// backslashes are kept as they are.
package quote

import (
	"strconv"
	"unicode"
	"unicode/utf8"
)

// unsafe reports whether r (of encoded width w; r == utf8.RuneError with
// w == 1 for an invalid byte) must be escaped.
func unsafe(r rune, w int) bool {
	switch {
	case r == utf8.RuneError && w == 1:
		return true
	case r < utf8.RuneSelf:
		return r < 0x20 || r == 0x7f
	}
	return !unicode.IsPrint(r)
}

// Clean reports whether s needs no escaping.
func Clean(s string) bool { return clean(s, false) }

// CleanKeepSpace reports whether AppendKeepSpace would leave s as it is.
func CleanKeepSpace(s string) bool { return clean(s, true) }

func clean(s string, space bool) bool {
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if (c < 0x20 || c == 0x7f) && !(space && (c == '\t' || c == '\n' || c == '\r')) {
				return false
			}
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if unsafe(r, w) {
			return false
		}
		i += w
	}
	return true
}

// Escape returns s with every control byte, invalid UTF-8 byte or
// non-printable rune escaped (\xNN, \uNNNN); s itself when it is clean.
func Escape(s string) string {
	if Clean(s) {
		return s
	}
	return string(Append(make([]byte, 0, len(s)+8), s))
}

// Append appends s to b, escaped as Escape does.
func Append(b []byte, s string) []byte {
	return appendKeep(b, s, false)
}

// AppendKeepSpace is Append but keeps tabs, newlines and carriage returns,
// for formats that quote them (CSV).
func AppendKeepSpace(b []byte, s string) []byte {
	return appendKeep(b, s, true)
}

func appendKeep(b []byte, s string, space bool) []byte {
	for i := 0; i < len(s); {
		if c := s[i]; c >= 0x20 && c < 0x7f || space && (c == '\t' || c == '\n' || c == '\r') {
			b = append(b, c)
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if !unsafe(r, w) {
			b = append(b, s[i:i+w]...)
		} else {
			b = appendRune(b, r, s[i])
		}
		i += w
	}
	return b
}

// Rune returns the escaped form of one rune of s starting with byte c
// (r == utf8.RuneError for an invalid byte), or "" when it is safe; for
// callers that lay text out rune by rune.
func Rune(r rune, w int, c byte) string {
	if !unsafe(r, w) {
		return ""
	}
	return string(appendRune(nil, r, c))
}

func appendRune(b []byte, r rune, c byte) []byte {
	const hex = "0123456789abcdef"
	switch {
	case r == utf8.RuneError || r < utf8.RuneSelf:
		return append(b, '\\', 'x', hex[c>>4], hex[c&0xf])
	case r < 0x10000:
		b = append(b, '\\', 'u')
		for s := 12; s >= 0; s -= 4 {
			b = append(b, hex[r>>uint(s)&0xf])
		}
		return b
	}
	q := strconv.QuoteRuneToASCII(r) // '\U0001xxxx'
	return append(b, q[1:len(q)-1]...)
}
