package main

import (
	"bytes"
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"ctq/engine/format"
	"ctq/internal/cli"
	"ctq/lang"
	"ctq/repl"
)

// The committed files, relative to this package.
const (
	manDir  = "../../docs/man"
	compDir = "../../contrib/completion"
)

// committed returns the committed copy of a generated file.
func committed(t *testing.T, f file) string {
	t.Helper()
	dir := compDir
	if f.man {
		dir = manDir
	}
	b, err := os.ReadFile(filepath.Join(dir, f.name))
	if err != nil {
		t.Fatalf("%v (run go generate ./cmd/ctqdoc)", err)
	}
	return string(b)
}

// files generates the files with the committed man page's date.
func files(t *testing.T) map[string]string {
	t.Helper()
	page, err := os.ReadFile(filepath.Join(manDir, "ctq.8"))
	if err != nil {
		t.Fatal(err)
	}
	date, ok := manDate(string(page))
	if !ok {
		t.Fatal("the committed ctq.8 has no .TH line")
	}
	fs, err := generate("", date)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range fs {
		out[f.name] = string(f.data)
	}
	return out
}

// TestCommittedFilesAreCurrent fails when the man page or a completion
// script differs from what the grammar, help, flags and exit codes make
// of it now.
func TestCommittedFilesAreCurrent(t *testing.T) {
	page, _ := os.ReadFile(filepath.Join(manDir, "ctq.8"))
	date, _ := manDate(string(page))
	fs, err := generate("", date)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fs {
		if got := committed(t, f); got != string(f.data) {
			t.Errorf("%s is not what ctqdoc generates from the grammar now: run go generate ./cmd/ctqdoc", f.name)
		}
	}
}

// TestGenerateIsDeterministic generates twice.
func TestGenerateIsDeterministic(t *testing.T) {
	a, b := files(t), files(t)
	for name := range a {
		if a[name] != b[name] {
			t.Errorf("%s differs between two runs", name)
		}
	}
}

// TestPageDate keeps the date of an unchanged page and takes today's for
// a changed one.
func TestPageDate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ctq.8")
	d, err := gather()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(manPage(d, "", "2001-02-03")), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := pageDate(path, ""); err != nil || got != "2001-02-03" {
		t.Errorf("unchanged page: date %q, %v", got, err)
	}
	if got, _ := pageDate(path, "1.0"); got == "2001-02-03" {
		t.Errorf("changed page kept its date")
	}
}

// section returns the roff source of a man page section.
func section(page, title string) string {
	_, rest, ok := strings.Cut(page, ".SH "+quoteArg(title)+"\n")
	if !ok {
		return ""
	}
	body, _, _ := strings.Cut(rest, "\n.SH ")
	return body
}

// TestManCoversGrammar fails when the man page lacks a statement, field,
// table, constant, format, flag, sync action, exit code or help topic.
func TestManCoversGrammar(t *testing.T) {
	page := files(t)["ctq.8"]
	// Words as the page writes them: minus signs escaped, bold.
	bold := func(w string) string { return `\fB` + esc(w) + `\fR` }
	stmts := section(page, "STATEMENTS")
	for _, s := range lang.Statements() {
		if !regexp.MustCompile(`(?m)^\.SS "([a-z]+, )*` + regexp.QuoteMeta(s.Keyword) + `\b`).MatchString(stmts) {
			t.Errorf("STATEMENTS has no subsection for %s", s.Keyword)
		}
		if !strings.Contains(stmts, bold(strings.SplitN(s.Syntax, " ", 2)[0])) {
			t.Errorf("STATEMENTS lacks the syntax of %s", s.Keyword)
		}
	}
	fields := section(page, "FIELDS")
	for _, w := range append(append(lang.Fields(), lang.ExpectFields()...), lang.Tables()...) {
		if !strings.Contains(fields, bold(w)) && !strings.Contains(section(page, "TABLES"), bold(w)) {
			t.Errorf("the page lacks field or table %s", w)
		}
	}
	for _, w := range lang.Tables() {
		if !strings.Contains(section(page, "TABLES"), bold(w)) {
			t.Errorf("TABLES lacks %s", w)
		}
	}
	for _, w := range lang.Constants() {
		if !strings.Contains(fields, bold(w)) {
			t.Errorf("FIELDS lacks constant %s", w)
		}
	}
	for _, w := range format.Names() {
		if !strings.Contains(section(page, "OUTPUT FORMATS"), ".TP\n"+bold(w)+"\n") {
			t.Errorf("OUTPUT FORMATS lacks %s", w)
		}
	}
	d, err := gather()
	if err != nil {
		t.Fatal(err)
	}
	opts := section(page, "OPTIONS")
	syn := section(page, "SYNOPSIS")
	for _, f := range d.flags {
		if !strings.Contains(opts, `\fB\-\-`+esc(f.Long)+`\fR`) {
			t.Errorf("OPTIONS lacks --%s", f.Long)
		}
		name := `\-\-` + esc(f.Long)
		if f.Short != "" {
			name = `\-` + esc(f.Short)
		}
		if !strings.Contains(syn, `[\fB`+name+`\fR`) {
			t.Errorf("SYNOPSIS lacks %s", name)
		}
	}
	for _, s := range d.sync {
		if !strings.Contains(section(page, "SYNC"), bold("sync "+s.name)) {
			t.Errorf("SYNC lacks sync %s", s.name)
		}
	}
	for _, code := range exitConstants(t) {
		if !strings.Contains(section(page, "EXIT STATUS"), ".TP\n"+bold(strconv.Itoa(code))+"\n") {
			t.Errorf("EXIT STATUS lacks exit code %d of repl/exit.go", code)
		}
	}
	// Every help topic is a statement or a section of its own.
	var out bytes.Buffer
	s := repl.NewSession(repl.Config{Stdout: &out, Stderr: &out})
	defer s.Close()
	if err := s.Run(context.Background(), "", "help"); err != nil {
		t.Fatal(err)
	}
	_, topics, ok := strings.Cut(out.String(), "Topics: ")
	if !ok {
		t.Fatalf("help lists no topics: %q", out.String())
	}
	topics, _, _ = strings.Cut(topics, ".")
	sections := map[string]string{"fields": "FIELDS", "formats": "OUTPUT FORMATS"}
	for _, sub := range subjects {
		sections[sub.name] = sub.text
	}
	for _, st := range lang.Statements() {
		sections[st.Keyword] = "STATEMENTS"
	}
	for _, topic := range strings.Split(topics, ", ") {
		if title, ok := sections[topic]; !ok || section(page, title) == "" {
			t.Errorf("help topic %s has no section in the man page", topic)
		}
	}
}

