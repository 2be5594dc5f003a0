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
		{"control characters escaped", good + "-A \x1b[2J\x1b]0;x\x07\n", "x.load:2:4: unknown table `\\x1b[2J\\x1b]0;x\\x07'"},
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
			if strings.ContainsAny(err.Error(), "\x1b\x07") {
				t.Errorf("error %q holds control characters", err)
			}
		})
	}
}

// TestBadSavedTable checks that a bad line of a --from file is bad input
// (exit 2) named by its line and, for ctq JSON, its key.
func TestBadSavedTable(t *testing.T) {
	const entry = `{"family":"ipv4","proto":"tcp","protonum":6,"src":"192.0.2.1","dst":"192.0.2.2","sport":1,"dport":2}`
	tests := []struct {
		name, content, want string
	}{
		{"json port", entry + "\n" + strings.Replace(entry, `"sport":1`, `"sport":99999`, 1) + "\n",
			"x.json:2:1: decode json flow: sport: 99999 out of range 0..65535"},
		{"json no protocol", entry + "\n\n" + `{"family":"ipv4"}` + "\n", "x.json:3:1: decode json flow: proto: missing"},
		{"save port", "-A -t 5 -s 198.18.0.1 -d 198.18.0.2 -p tcp --sport 99999 --dport 2\n", "x.json:1:52: invalid port `99999'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			s := NewSession(Config{Stdout: &out, Stderr: &errb, From: path})
			defer s.Close()
			err := s.Run(context.Background(), "", "count")
			if code := ExitCode(err); code != ExitUsage {
				t.Fatalf("exit %d (%v), want %d", code, err, ExitUsage)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
		})
	}
}
