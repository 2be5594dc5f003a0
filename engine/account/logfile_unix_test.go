//go:build unix

package account

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestOpenLogRefuses checks that account writes only to a regular file it
// names itself: a symbolic link planted in its place (dangling or not), a
// FIFO nobody reads or a directory are refused at once, and the link's
// target is left alone.
func TestOpenLogRefuses(t *testing.T) {
	tests := []struct {
		name  string
		plant func(t *testing.T, path, target string)
		want  string
	}{
		{"symlink to a file", func(t *testing.T, path, target string) {
			must(t, os.WriteFile(target, []byte("secret\n"), 0o600))
			must(t, os.Symlink(target, path))
		}, "it is a symbolic link"},
		{"dangling symlink", func(t *testing.T, path, target string) {
			must(t, os.Symlink(target, path))
		}, "it is a symbolic link"},
		{"fifo", func(t *testing.T, path, _ string) {
			must(t, syscall.Mkfifo(path, 0o600))
		}, "a FIFO no process reads"},
		{"directory", func(t *testing.T, path, _ string) {
			must(t, os.Mkdir(path, 0o700))
		}, "not a regular file (a directory)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path, target := filepath.Join(dir, "acct.log"), filepath.Join(dir, "target")
			tt.plant(t, path, target)
			before, _ := os.ReadFile(target)
			type result struct {
				l   *logFile
				err error
			}
			done := make(chan result, 1)
			go func() {
				l, err := openLog(path)
				done <- result{l, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-time.After(5 * time.Second):
				// Blocked on a FIFO without a reader: release it.
				if f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
					defer f.Close()
				}
				r = <-done
				t.Error("openLog blocked")
			}
			l, err := r.l, r.err
			if err == nil {
				l.Close()
				t.Fatal("openLog succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q lacks %q", err, tt.want)
			}
			if after, _ := os.ReadFile(target); string(after) != string(before) {
				t.Errorf("target changed: %q -> %q", before, after)
			}
		})
	}
}

// TestReopenRefusesSymlink: a symbolic link planted after a rotation is
// refused at SIGHUP too, and the old file goes on receiving the log.
func TestReopenRefusesSymlink(t *testing.T) {
	dir := t.TempDir()
	path, target := filepath.Join(dir, "acct.log"), filepath.Join(dir, "target")
	l, err := openLog(path)
	must(t, err)
	defer l.Close()
	must(t, os.Rename(path, path+".1"))
	must(t, os.Symlink(target, path))
	if err := l.reopen(); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("reopen: %v, want a refusal of the symbolic link", err)
	}
	if _, err := l.Write([]byte("still\n")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path + ".1"); string(b) != "still\n" {
		t.Errorf("old file holds %q", b)
	}
	if _, err := os.Lstat(target); err == nil {
		t.Error("the link's target was created")
	}
}

// TestOpenLogMode checks that a new log gets mode 0640 whatever the umask
// and that an existing log keeps its mode.
func TestOpenLogMode(t *testing.T) {
	tests := []struct {
		name     string
		umask    int
		existing os.FileMode // 0: no file before
		want     os.FileMode
	}{
		{"umask 0", 0, 0, 0o640},
		{"umask 077", 0o077, 0, 0o640},
		{"umask 027", 0o027, 0, 0o640},
		{"existing file keeps its mode", 0, 0o600, 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "acct.log")
			if tt.existing != 0 {
				must(t, os.WriteFile(path, nil, tt.existing))
				must(t, os.Chmod(path, tt.existing))
			}
			old := syscall.Umask(tt.umask)
			l, err := openLog(path)
			syscall.Umask(old)
			must(t, err)
			must(t, l.Close())
			fi, err := os.Stat(path)
			must(t, err)
			if got := fi.Mode().Perm(); got != tt.want {
				t.Errorf("mode %v, want %v", got, tt.want)
			}
		})
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
