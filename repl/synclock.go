package repl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// syncLock is a sync node's lock file (General { LockFile }), made with
// O_EXCL as conntrackd makes it, so that two nodes (ctq or conntrackd) of
// one configuration do not run at once.
type syncLock struct {
	path string
}

// lockSync creates the lock file path holding this process's ID.
func lockSync(path string) (*syncLock, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
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
	return &syncLock{path: path}, nil
}

// unlock removes the lock file.
func (l *syncLock) unlock() error {
	if err := os.Remove(l.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove lock file: %w", err)
	}
	return nil
}
