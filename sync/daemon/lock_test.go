package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "run", "lock")
	l, err := takeLock(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock file: %q, %v; want this process's id", b, err)
	}
	// This process holds it: not stale.
	if _, err := takeLock(path); err == nil || !strings.Contains(err.Error(), "lock file "+path+" exists") {
		t.Errorf("second lock: %v", err)
	}
	if err := l.unlock(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("lock file after unlock: %v", err)
	}
	if err := l.unlock(); err != nil {
		t.Errorf("unlock of a removed lock: %v", err)
	}

	// conntrackd's lock files are empty: never stale.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := takeLock(path); err == nil {
		t.Error("took an empty lock file over")
	}
	// A lock file of a process that is gone (a killed node) is stale.
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, fmt.Appendf(nil, "%d\n", dead.Process.Pid), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err = takeLock(path)
	if err != nil {
		t.Fatalf("stale lock: %v", err)
	}
	l.unlock()
}
