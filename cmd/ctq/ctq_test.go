package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// ctq runs ctq in-process and returns stdout, stderr and the exit code.
func ctq(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	rc := run(args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), rc
}

func TestBadFormatIsUsage(t *testing.T) {
	t.Parallel()
	out, stderr, rc := ctq(t, "-o", "yaml", "-e", "count")
	if rc != 2 || out != "" || !strings.Contains(stderr, "json") {
		t.Errorf("-o yaml: exit %d, stdout %q, stderr %q; want 2 and the valid formats", rc, out, stderr)
	}
}

func TestTypoRunsNothing(t *testing.T) {
	t.Parallel()
	out, stderr, rc := ctq(t, "-e", "count", "-e", "list where dprt == 22")
	if rc != 2 {
		t.Errorf("exit %d, want 2", rc)
	}
	if out != "" {
		t.Errorf("a statement ran before the typo was reported: %q", out)
	}
	for _, want := range []string{"2:12", "dprt", "dport", "^"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("error %q does not mention %q", stderr, want)
		}
	}
}

// buildCtq builds the ctq binary into a directory every user can read.
func buildCtq(t *testing.T, flags ...string) string {
	t.Helper()
	// Not t.TempDir: its parent is private to root, and the binary must be
	// reachable for the user nobody.
	dir, err := os.MkdirTemp("", "ctq-build")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "ctq")
	if out, err := exec.Command("go", append(append([]string{"build"}, flags...), "-o", bin, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("build ctq: %v\n%s", err, out)
	}
	return bin
}