// exitConstants are the values of the Exit constants of repl/exit.go.
func exitConstants(t *testing.T) []int {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "../../repl/exit.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var codes []int
	for _, decl := range f.Decls {
		g, ok := decl.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			v := spec.(*ast.ValueSpec)
			for i, n := range v.Names {
				if !strings.HasPrefix(n.Name, "Exit") || i >= len(v.Values) {
					continue
				}
				lit, ok := v.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("%s is not a literal", n.Name)
				}
				c, err := strconv.Atoi(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				codes = append(codes, c)
			}
		}
	}
	if len(codes) < 4 {
		t.Fatalf("found exit codes %v in repl/exit.go", codes)
	}
	return codes
}

// TestExamplesCompile compiles the statement of every example.
func TestExamplesCompile(t *testing.T) {
	re := regexp.MustCompile(`-e '([^']*)'`)
	for _, e := range examples {
		m := re.FindStringSubmatch(e.name)
		if m == nil {
			t.Errorf("example %q has no -e statement", e.name)
			continue
		}
		if _, err := lang.CompileProgram("", m[1], &lang.Options{Formats: format.Names()}); err != nil {
			t.Errorf("example %q: %v", e.name, err)
		}
		for _, w := range strings.Fields(e.name) {
			if strings.HasPrefix(w, "-") && !strings.HasPrefix(w, "-e") {
				name, _, _ := strings.Cut(strings.TrimLeft(w, "-"), "=")
				if _, ok := cli.Lookup(name); !ok {
					t.Errorf("example %q: no flag %s", e.name, w)
				}
			}
		}
	}
}

// TestCompletionsCoverGrammar fails when a completion script lacks a
// statement keyword, a format name after -o, or a flag.
func TestCompletionsCoverGrammar(t *testing.T) {
	fs := files(t)
	d, err := gather()
	if err != nil {
		t.Fatal(err)
	}
	// The part of each script that completes -e's statements and -o's
	// formats.
	block := func(script, start, end string) string {
		_, rest, ok := strings.Cut(script, start)
		if !ok {
			t.Errorf("no %q in the script", start)
			return ""
		}
		b, _, _ := strings.Cut(rest, end)
		return b
	}
	parts := map[string][2]string{
		"ctq.bash": {block(fs["ctq.bash"], "    -e|--exec)", ";;"), block(fs["ctq.bash"], "    -o|--output)", ";;")},
		"_ctq":     {block(fs["_ctq"], "_ctq_statements() {", "}"), block(fs["_ctq"], "_ctq_formats() {", "}")},
		"ctq.fish": {block(fs["ctq.fish"], "function __fish_ctq_statements", "\nend"), block(fs["ctq.fish"], "function __fish_ctq_formats", "\nend")},
	}
	words := regexp.MustCompile(`[\w-]+`)
	has := func(text, w string) bool {
		for _, x := range words.FindAllString(text, -1) {
			if x == w {
				return true
			}
		}
		return false
	}
	for name, p := range parts {
		for _, s := range lang.Statements() {
			if !has(p[0], s.Keyword) {
				t.Errorf("%s does not complete statement %s after -e", name, s.Keyword)
			}
		}
		for _, f := range format.Names() {
			if !has(p[1], f) {
				t.Errorf("%s does not complete format %s after -o", name, f)
			}
		}
	}
	if !strings.Contains(fs["_ctq"], `{-o,--output=}'[default output format]:output format:_ctq_formats'`) {
		t.Error("_ctq does not complete formats after -o")
	}
	if !strings.Contains(fs["ctq.fish"], "complete -c ctq -s o -l output -x -a '(__fish_ctq_formats)'") {
		t.Error("ctq.fish does not complete formats after -o")
	}
	for _, f := range d.flags {
		for _, n := range flagNames(f) {
			for name, script := range fs {
				if name == "ctq.8" {
					continue
				}
				flag := n
				if name == "ctq.fish" {
					flag = " -l " + f.Long
					if len(n) == 2 {
						flag = " -s " + f.Short
					}
				}
				if !strings.Contains(script, flag) {
					t.Errorf("%s lacks flag %s", name, n)
				}
			}
		}
	}
}

