package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExamples runs every example script that only reads against a saved
// table.
func TestExamples(t *testing.T) {
	scripts, err := filepath.Glob("../../examples/*.ctq")
	if err != nil || len(scripts) == 0 {
		t.Fatalf("no examples found: %v", err)
	}
	for _, s := range scripts {
		b, err := os.ReadFile(s)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "\ndelete ") {
			continue // changes the table: TestExampleKillHost
		}
		t.Run(filepath.Base(s), func(t *testing.T) {
			out, stderr, rc := ctq(t, "--from", "../../repl/testdata/table.save", s)
			if rc != 0 || strings.TrimSpace(out) == "" && !strings.Contains(s, "alert") {
				t.Errorf("exit %d, stdout %q, stderr %q", rc, out, stderr)
			}
		})
	}
}
