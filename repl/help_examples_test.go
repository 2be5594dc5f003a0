package repl

import (
	"regexp"
	"strings"
	"testing"

	"ctq/engine/format"
	"ctq/lang"
)

// TestHelpExamplesCompile: every example in help compiles (a script of
// the topic's examples, so that let variables carry over), and every
// condition of help expressions does.
func TestHelpExamplesCompile(t *testing.T) {
	opts := func() *lang.Options {
		return &lang.Options{Formats: format.Names(), HiddenFormats: format.Hidden(), LabelNames: map[int]string{1: "web"}}
	}
	texts := helpTexts()
	for topic, text := range texts {
		if topic == "expressions" {
			continue
		}
		// exit and print use a variable n of an example of their own.
		script := []string{"let n = 1"}
		for _, line := range strings.Split(text, "\n") {
			ex, ok := strings.CutPrefix(line, "    ")
			if !ok || strings.HasPrefix(ex, " ") || strings.HasPrefix(ex, "source ") || strings.Contains(ex, " (-") {
				continue
			}
			script = append(script, ex)
		}
		if _, err := lang.CompileProgram("", strings.Join(script, "\n"), opts()); err != nil {
			t.Errorf("help %s: an example does not compile: %v", topic, err)
		}
	}
	cols := regexp.MustCompile(`\s{2,}`)
	n := 0
	for _, line := range strings.Split(texts["expressions"], "\n")[1:] {
		ex := cols.Split(strings.TrimSpace(line), 2)[0]
		for _, cond := range topLevel(ex) {
			n++
			if _, err := lang.CompileProgram("", "list where "+cond, opts()); err != nil {
				t.Errorf("help expressions: %s: %v", cond, err)
			}
		}
	}
	if n < 8 {
		t.Errorf("help expressions: %d conditions found", n)
	}
}

// topLevel splits a list of conditions at the ", " outside brackets.
func topLevel(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(', '[':
			depth++
		case ')', ']':
			depth--
		case ',':
			if depth == 0 && i+1 < len(s) && s[i+1] == ' ' {
				out = append(out, s[start:i])
				start = i + 2
			}
		}
	}
	return append(out, s[start:])
}
