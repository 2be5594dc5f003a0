package repl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestLoadBadInput checks that a load file that cannot be read as lines
// fails before anything is applied with its line number and exit 2.
func TestLoadBadInput(t *testing.T) {
	good := "-A -t 60 -s 192.0.2.1 -d 192.0.2.2 -p tcp --sport 1 --dport 2 --state ESTABLISHED\n"
	tests := []struct {
		name, content, want string
	}{
		{"line over the limit", good + "# c\n-A " + strings.Repeat("x", maxLoadLine+10) + "\n" + good,
			"x.load:3: line longer than 1048576 bytes"},
		{"last line over the limit, no newline", good + strings.Repeat(" ", 2*maxLoadLine),
			"x.load:2: line longer than 1048576 bytes"},
		{"bad option", good + "-A --bogus\n", "x.load:2:4: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.load")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			s := offline(&out, &errb)
			defer s.Close()
			err := s.Run(context.Background(), "script.ctq", `load "`+path+`"`)
			if code := ExitCode(err); code != ExitUsage {
				t.Fatalf("exit %d (%v), want %d", code, err, ExitUsage)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}
