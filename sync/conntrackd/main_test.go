package conntrackd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// stamp is the date and process of conntrackd's message lines.
var stamp = regexp.MustCompile(`(?m)^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}\] \(pid=\d+\) `)

// mainOut runs Main and returns its outputs, stamps masked, and exit code.
func mainOut(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errs bytes.Buffer
	code = Main(context.Background(), args, Env{Prog: "conntrackd", Stdout: &out, Stderr: &errs,
		Background: func([]string) error { t.Fatal("Main started a background process"); return nil }})
	return stamp.ReplaceAllString(out.String(), "[T] "), stamp.ReplaceAllString(errs.String(), "[T] "), code
}

// TestMain checks Main's answers that need no daemon against conntrackd
// 1.4.7's (run on the same command lines).
func TestMainWithoutDaemon(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "c.conf")
	text := "Sync {\n Mode FTFW { }\n UDP { IPv4_address 192.0.2.1\n IPv4_Destination_Address 192.0.2.2\n Port 3780\n Interface lo\n }\n}\n" +
		"General {\n LockFile " + dir + "/c.lock\n UNIX { Path " + dir + "/c.sock }\n}\n"
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	stats := filepath.Join(dir, "stats.conf")
	if err := os.WriteFile(stats, []byte("General {\n UNIX { Path "+dir+"/s.sock }\n}\nStats {\n LogFile on\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args            []string
		stdout, stderr  string
		code            int
		stdoutHasUsage  bool
		stderrHasPrefix string
	}{
		{args: []string{"-C", filepath.Join(dir, "none.conf"), "-s"}, stderr: "[T] [ERROR] can't open config file `" + filepath.Join(dir, "none.conf") + "'\n", code: 1},
		{args: []string{"-C", conf, "-s"}, stderr: "[T] [ERROR] can't connect: is conntrackd running? appropriate permissions?\n", code: 1},
		{args: []string{"-C", conf, "-k"}, stderr: "[T] [ERROR] can't connect: is conntrackd running? appropriate permissions?\n", code: 1},
		{args: []string{"-v"}, stdout: Version()},
		{args: []string{"-Z"}, stdoutHasUsage: true, stderr: "[T] [ERROR] Unknown option: -Z\n"},
		{args: []string{"-C", conf, "-x"}, stdoutHasUsage: true, stderr: "[T] [ERROR] Invalid parameters\n", code: 1},
		{args: []string{"-C", conf, "-s", "bogus"}, stderr: "[T] [ERROR] unknown parameter `bogus' for option `-s'\n", code: 1},
		{args: []string{"-C", stats, "-s"}, stderr: "[T] [ERROR] can't connect: is conntrackd running? appropriate permissions?\n", code: 1},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			stdout, stderr, code := mainOut(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			if tt.stdoutHasUsage {
				if stdout != Usage("conntrackd") {
					t.Errorf("stdout %q, want the usage", stdout)
				}
			} else if stdout != tt.stdout {
				t.Errorf("stdout %q, want %q", stdout, tt.stdout)
			}
			if tt.stderrHasPrefix != "" {
				if !strings.HasPrefix(stderr, tt.stderrHasPrefix) {
					t.Errorf("stderr %q, want it to start with %q", stderr, tt.stderrHasPrefix)
				}
			} else if stderr != tt.stderr {
				t.Errorf("stderr %q, want %q", stderr, tt.stderr)
			}
		})
	}
}
