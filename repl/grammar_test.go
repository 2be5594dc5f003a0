package repl

import (
	"slices"
	"strings"
	"testing"

	"ctq/engine/format"
	"ctq/lang"
	"ctq/sync/control"
	"ctq/sync/verb"
)

// TestGrammarAgrees fails when help, completion, the parser and the sync
// control protocol disagree on the grammar.
func TestGrammarAgrees(t *testing.T) {
	c := newCompleter()
	bodies := helpBodies()
	texts := helpTexts()
	start := completions(c, "")
	parses := func(text string) error {
		_, err := lang.CompileProgram("", text, &lang.Options{Formats: format.Names()})
		return err
	}

	// Statements: every keyword the parser has has help and is completed
	// at line start; every word completed there is a statement (or help).
	for _, s := range lang.Statements() {
		if strings.TrimSpace(bodies[s.Keyword]) == "" || !strings.HasPrefix(texts[s.Keyword], s.Syntax+"\n") {
			t.Errorf("statement %s has no help", s.Keyword)
		}
		if !slices.Contains(start, s.Keyword) {
			t.Errorf("statement %s is not completed at line start", s.Keyword)
		}
	}
	for _, w := range start {
		if err := parses(w); w != "help" && err != nil && strings.Contains(err.Error(), "unknown statement") {
			t.Errorf("%s is completed at line start: %v", w, err)
		}
	}
	for _, w := range completions(c, "help ") {
		if _, ok := texts[w]; !ok && w != "fields" {
			t.Errorf("help topic %s is completed, has no text", w)
		}
	}

	// Sync: every action the parser accepts is completed word by word, is
	// in sync's help, and is a control request unless it runs the node.
	for _, action := range verb.Actions(verb.Statement) {
		prog, err := lang.CompileProgram("", "sync "+action, &lang.Options{})
		if err != nil {
			t.Errorf("sync %s: %v", action, err)
			continue
		}
		if got := prog.Steps[0].(*lang.SyncStep).Action; got != action {
			t.Errorf("sync %s parses as %q", action, got)
		}
		words := strings.Fields(action)
		for i, w := range words {
			line := strings.Join(append([]string{"sync"}, words[:i]...), " ") + " "
			if !slices.Contains(completions(c, line), w) {
				t.Errorf("%q: %s is not completed", line, w)
			}
			if !strings.Contains(texts["sync"], w) {
				t.Errorf("help sync lacks %s", w)
			}
		}
		if local := words[0] == verb.Run || words[0] == verb.Start; !local {
			if _, err := control.ParseRequest(action); err != nil {
				t.Errorf("sync %s: %v", action, err)
			}
		}
	}
	for _, w := range completions(c, "sync ") {
		if _, ok := verb.Lookup(w, verb.Statement); !ok {
			t.Errorf("sync %s is completed, is no verb", w)
		}
	}

	// Formats: each is completed after as and set output, and parses.
	for _, name := range format.Names() {
		for _, line := range []string{"list as ", "set output "} {
			if !slices.Contains(completions(c, line), name) {
				t.Errorf("%q: format %s is not completed", line, name)
			}
			if err := parses(line + name); err != nil {
				t.Errorf("%s%s: %v", line, name, err)
			}
		}
	}
	if got := completions(c, "list as "); !slices.Equal(got, format.Names()) {
		t.Errorf("after as: %q, want the formats %q", got, format.Names())
	}

	// Fields, constants and tables.
	for _, f := range append(lang.Fields(), lang.Constants()...) {
		if !slices.Contains(completions(c, "list where "), f) {
			t.Errorf("field %s is not completed after where", f)
		}
	}
	for _, f := range lang.ExpectFields() {
		if !slices.Contains(completions(c, "list expect where "), f) {
			t.Errorf("expect field %s is not completed after where", f)
		}
	}
	for _, s := range lang.Statements() {
		for _, tb := range lang.Tables() {
			if s.Table != slices.Contains(completions(c, s.Keyword+" "), tb) {
				t.Errorf("%s: table %s completed: %v, the statement takes a table: %v", s.Keyword, tb, !s.Table, s.Table)
			}
		}
	}
}
