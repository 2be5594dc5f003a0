package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockFile is a sync node's lock file (General { LockFile }), made with
// O_EXCL as conntrackd makes it, so that two nodes (ctq or conntrackd) of
// one configuration do not run at once.
type lockFile struct {
	path string
}

// takeLock creates the lock file path holding this process's ID. A lock
// file that names a process that is gone (a node that was killed) is
// stale and taken over; one without a process ID (conntrackd's are empty)
// is not.
func takeLock(path string) (*lockFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) && staleLock(path) {
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("lock file %s: remove the stale lock: %w", path, err)
		}
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	}
	if errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("lock file %s exists: a sync node (ctq or conntrackd) already runs with it, or one ended without removing it (remove the file if none runs)", path)
	}
	if err != nil {
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	_, werr := fmt.Fprintf(f, "%d\n", os.Getpid())
	if err := errors.Join(werr, f.Close()); err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	return &lockFile{path: path}, nil
}

// staleLock reports whether the lock file names a process that no longer
// exists.
func staleLock(path string) bool {
	b, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// unlock removes the lock file.
func (l *lockFile) unlock() error {
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove lock file: %w", err)
	}
	return nil
}
