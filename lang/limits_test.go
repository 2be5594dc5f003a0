package lang

import (
	"errors"
	"strings"
	"testing"
)

// TestLimits checks that input nested or sized far beyond real scripts
// fails with an *Error at the right place instead of overflowing the stack
// (expr's parser recurses on every bracket), and that deep but realistic
// input still compiles.
func TestLimits(t *testing.T) {
	deep := func(n int, inner string) string {
		return strings.Repeat("(", n) + inner + strings.Repeat(")", n)
	}
	ifs := func(n int) string {
		return strings.Repeat("if true {\n", n) + "print 1\n" + strings.Repeat("}\n", n)
	}
	tests := []struct {
		name, src string
		line, col int    // 0: compiles
		msg       string // part of the message
	}{
		{"500k parens", "list where " + deep(500000, "true"), 1, 12 + MaxNesting, "nested more than 256 deep"},
		{"500k brackets", "list where 1 in " + strings.Repeat("[", 500000), 1, 17 + MaxNesting, "nested more than 256 deep"},
		{"500k braces", "print " + strings.Repeat("{a: ", 500000), 1, 7 + 4*MaxNesting, "nested more than 256 deep"},
		{"parens at the limit", "list where " + deep(MaxNesting, "true"), 0, 0, ""},
		{"second line", "count\nlist where dport == 22 && " + deep(300, "true"), 2, 27 + MaxNesting, "nested more than 256 deep"},
		{"300 if blocks", ifs(300), MaxNesting + 1, 9, "nested more than 256 deep"},
		{"realistic if blocks", ifs(20), 0, 0, ""},
		{"realistic condition", "list where " + strings.Repeat("(proto == tcp && (dport == 22 || ", 30) + "true" + strings.Repeat("))", 30), 0, 0, ""},
		{"long string", `list where helper == "` + strings.Repeat("a", 60000) + `"`, 0, 0, ""},
		{"expression too long", `list where helper == "` + strings.Repeat("a", MaxExprBytes) + `"`, 1, 22, "expression longer than 65536 bytes"},
		{"expression too long, many tokens", "list where dport == 1" + strings.Repeat(" || dport == 1", 5000), 1, 65546, "expression longer than 65536 bytes"},
		{"64k of !", "list where " + strings.Repeat("!", 60000) + "true", 1, 0, ""},
		{"64k of -", "list where dport == " + strings.Repeat("-", 60000) + "1", 1, 0, ""},
		{"script too long", strings.Repeat("# comment\n", MaxScriptBytes/10+1), MaxScriptBytes/10 + 1, MaxScriptBytes%10 + 1, "script is longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileProgram("", tt.src, nil)
			if tt.line == 0 {
				if err != nil {
					t.Fatalf("CompileProgram: %.300v", err)
				}
				return
			}
			var le *Error
			if !errors.As(err, &le) {
				t.Fatalf("CompileProgram: %.300v, want an *Error", err)
			}
			if le.Line != tt.line || tt.col != 0 && le.Col != tt.col || !strings.Contains(le.Msg, tt.msg) {
				t.Errorf("error at %d:%d %q, want %d:%d %q", le.Line, le.Col, le.Msg, tt.line, tt.col, tt.msg)
			}
			if text := err.Error(); len(text) > 500 {
				t.Errorf("error text is %d bytes long: %.300q", len(text), text)
			}
		})
	}
}

func TestErrorWindow(t *testing.T) {
	src := strings.Repeat("a", 200) + "X" + strings.Repeat("b", 200)
	e := &Error{Line: 1, Col: 201, Msg: "here", Src: src}
	lines := strings.Split(e.Error(), "\n")
	if len(lines) != 3 {
		t.Fatalf("Error() = %q", e.Error())
	}
	if !strings.HasPrefix(lines[1], "  ...a") || !strings.HasSuffix(lines[1], "b...") || len(lines[1]) != 2+3+srcWindow+3 {
		t.Errorf("source line %q", lines[1])
	}
	if i := strings.Index(lines[2], "^"); lines[1][i] != 'X' {
		t.Errorf("caret at %d under %q", i, lines[1][i])
	}
	// at the end of a long line
	e = &Error{Line: 1, Col: 402, Msg: "end", Src: src}
	lines = strings.Split(e.Error(), "\n")
	if i := strings.Index(lines[2], "^"); !strings.HasSuffix(lines[1], "b") || i != len(lines[1]) {
		t.Errorf("end of line: %q", lines[1:])
	}
}
