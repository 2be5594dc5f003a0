package repl

import (
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"
)

func TestHistoryRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h")
	entries := []string{"count", "list where (proto ==\nudp) as save", "a\nb\nc", `x == "\\"`}
	for _, e := range entries {
		if err := appendHistory(path, e); err != nil {
			t.Fatal(err)
		}
	}
	got, err := loadHistory(path)
	if err != nil || !reflect.DeepEqual(got, entries) {
		t.Errorf("loadHistory = %q, %v; want %q", got, err, entries)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("history file mode: %v, %v", fi.Mode(), err)
	}
}

func TestHistoryFile(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		want       []string
	}{
		{"missing", "", nil},
		{"plain lines (readline's format)", "count\nlist\n", []string{"count", "list"}},
		{"continued", "list where (a ==\\\n1)\ncount\n", []string{"list where (a ==\n1)", "count"}},
		{"cut short", "list where (a ==\\\n", []string{"list where (a =="}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "h")
			if tc.file != "" {
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			got, err := loadHistory(path)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("loadHistory = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestHistoryLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3*historyLimit + 7 {
		f.WriteString(encodeHistory("count " + strconv.Itoa(i)))
	}
	f.Close()
	got, err := loadHistory(path)
	if err != nil || len(got) != historyLimit || got[len(got)-1] != "count "+strconv.Itoa(3*historyLimit+6) {
		t.Errorf("loadHistory kept %d entries, last %q, %v", len(got), got[len(got)-1], err)
	}
}
