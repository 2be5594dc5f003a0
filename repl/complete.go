package repl

import (
	"slices"
	"strings"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/lang"
)

// completer completes the word under the cursor: output formats after
// "as" (and "set output"), table names after a statement keyword, help
// topics after "help", otherwise statement keywords, clause words, field
// names and the bare constants. It implements readline's AutoCompleter.
type completer struct {
	words   []string // keywords, fields, constants
	formats []string
	topics  []string
}

func newCompleter() *completer {
	c := &completer{formats: format.Names(), topics: helpTopics()}
	c.words = append(c.words, lang.Keywords()...)
	c.words = append(c.words, lang.Fields()...)
	c.words = append(c.words, lang.Constants()...)
	c.words = append(c.words, "help")
	slices.Sort(c.words)
	c.words = slices.Compact(c.words)
	return c
}

// Do returns the completions of the word that ends at pos, as suffixes,
// and the length of that word.
func (c *completer) Do(line []rune, pos int) ([][]rune, int) {
	head := string(line[:pos])
	start := strings.LastIndexFunc(head, func(r rune) bool { return !isWordRune(r) }) + 1
	word := head[start:]
	prev := lastWord(head[:start])
	var pool []string
	switch prev {
	case "as", "output":
		pool = c.formats
	case "help":
		pool = c.topics
	case "list", "count", "delete", "flush", "watch":
		pool = append(append([]string{}, engine.TableNames...), c.words...)
	default:
		pool = c.words
	}
	var out [][]rune
	for _, w := range pool {
		if strings.HasPrefix(w, word) && w != word {
			out = append(out, []rune(w[len(word):]+" "))
		}
	}
	return out, len([]rune(word))
}

func isWordRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// lastWord is the last whole word of s.
func lastWord(s string) string {
	f := strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) })
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}
