package daemon

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
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
	// This node holds it: a second one fails, in conntrackd's words.
	want := fmt.Sprintf("lockfile `%s' exists and is locked by process %d, perhaps a sync node is already running?", path, os.Getpid())
	if _, err := takeLock(path); err == nil || err.Error() != want {
		t.Errorf("second lock: %v\nwant %s", err, want)
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

	// conntrackd's lock files are empty: never taken over.
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := takeLock(path); err == nil || !strings.Contains(err.Error(), "lockfile `"+path+"' exists, perhaps conntrackd already running?") {
		t.Errorf("took an empty lock file over: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("conntrackd's lock file after the refusal: %v", err)
	}
}

// deadPID is the process ID of a process that has ended.
func deadPID(t *testing.T) int {
	t.Helper()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	return dead.Process.Pid
}

// TestLockTakeOver: the lock file of a node that was killed (its process
// ID in it, nobody holding its flock) is taken over in place: the same
// file, never removed, so that two nodes starting at once cannot both
// remove a stale lock and both run.
func TestLockTakeOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	if err := os.WriteFile(path, fmt.Appendf(nil, "%d\n", deadPID(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	// Held open, the file keeps its inode number, which a file made
	// again after a removal cannot then get.
	orig, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	before, err := orig.Stat()
	if err != nil {
		t.Fatal(err)
	}
	l, err := takeLock(path)
	if err != nil {
		t.Fatalf("stale lock: %v", err)
	}
	defer l.unlock()
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("the stale lock file was removed and made again, not taken over in place")
	}
	if b, err := os.ReadFile(path); err != nil || strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock file taken over: %q, %v; want this process's id", b, err)
	}
}

// TestLockHeldWithDeadPID: what a lock file says is for people; the
// kernel's lock decides. A file naming a process that is gone but locked
// by a live one (a node that took it over and has not yet written its
// ID) is not taken.
func TestLockHeldWithDeadPID(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	if err := os.WriteFile(path, fmt.Appendf(nil, "%d\n", deadPID(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	holder, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if err := unix.Flock(int(holder.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		t.Fatal(err)
	}
	if l, err := takeLock(path); err == nil {
		l.unlock()
		t.Fatal("took over a lock file another process holds")
	} else if !strings.Contains(err.Error(), "is locked") {
		t.Errorf("error: %v", err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("held lock file after the refusal: %v", err)
	}
	// Once the holder is gone, it is taken over.
	holder.Close()
	l, err := takeLock(path)
	if err != nil {
		t.Fatalf("after the holder ended: %v", err)
	}
	l.unlock()
}

// TestLockInChild: a lock held by another process (a node running) keeps
// a second node out until that process ends, however it ends.
func TestLockInChild(t *testing.T) {
	if _, err := exec.LookPath("flock"); err != nil {
		t.Skip("flock(1) not installed")
	}
	path := filepath.Join(t.TempDir(), "lock")
	if err := os.WriteFile(path, []byte("1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// flock(1) holds the lock while its child (which does not inherit it)
	// reads standard input.
	child := exec.Command("flock", "-x", "-o", path, "cat")
	stdin, err := child.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	// cat echoes a line once flock(1) holds the lock.
	stdin.Write([]byte("held\n"))
	buf := make([]byte, 5)
	if _, err := out.Read(buf); err != nil {
		t.Fatal(err)
	}
	if _, err := takeLock(path); err == nil || !strings.Contains(err.Error(), "is locked by process 1,") {
		t.Errorf("lock held by another process: %v", err)
	}
	child.Process.Kill() // flock(1), the holder
	stdin.Close()        // ends cat
	child.Wait()
	l, err := takeLock(path)
	if err != nil {
		t.Fatalf("after the holder was killed: %v", err)
	}
	l.unlock()
}
