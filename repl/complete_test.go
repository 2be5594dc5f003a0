package repl

import (
	"slices"
	"testing"
)

// completions are the completions of line with the cursor at its end, as
// whole words.
func completions(c *completer, line string) []string {
	got, n := c.Do([]rune(line), len([]rune(line)))
	word := []rune(line)[len([]rune(line))-n:]
	var out []string
	for _, g := range got {
		out = append(out, string(word)+string(g[:len(g)-1]))
	}
	return out
}

func TestCompleter(t *testing.T) {
	c := newCompleter()
	tests := []struct {
		line string
		want string // one of the completions
		not  string // a word that must not be offered
	}{
		{"count where dpo", "dport", ""},
		{"list where pro", "proto", "list"},
		{"list as js", "json", ""},
		{"list as t", "table", "tcp"},
		{"list un", "unconfirmed", ""},
		{"list ", "where", "proto"},
		{"list ", "expect", "sync"},
		{"help cou", "count", ""},
		{"li", "list", ""},
		{"", "sync", "proto"},
		{"", "help", "where"},
		{"list where proto == tc", "tcp", ""},
		{"list where proto == tcp ", "limit", "delete"},
		{"list where proto == tcp and ", "dport", "limit"},
		{"list expect where ", "master_dport", "state"},
		{"count where proto == tcp by ", "dport", ""},
		{"sync ", "commit", "metrics"},
		{"sync fl", "flush", ""},
		{"sync flush ", "kernel", "expect"},
		{"sync flush kernel ", "expect", "internal"},
		{"sync dump ", "internal", "expect"},
		{"sync dump external ", "expect", ""},
		{"watch ", "new", ""},
		{"watch expect n", "new", ""},
		{"watch new,destroy ", "where", ""},
		{"flush expect ", "ipv6", ""},
		{"set ", "output", ""},
		{"set output ", "extended", ""},
		{"update set ", "mark", ""},
		{"update set ", "state", ""},
		{"insert ", "if", ""},
		{"insert if ", "absent", "if"},
		{"list where proto == tcp ", "zero", ""},
		{"delete where mark == 1 ", "as", ""},
		{"delete where mark == 1 as ", "save", ""},
		{"get ", "expect", ""},
		{"top 10 ", "src", ""},
		{"print ", "bytes", "list"},
		{"let n = 1; co", "count", ""},
		{"if n > 1 { li", "list", ""},
		{"explain co", "count", ""},
	}
	for _, tt := range tests {
		got := completions(c, tt.line)
		if !slices.Contains(got, tt.want) {
			t.Errorf("%q: completions %q lack %q", tt.line, got, tt.want)
		}
		if tt.not != "" && slices.Contains(got, tt.not) {
			t.Errorf("%q: completions %q offer %q", tt.line, got, tt.not)
		}
	}
	if got, n := c.Do([]rune("list where dpo"), 14); len(got) != 1 || string(got[0]) != "rt " || n != 3 {
		t.Errorf("list where dpo: %q, replacing %d", got, n)
	}
}