// TestBashCompletes runs the bash completion function.
func TestBashCompletes(t *testing.T) {
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	script := files(t)["ctq.bash"]
	complete := func(words ...string) []string {
		t.Helper()
		var b strings.Builder
		b.WriteString(script + "\nCOMP_WORDS=(")
		for _, w := range words {
			b.WriteString(shWord(w) + " ")
		}
		b.WriteString(")\nCOMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n_ctq\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
		out, err := exec.Command("bash", "--norc", "--noprofile", "-c", b.String()).CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v: %s", words, err, out)
		}
		return strings.Fields(string(out))
	}
	for _, tt := range []struct {
		words []string
		want  string
	}{
		{[]string{"ctq", "-o", ""}, strings.Join(format.Names(), " ")},
		{[]string{"ctq", "--output", "js"}, "json"},
		{[]string{"ctq", "-e", "'li"}, "list"},
		{[]string{"ctq", "-e", "co"}, "count"},
		{[]string{"ctq", "-e", "\"sy"}, "sync"},
		{[]string{"ctq", "-e", "'list wh"}, ""},
		{[]string{"ctq", "--ver"}, "--version"},
		{[]string{"ctq", "-o", "json", "--n"}, "--netns"},
		{[]string{"ctq", "conntr"}, "conntrack conntrackd"},
		{[]string{"ctq", "conntrack", "--orig-"}, "--orig-src --orig-dst --orig-zone"},
		{[]string{"ctq", "conntrack", "-D", "-p", "udp", "--dst-n"}, "--dst-nat"},
		{[]string{"ctq", "conntrackd", "--ver"}, ""},
	} {
		if got := strings.Join(complete(tt.words...), " "); got != tt.want {
			t.Errorf("%q: got %q, want %q", tt.words, got, tt.want)
		}
	}
	var kws []string
	for _, s := range lang.Statements() {
		kws = append(kws, s.Keyword)
	}
	if got := strings.Join(complete("ctq", "-e", "'"), " "); got != strings.Join(kws, " ") {
		t.Errorf("-e ': got %q, want every keyword", got)
	}
}

// tool returns the path of a checker, skipping the test without it
// unless CI requires it (CTQ_INTEGRATION=require; .ci/run installs them).
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CTQ_INTEGRATION") == "require" {
			t.Fatalf("%s is not installed (.ci/run installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// writeFiles writes the generated files into a directory.
func writeFiles(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range files(t) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// quiet runs a checker, which must succeed and print nothing.
func quiet(t *testing.T, env []string, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(tool(t, name), args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

func TestShellSyntax(t *testing.T) {
	dir := writeFiles(t)
	for _, c := range []struct{ shell, file string }{{"bash", "ctq.bash"}, {"zsh", "_ctq"}, {"fish", "ctq.fish"}} {
		t.Run(c.shell, func(t *testing.T) {
			quiet(t, nil, c.shell, "-n", filepath.Join(dir, c.file))
		})
	}
}

func TestManLint(t *testing.T) {
	page := filepath.Join(writeFiles(t), "ctq.8")
	t.Run("mandoc", func(t *testing.T) { quiet(t, nil, "mandoc", "-T", "lint", page) })
	t.Run("groff", func(t *testing.T) { quiet(t, nil, "groff", "-man", "-Tutf8", "-ww", "-z", page) })
	t.Run("man", func(t *testing.T) {
		cmd := exec.Command(tool(t, "man"), "--warnings", "-l", page)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "LC_ALL=C.UTF-8", "MANPAGER=cat", "PAGER=cat")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Errorf("man --warnings -l: %v\n%s", err, stderr.String())
		}
		if !bytes.Contains(out, []byte("STATEMENTS")) {
			t.Errorf("man rendered no STATEMENTS:\n%s", out)
		}
	})
}
