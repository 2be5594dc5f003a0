package lang

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestErrorRendering(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"must: unknown field", "list where dprt == 22",
			"1:12: unknown field `dprt` (did you mean `dport`?)\n" +
				"  list where dprt == 22\n" +
				"             ^"},
		{"tabs kept", "list\twhere\tdprt == 22",
			"1:12: unknown field `dprt` (did you mean `dport`?)\n" +
				"  list\twhere\tdprt == 22\n" +
				"      \t     \t^"},
		{"third line", "list\ncount\n  list where dport == \"x\"",
			"3:20: invalid operation: == (mismatched types int and string)\n" +
				"    list where dport == \"x\"\n" +
				"                     ^"},
		{"end of line", "list where\r\ncount",
			"1:11: expected an expression after `where`, found end of line\n" +
				"  list where\n" +
				"            ^"},
		{"characters not bytes", `list where helper == "é€" && dprt == 1`,
			"1:30: unknown field `dprt` (did you mean `dport`?)\n" +
				"  list where helper == \"é€\" && dprt == 1\n" +
				"                               ^"},
		{"control characters escaped, caret aligned", "list where helper == \"\x1b[2J\x9b\" && dprt == 1",
			"1:33: unknown field `dprt` (did you mean `dport`?)\n" +
				"  list where helper == \"\\x1b[2J\\x9b\" && dprt == 1\n" +
				"  " + strings.Repeat(" ", 38) + "^"},
		{"control character in the message", "\x1b]0;pwned\x07",
			"1:1: expected a statement, found `\\x1b`\n" +
				"  \\x1b]0;pwned\\x07\n" +
				"  ^"},
		{"C1 and bidi runes", "lis\u009bt \u202e",
			"1:1: unknown statement `lis` (did you mean `list`?)\n" +
				"  lis\\u009bt \\u202e\n" +
				"  ^"},
		{"inside a multi-line statement", "get {src: \"192.0.2.1\",\n\tdst: \"192.0.2\", proto: tcp}",
			"2:7: invalid address \"192.0.2\"\n" +
				"  \tdst: \"192.0.2\", proto: tcp}\n" +
				"  \t     ^"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileScript(tt.src, nil)
			if err == nil {
				t.Fatalf("CompileScript(%q) succeeded", tt.src)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error text\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestErrorWithoutSource(t *testing.T) {
	e := &Error{Line: 2, Col: 5, Msg: "boom"}
	if got := e.Error(); got != "2:5: boom" {
		t.Errorf("Error() = %q, want %q", got, "2:5: boom")
	}
	var err error = e
	var target *Error
	if !errors.As(err, &target) {
		t.Error("errors.As does not find *Error")
	}
}

func TestFieldsAndKeywords(t *testing.T) {
	fields := Fields()
	for _, want := range []string{"family", "proto", "src", "dport", "reply_dport", "state", "status", "assured",
		"mark", "zone", "labels", "bytes", "start", "age", "icmp_type", "icmp_code", "icmp_id"} {
		if !slices.Contains(fields, want) {
			t.Errorf("Fields() lacks %q", want)
		}
	}
	for _, hidden := range []string{"-", "", "Has", "StateNum", "ReplyICMPType"} {
		if slices.Contains(fields, hidden) {
			t.Errorf("Fields() has %q", hidden)
		}
	}
	if fields[0] != "family" {
		t.Errorf("Fields()[0] = %q, want family (declaration order)", fields[0])
	}
	fields[0] = "changed"
	if Fields()[0] != "family" {
		t.Error("Fields() shares its slice with the package")
	}
	want := []string{"account", "as", "asc", "avg", "by", "conntrack", "count", "delete", "desc", "destroy", "dry", "dying", "else", "every",
		"exit", "expect", "explain", "flush", "for", "get", "if", "insert", "let", "limit", "list", "load", "max", "min",
		"netns", "new", "order", "output", "print", "reliable", "serve", "set", "source", "stats", "sum", "sync", "top", "unconfirmed", "update", "watch", "where", "zero"}
	if got := Keywords(); !slices.Equal(got, want) {
		t.Errorf("Keywords() = %q, want %q", got, want)
	}
	expect := ExpectFields()
	for _, want := range []string{"family", "proto", "src", "dport", "mask_src", "master_dport", "helper", "flags", "permanent"} {
		if !slices.Contains(expect, want) {
			t.Errorf("ExpectFields() lacks %q", want)
		}
	}
	if slices.Contains(expect, "Has") || slices.Contains(expect, "state") {
		t.Errorf("ExpectFields() = %q has hidden or flow-only fields", expect)
	}
	if got := Constants(); !slices.Contains(got, "tcp") || !slices.Contains(got, "ipv6") || len(got) != 10 {
		t.Errorf("Constants() = %q", got)
	}
}
