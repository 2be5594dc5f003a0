package quote

import "testing"

func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"ftp", "ftp"},
		{"café €", "café €"},
		{`back\slash "q"`, `back\slash "q"`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"\x1b]0;title\x07", `\x1b]0;title\x07`},
		{"a\tb\nc\rd\x7f", `a\x09b\x0ac\x0dd\x7f`},
		{"\x9b2J", `\x9b2J`},           // a raw C1 byte (invalid UTF-8)
		{"\u009b2J", `\u009b2J`},       // CSI as a UTF-8 rune
		{"a\u202eb", `a\u202eb`},       // bidi override
		{"\xff\xfe", `\xff\xfe`},       // invalid UTF-8
		{"\U000e0001x", `\U000e0001x`}, // a non-printable astral rune
		{"\U0001F600", "\U0001F600"},   // printable astral rune
		{"\xef\xbf\xbd", "\ufffd"},     // U+FFFD itself is printable
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Clean(tt.in); got != (tt.in == tt.want) {
			t.Errorf("Clean(%q) = %v", tt.in, got)
		}
	}
}

func TestAppendKeepSpace(t *testing.T) {
	if got := string(AppendKeepSpace([]byte("x"), "a\tb\nc\rd\x1b\u009b")); got != "xa\tb\nc\rd\\x1b\\u009b" {
		t.Errorf("AppendKeepSpace = %q", got)
	}
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "a\x1bb", "\x9b", "\u009b", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		if !Clean(out) {
			t.Fatalf("Escape(%q) = %q is not clean", s, out)
		}
		for i := 0; i < len(out); i++ {
			if c := out[i]; c < 0x20 || c == 0x7f {
				t.Fatalf("Escape(%q) = %q keeps control byte %#x", s, out, c)
			}
		}
	})
}
