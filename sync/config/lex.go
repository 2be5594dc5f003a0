package config

// token is one word, '{' or '}' of the file.
type token struct {
	text string
	line int
}

// lex splits a file into tokens: '{' and '}' are tokens of their own, other
// runs of characters are separated by white space, and '#' starts a comment
// that runs to the end of the line.
func lex(data []byte) []token {
	var toks []token
	line := 1
	start := -1
	flush := func(end int) {
		if start >= 0 {
			toks = append(toks, token{text: string(data[start:end]), line: line})
			start = -1
		}
	}
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '\n':
			flush(i)
			line++
		case ' ', '\t', '\r', '\v', '\f':
			flush(i)
		case '#':
			flush(i)
			for i+1 < len(data) && data[i+1] != '\n' {
				i++
			}
		case '{', '}':
			flush(i)
			toks = append(toks, token{text: string(c), line: line})
		default:
			if start < 0 {
				start = i
			}
		}
	}
	flush(len(data))
	return toks
}
