package repl

import (
	"slices"
	"testing"
)

func TestCompleter(t *testing.T) {
	c := newCompleter()
	tests := []struct {
		line string
		want string // one of the completions (a suffix)
		not  string // a suffix that must not be offered
	}{
		{"count where dpo", "rt ", ""},
		{"list where pro", "to ", ""},
		{"list as js", "on ", ""},
		{"list as t", "able ", "cp "},
		{"list un", "confirmed ", ""},
		{"help cou", "nt ", ""},
		{"li", "st ", ""},
		{"list where proto == tc", "p ", ""},
	}
	for _, tt := range tests {
		got, n := c.Do([]rune(tt.line), len(tt.line))
		var s []string
		for _, g := range got {
			s = append(s, string(g))
		}
		if !slices.Contains(s, tt.want) {
			t.Errorf("%q: completions %q lack %q", tt.line, s, tt.want)
		}
		if tt.not != "" && slices.Contains(s, tt.not) {
			t.Errorf("%q: completions %q offer %q", tt.line, s, tt.not)
		}
		if w := lastWord(tt.line + "x"); n != len(w)-1 {
			t.Errorf("%q: replaced length %d, want %d", tt.line, n, len(w)-1)
		}
	}
}
