package lang

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// lexAll tokenizes text and renders the tokens as "kind:text" words
// ("end" for a statement end, ending with "eof").
func lexAll(text string) (string, error) {
	l := &lexer{src: newSource(text), text: text}
	var out []string
	for {
		t, err := l.token()
		if err != nil {
			return "", err
		}
		switch t.kind {
		case tokEOF:
			return strings.Join(append(out, "eof"), " "), nil
		case tokEnd:
			out = append(out, "end")
		case tokWord:
			out = append(out, "w:"+t.text)
		case tokNumber:
			out = append(out, "n:"+t.text)
		case tokString:
			out = append(out, "s:"+t.text)
		default:
			out = append(out, "p:"+t.text)
		}
	}
}

func TestLexer(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "eof"},
		{"statements", "list; count\nget", "w:list end w:count end w:get eof"},
		{"blank lines merge", "list\n\n\n;;count\n", "w:list end w:count end eof"},
		{"comment line", "# all flows\nlist # trailing\n", "end w:list end eof"},
		{"semicolon in string", `list where helper == "a;b"`, `w:list w:where w:helper p:= p:= s:"a;b" eof`},
		{"hash in string", `list where helper == 'a#b'`, `w:list w:where w:helper p:= p:= s:'a#b' eof`},
		{"escaped quote", `x == "a\";b"; y`, `w:x p:= p:= s:"a\";b" end w:y eof`},
		{"raw string spans lines", "x == `a\n;b`\ny", "w:x p:= p:= s:`a\n;b` end w:y eof"},
		{"newline in brackets continues", "list where (dport == 22\n or dport == 80)\ncount",
			"w:list w:where p:( w:dport p:= p:= n:22 w:or w:dport p:= p:= n:80 p:) end w:count eof"},
		{"semicolon in brackets", "x([1;2])", "w:x p:( p:[ n:1 p:; n:2 p:] p:) eof"},
		{"hash in brackets is expr's", "all(x, # > 1)", "w:all p:( w:x p:, p:# p:> n:1 p:) eof"},
		{"expr line comment", "list // c; d\ncount", "w:list end w:count eof"},
		{"expr block comment", "list /* ; \n */ where", "w:list w:where eof"},
		{"numbers and ranges", "1..5 0x1F 1.5 1_000", "n:1 p:. p:. n:5 n:0x1F n:1.5 n:1_000 eof"},
		{"member after dot", "x.limit", "w:x p:. w:limit eof"},
		{"crlf", "list\r\ncount\r\n", "w:list end w:count end eof"},
		{"unicode word", "größe == 1", "w:größe p:= p:= n:1 eof"},
		{"dollar", "$env", "w:$env eof"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := lexAll(tt.in)
			if err != nil {
				t.Fatalf("lex(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("lex(%q)\n got %s\nwant %s", tt.in, got, tt.want)
			}
		})
	}
}

func TestLexerErrors(t *testing.T) {
	tests := []struct {
		in         string
		want       string // "line:col: message"
		incomplete bool
	}{
		{`list where helper == "abc`, "1:22: unterminated string", false},
		{"list where helper == \"a\nb\"", "1:22: unterminated string", false},
		{"list where (dport == 22", "1:12: unclosed `(`", true},
		{"get {src: [1,\n2", "1:11: unclosed `[`", true},
		{"x == `abc", "1:6: unterminated string", true},
		{"list /* no end", "1:6: unclosed comment", true},
		{"list where dport == 22)", "1:23: unexpected `)`", false},
		{"x([1)", "1:5: unexpected `)`: `[` at 1:3 is still open", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := lexAll(tt.in)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("lex(%q) = %v, want *Error", tt.in, err)
			}
			if got := fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg); got != tt.want {
				t.Errorf("lex(%q) error %q, want %q", tt.in, got, tt.want)
			}
			if e.Incomplete != tt.incomplete {
				t.Errorf("lex(%q) Incomplete = %v, want %v", tt.in, e.Incomplete, tt.incomplete)
			}
		})
	}
}
