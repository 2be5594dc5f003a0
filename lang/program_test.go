package lang

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"ctq/engine"
)

// describeSteps renders steps for comparison: one word per step, blocks
// in braces.
func describeSteps(steps []Step) string {
	var out []string
	for _, st := range steps {
		switch s := st.(type) {
		case *PlanStep:
			out = append(out, s.Keyword)
		case *LetStep:
			w := "let " + s.Name
			if s.Value.Agg != nil {
				w += "=" + s.Value.Agg.Keyword
			}
			out = append(out, w)
		case *PrintStep:
			out = append(out, "print")
		case *IfStep:
			out = append(out, "if{"+describeSteps(s.Then)+"}else{"+describeSteps(s.Else)+"}")
		case *ExitStep:
			out = append(out, "exit")
		case *SetStep:
			out = append(out, "set "+s.Name+"="+s.Value)
		case *ExplainStep:
			out = append(out, "explain "+s.Stmt.Keyword)
		}
	}
	return strings.Join(out, " ")
}

func TestCompileProgram(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"let count", `let n = count where state == "SYN_SENT"`, "let n=count"},
		{"let expr and print", "let a = 6\nprint a * 7", "let a print"},
		{"let sum", "let b = sum bytes where proto == tcp", "let b=sum"},
		{"let max function", "let m = max(1, 2)\nprint m", "let m print"},
		{"acceptance", "let n = count where dport == 22\nif n > 0 { print \"x=\" + string(n); exit 3 }",
			"let n=count if{print exit}else{}"},
		{"if else on lines", "if 1 > 2 {\n  # a comment\n  print 1\n} else {\n  print 2\n  list where dport == 22\n}\ncount",
			"if{print}else{print list} count"},
		{"else if", "if false { print 1 } else if true { print 2 } else { exit }", "if{print}else{if{print}else{exit}}"},
		{"nested if", "if true { if true { print 1 } }", "if{if{print}else{}}else{}"},
		{"empty block", "if true {}", "if{}else{}"},
		{"variable in where", "let p = 22\nlist where dport == p", "let p list"},
		{"set output", "set output json; set output extended,id", "set output=json set output=extended,id"},
		{"set netns", `set netns ctqt-1; set netns "b"`, "set netns=ctqt-1 set netns=b"},
		{"explain", "explain delete where dport == 22", "explain delete"},
		{"grouping", "count by dport; count where proto == tcp by dport, proto; top 10 src by bytes; top 3 dport; avg timeout by proto",
			"count count top top avg"},
		{"exit code expr", "let n = count\nexit n > 0 ? 1 : 0", "let n=count exit"},
		{"map in condition", `if ({"a": 1}).a == 1 { print 1 }`, "if{print}else{}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := CompileProgram("t.ctq", tt.src, &Options{Formats: []string{"text", "json", "extended", "id"}})
			if err != nil {
				t.Fatalf("CompileProgram: %v", err)
			}
			if got := describeSteps(p.Steps); got != tt.want {
				t.Errorf("steps %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCompileProgramErrors(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"let needs =", "let x 3", "1:7: expected `=` after `let x`, found `3`"},
		{"let ==", "let x == 3", "1:7: expected `=` after `let x`, found `=`"},
		{"let needs name", "let = 3", "1:5: expected a variable name after `let`, found `=`"},
		{"let field", "let dport = 3", "1:5: `dport` is a flow field and cannot name a variable"},
		{"let constant", "let tcp = 3", "1:5: `tcp` is a constant and cannot name a variable"},
		{"let keyword", "let where = 3", "1:5: `where` is a keyword and cannot name a variable"},
		{"let retype", "let x = 1\nlet x = \"a\"", "2:5: `x` holds an int; it cannot take a string"},
		{"let count by", "let x = count by dport", "1:9: a grouped `count` gives many values, not one: a variable takes a count, sum, min, max or avg without `by`"},
		{"let flow field in value", "let x = dport + 1", "1:9: `dport` is a flow field; this value must be a constant"},
		{"unknown variable", "print y", "1:7: unknown name `y`"},
		{"variable before let", "print n\nlet n = 1", "1:7: unknown name `n`"},
		{"type error with variable", "let n = count\nif n + \"a\" { }", "2:6: invalid operation: + (mismatched types int and string)"},
		{"if not bool", "if 1 + 1 { print 1 }", "1:4: the condition must be true or false, but it is int"},
		{"if without brace", "if true print 1", "1:16: expected `{` after `if`, found end of input"},
		{"unclosed block", "if true {\n print 1\n", "1:9: unclosed `{`"},
		{"stray brace", "print 1 }", "1:9: unexpected `}`"},
		{"else needs block", "if true { } else print 1", "1:18: expected `{` after `else`, found `print`"},
		{"error inside block", "if true {\n  list where dprt == 1\n}", "2:14: unknown field `dprt` (did you mean `dport`?)"},
		{"exit string", `exit "a"`, "1:6: the exit code must be a whole number 0..255, not a string"},
		{"set unknown", "set colour red", "1:5: expected `output` or `netns` after `set`, found `colour`"},
		{"set output unknown", "set output yaml", "1:12: unknown format `yaml` (formats: text, json)"},
		{"set without value", "set netns", "1:10: `set netns` needs a value, found end of input"},
		{"explain let", "explain let x = 1", "1:9: `explain` takes a list, count, delete, update, top, sum, min, max, avg statement, found `let`"},
		{"source missing", `source "/nonexistent/x.ctq"`, "1:1: source: open /nonexistent/x.ctq: no such file or directory"},
		{"source needs string", "source x", "1:8: expected a file name in quotes after `source`, found `x`"},
		{"top needs N", "top src by bytes", "1:5: `top` needs a whole number, found `src`"},
		{"top value type", `top 3 src by helper`, "1:14: `top ... by` needs a number or a duration, not a value of string"},
		{"group key type", "count by labels", "1:10: cannot group by a value of engine.Labels (keys are numbers, strings, booleans, addresses, times or durations)"},
		{"too many keys", "count by proto, src, dst, sport, dport", "1:34: at most 4 group keys"},
		{"group expect", "count expect by helper", "1:1: expectations cannot be grouped: grouping works on conntrack, dying and unconfirmed entries"},
		{"sum type", "sum src", "1:5: `sum` needs a number or a duration, not a value of netip.Addr"},
		{"count as", "count by dport as json", "1:16: `as` does not belong in a `count` statement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileProgram("t.ctq", tt.src, &Options{Formats: []string{"text", "json"}})
			if err == nil {
				t.Fatal("no error")
			}
			if got := strings.SplitN(err.Error(), "\n", 2)[0]; got != tt.want {
				t.Errorf("error %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProgramValues(t *testing.T) {
	p, err := CompileProgram("", "let a = 6\nlet s = \"192.0.2.1\"\nprint a * 7\nlist where src == s && dport == a", nil)
	if err != nil {
		t.Fatal(err)
	}
	vars := map[string]any{}
	for _, st := range p.Steps[:2] {
		l := st.(*LetStep)
		v, err := l.Value.Eval(vars)
		if err != nil {
			t.Fatal(err)
		}
		vars[l.Name] = v
	}
	if got, err := p.Steps[2].(*PrintStep).Value.Eval(vars); err != nil || got != 42 {
		t.Errorf("print a * 7 = %v, %v", got, err)
	}
	if !reflect.DeepEqual(p.Vars, map[string]reflect.Type{"a": intType, "s": stringType}) {
		t.Errorf("Vars %v", p.Vars)
	}
	ps := p.Steps[3].(*PlanStep)
	vars["a"] = 22
	plan, err := ps.Plan(vars)
	if err != nil {
		t.Fatal(err)
	}
	// The variables became constants: pushed into the kernel filter.
	if plan.Filter.Orig.Dport != 22 || plan.Filter.Orig.Src.String() != "192.0.2.1" {
		t.Errorf("filter %+v", plan.Filter)
	}
	f := ssh()
	f.Src = plan.Filter.Orig.Src
	if ok, err := plan.Match(f); !ok || err != nil {
		t.Errorf("Match = %v, %v", ok, err)
	}
	// A count's variable is only known when the script runs.
	p, err = CompileProgram("", "let n = count\nlist where dport == n", nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, err = p.Steps[1].(*PlanStep).Plan(map[string]any{"n": 22})
	if err != nil || plan.Filter.Orig.Dport != 22 {
		t.Errorf("plan %+v, %v", plan, err)
	}
	// Earlier lines' variables (the shell) are in scope.
	p, err = CompileProgram("", "print n + 1", &Options{Vars: map[string]any{"n": 1}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := p.Steps[0].(*PrintStep).Value.Eval(map[string]any{"n": 1}); err != nil || got != 2 {
		t.Errorf("print n + 1 = %v, %v", got, err)
	}
	if len(p.Vars) != 0 {
		t.Errorf("Vars %v, want none new", p.Vars)
	}
}

func TestGroupPlans(t *testing.T) {
	p, err := CompileProgram("", "count where proto == tcp by dport, src\ntop 10 src by bytes\navg timeout by proto\ntop 2 dport", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, st := range p.Steps {
		ps := st.(*PlanStep)
		plan := ps.plan
		if plan.Action != engine.ActGroup {
			t.Fatalf("%s: action %v", ps.Keyword, plan.Action)
		}
		got = append(got, append(ps.Columns, plan.Group.Agg.String(), string(rune('0'+len(plan.Group.By))), string(rune('0'+plan.Limit+1))))
	}
	want := [][]string{
		{"dport", "src", "count", "count", "2", "0"},
		{"src", "bytes", "sum", "1", ";"},
		{"proto", "avg", "avg", "1", "0"},
		{"dport", "count", "count", "1", "3"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q\nwant %q", got, want)
	}
}

func TestSource(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("lib.ctq", "let p = 22\n")
	write("main.ctq", "source \"lib.ctq\"\nlist where dport == p\n")
	write("bad.ctq", "count\nlist where dprt == 1\n")
	write("loop.ctq", "source \"loop.ctq\"\n")
	main := filepath.Join(dir, "main.ctq")
	p, err := CompileProgram(main, "source \"lib.ctq\"\nlist where dport == p\n", &Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if got := describeSteps(p.Steps); got != "let p list" {
		t.Errorf("steps %q", got)
	}
	if at := p.Steps[0].Where(); at.File != filepath.Join(dir, "lib.ctq") || at.Line != 1 {
		t.Errorf("site %+v", at)
	}
	_, err = CompileProgram(main, "count\nsource \"bad.ctq\"", &Options{Dir: dir})
	var le *Error
	if !asError(err, &le) || le.File != filepath.Join(dir, "bad.ctq") || le.Line != 2 || le.Col != 12 {
		t.Errorf("error in a sourced file: %v (%+v)", err, le)
	}
	_, err = CompileProgram(main, `source "loop.ctq"`, &Options{Dir: dir})
	if err == nil || !strings.Contains(err.Error(), "cycle") {
		t.Errorf("cycle: %v", err)
	}
}

// asError is errors.As for *Error.
func asError(err error, target **Error) bool {
	e, ok := err.(*Error)
	*target = e
	return ok
}

func TestScriptStatementsOutsidePrograms(t *testing.T) {
	s, err := Parse("let x = 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Compile(s.Stmts()[0], nil); err == nil || !strings.Contains(err.Error(), "1:1: `let` is not a query") {
		t.Errorf("Compile(let) = %v", err)
	}
	if _, err := CompileScript("print 1", nil); err == nil {
		t.Error("CompileScript took a print statement")
	}
	// An open block asks the shell for more lines.
	_, err = Parse("if true {\n  print 1")
	var e *Error
	if !asError(err, &e) || !e.Incomplete {
		t.Errorf("open block: %v", err)
	}
}
