package lang

import (
	"slices"
	"strings"
	"testing"
)

// TestStatements checks the statement table against the parser: every
// keyword parses as a statement, Syntax names it, and Table says whether
// the parser reads a table name after it.
func TestStatements(t *testing.T) {
	stmts := Statements()
	if len(stmts) == 0 {
		t.Fatal("no statements")
	}
	for _, s := range stmts {
		if s.Summary == "" || !strings.Contains(s.Syntax, s.Keyword) {
			t.Errorf("%s: summary %q, syntax %q", s.Keyword, s.Summary, s.Syntax)
		}
		_, err := Parse(s.Keyword + " nosuchtable 5 x")
		if err != nil && strings.Contains(err.Error(), "unknown statement") {
			t.Errorf("%s: %v", s.Keyword, err)
		}
		if takes := err != nil && strings.Contains(err.Error(), "unknown table"); takes != s.Table {
			t.Errorf("%s: Table is %v, the parser says %v", s.Keyword, s.Table, err)
		}
		for _, c := range s.Clauses {
			if !slices.Contains(Keywords(), c) {
				t.Errorf("%s: clause %q is not a keyword", s.Keyword, c)
			}
		}
	}
	stmts[0].Clauses[0] = "changed"
	if Statements()[0].Clauses[0] == "changed" {
		t.Error("Statements shares its slices with the table")
	}
}
