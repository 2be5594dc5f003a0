package repl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestScripts(t *testing.T) {
	tests := []struct {
		name, script, want string
		code               int
		errText            string // in the error message
	}{
		{name: "acceptance", script: "let n = count where state == \"SYN_SENT\"\nif n > 0 { print \"x=\" + string(n); exit 3 }\nprint \"not here\"",
			want: "x=1\n", code: 3},
		{name: "print", script: "print 6*7", want: "42\n"},
		{name: "print values", script: `print "a"; print 1.5; print [1, "b"]; print {"k": 2}; print nil; print 2 > 1`,
			want: "a\n1.5\n[1,\"b\"]\n{\"k\":2}\nnil\ntrue\n"},
		{name: "variable in where", script: "let p = 22\ncount where dport == p\nlist where dport == p && sport == p + 40018 as id",
			want: "2\n"},
		{name: "if else", script: "let n = count\nif n > 10 {\n  print \"big\"\n} else if n > 3 {\n  print \"some \" + string(n)\n} else {\n  print \"few\"\n}",
			want: "some 4\n"},
		{name: "exit 0 stops", script: "print 1\nexit\nprint 2", want: "1\n"},
		{name: "exit expression", script: "let n = count where proto == udp\nexit n + 4", code: 5},
		{name: "runtime error names the line", script: "let n = count\nprint 1\nprint [1, 2][n]\nprint 3",
			want: "1\n", code: ExitRuntime, errText: "script.ctq:3: "},
		{name: "let in a block that did not run", script: "if false { let z = 5 }\nprint z", want: "0\n"},
		{name: "sum, avg, min, max", script: "let t = sum timeout where family == ipv4\nprint t\navg timeout where family == ipv4\nlet m = max bytes where proto == sctp\nprint m",
			want: "209\n69.66666666666667\n0\n"},
		{name: "count by", script: "count by dport", want: "22    2\n53    1\n8080  1\n"},
		{name: "count by two keys with where", script: "count where family == ipv4 by proto, dport",
			want: "tcp  22  2\nudp  53  1\n"},
		{name: "top", script: "top 2 src by timeout", want: "2001:db8::1  431958\n192.0.2.1       149\n"},
		{name: "top counts", script: "top 1 dst", want: "198.51.100.7  2\n"},
		{name: "min max by", script: "min timeout by proto; max timeout where proto == tcp by state",
			want: "tcp  60\nudp  29\nESTABLISHED  431958\nSYN_SENT         60\n"},
		{name: "set output json", script: "set output json\ncount by dport\ncount\ntop 1 src by timeout",
			want: "{\"dport\":22,\"count\":2}\n{\"dport\":53,\"count\":1}\n{\"dport\":8080,\"count\":1}\n{\"count\":4}\n{\"src\":\"2001:db8::1\",\"timeout\":431958}\n"},
		{name: "set output csv", script: "set output csv; count by proto", want: "proto,count\ntcp,3\nudp,1\n"},
		{name: "set netns offline", script: "print 1; set netns x; print 2", want: "1\n", code: ExitRuntime, errText: "script.ctq:1: set netns: the session reads the saved table"},
		{name: "explain", script: "explain delete where proto == tcp and dport == 22 and state == \"SYN_SENT\"",
			want: "statement:         delete conntrack\n" +
				"kernel filter:     proto tcp, dport 22\n" +
				"kernel applies:    proto tcp, dport 22\n" +
				"userspace check:   proto == tcp and dport == 22 and state == \"SYN_SENT\"\n" +
				"delete:            entry by entry (part of the condition is evaluated in userspace)\n" +
				"kernel returns:    2 entries\n" +
				"matching:          1 entry\n"},
		{name: "explain exact", script: "explain count where family == ipv4 by dport",
			want: "statement:         count conntrack\n" +
				"kernel filter:     family ipv4\n" +
				"kernel applies:    family ipv4\n" +
				"userspace check:   family == ipv4 (the kernel filter is the whole condition)\n" +
				"grouping:          in userspace, one accumulator a group\n" +
				"kernel returns:    3 entries\n" +
				"matching:          3 entries\n"},
		{name: "type error runs nothing", script: "print 1\nlet n = count\nif n { print 2 }", code: ExitUsage, errText: "script.ctq:3:4: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			s := offline(&out, &errb)
			defer s.Close()
			err := s.Run(context.Background(), "script.ctq", tt.script)
			if code := ExitCode(err); code != tt.code {
				t.Fatalf("exit %d (%v), want %d", code, err, tt.code)
			}
			if tt.errText != "" && (err == nil || !strings.Contains(err.Error(), tt.errText)) {
				t.Errorf("error %v lacks %q", err, tt.errText)
			}
			if got := out.String(); got != tt.want {
				t.Errorf("output\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestShellVariablesPersist(t *testing.T) {
	var out, errb bytes.Buffer
	s := offline(&out, &errb)
	defer s.Close()
	for _, line := range []string{"let a = 20", "let n = count where proto == udp", "print a + n", "let a = 1", "print a"} {
		if err := s.Run(context.Background(), "", line); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
	}
	if out.String() != "21\n1\n" {
		t.Errorf("output %q", out.String())
	}
	// A one-line runtime error carries no line number.
	err := s.Run(context.Background(), "", "print [1][a]")
	if ExitCode(err) != ExitRuntime || strings.HasPrefix(err.Error(), "line") {
		t.Errorf("runtime error %v", err)
	}
	err = s.Run(context.Background(), "", "print 1\nprint [1][a]")
	if !strings.HasPrefix(err.Error(), "line 2: ") {
		t.Errorf("runtime error %v, want line 2", err)
	}
	if err := s.Run(context.Background(), "", `let a = "x"`); ExitCode(err) != ExitUsage {
		t.Errorf("retyping a: %v", err)
	}
}

func TestSourceScript(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("lib.ctq", "# shared settings\nlet p = 22\nset output json\n")
	write("bad.ctq", "print 1\nlist where dprt == 22\n")
	write("fail.ctq", "print 1\nprint [1][p]\n")
	main := write("main.ctq", "source \"lib.ctq\"\ncount where dport == p\n")

	var out, errb bytes.Buffer
	s := offline(&out, &errb)
	defer s.Close()
	if err := s.Run(context.Background(), main, "source \"lib.ctq\"\ncount where dport == p\n"); err != nil {
		t.Fatal(err)
	}
	if out.String() != "{\"count\":2}\n" {
		t.Errorf("output %q", out.String())
	}
	out.Reset()
	err := s.Run(context.Background(), main, "print 0\nsource \"bad.ctq\"\n")
	if ExitCode(err) != ExitUsage || !strings.HasPrefix(err.Error(), filepath.Join(dir, "bad.ctq")+":2:12: ") || out.Len() != 0 {
		t.Errorf("error in a sourced file: %v, output %q", err, out.String())
	}
	err = s.Run(context.Background(), main, "source \"fail.ctq\"\n")
	if ExitCode(err) != ExitRuntime || !strings.HasPrefix(err.Error(), filepath.Join(dir, "fail.ctq")+":2: ") {
		t.Errorf("runtime error in a sourced file: %v", err)
	}
}

func TestHelpCoversEveryStatement(t *testing.T) {
	for _, topic := range []string{"list", "count", "get", "delete", "update", "insert", "load", "flush", "watch",
		"top", "sum", "min", "max", "avg", "let", "print", "if", "exit", "source", "set", "explain", "scripts"} {
		var out bytes.Buffer
		if err := writeHelp(&out, topic); err != nil {
			t.Errorf("help %s: %v", topic, err)
			continue
		}
		if !strings.Contains(strings.ToLower(out.String()), topic) {
			t.Errorf("help %s does not show %s:\n%s", topic, topic, out.String())
		}
	}
	var out bytes.Buffer
	if err := writeHelp(&out, "nosuch"); ExitCode(err) != ExitUsage {
		t.Errorf("help nosuch: %v", err)
	}
}
