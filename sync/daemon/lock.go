package daemon

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lockFile is a sync node's lock file (General { LockFile }), so that two
// nodes (ctq or conntrackd) of one configuration do not run at once. The
// lock is the kernel's: an exclusive flock on the file, held (the file
// open) for the node's life and released by the kernel when the process
// ends, however it ends. The file holds the node's process ID for people.
type lockFile struct {
	path string
	f    *os.File
}

// lockAttempts bounds how often takeLock starts over when the file it
// locked was removed or replaced meanwhile (a node ending at that moment).
const lockAttempts = 10

// takeLock takes the lock file path and writes this process's ID into it.
//
// A file another process holds the flock of is a running node's: an
// error in conntrackd's words. A file nobody holds is taken over in place,
// never removed, when it holds a process ID (a ctq node that was killed:
// the kernel released its flock); conntrackd makes its lock file with
// O_EXCL and leaves it empty, so an empty file nobody holds is
// conntrackd's and refused, as conntrackd refuses it.
func takeLock(path string) (*lockFile, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("lock file %s: %w", path, err)
	}
	for range lockAttempts {
		l, retry, err := tryLock(path)
		if !retry {
			return l, err
		}
	}
	return nil, fmt.Errorf("lockfile `%s' keeps being replaced, perhaps sync nodes are starting and stopping with it?", path)
}

// tryLock is one attempt of takeLock; retry says that the file locked
// was no longer the one at path.
func tryLock(path string) (l *lockFile, retry bool, err error) {
	created := true
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
	if errors.Is(err, fs.ErrExist) {
		created = false
		f, err = os.OpenFile(path, os.O_RDWR|unix.O_NOFOLLOW, 0)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, true, nil // removed by a node ending meanwhile
		}
	}
	if err != nil {
		return nil, false, fmt.Errorf("lock file %s: %w", path, err)
	}
	how := unix.LOCK_EX | unix.LOCK_NB
	if created {
		// A file this call made can be held only for a moment, by another
		// node looking at it (it then finds it empty and lets go).
		how = unix.LOCK_EX
	}
	for {
		err = unix.Flock(int(f.Fd()), how)
		if !errors.Is(err, unix.EINTR) {
			break
		}
	}
	if errors.Is(err, unix.EWOULDBLOCK) {
		pid := lockPID(f)
		f.Close()
		return nil, false, fmt.Errorf("lockfile `%s' exists and is locked%s, perhaps a sync node is already running?", path, pid)
	}
	if err != nil {
		f.Close()
		return nil, false, fmt.Errorf("lock file %s: flock: %w", path, err)
	}
	// The file may have been removed (or replaced) by the node that held
	// it between the open and the flock: the lock is then on a file
	// nobody else will look at.
	if !samePath(f, path) {
		f.Close()
		return nil, true, nil
	}
	if !created && lockPID(f) == "" {
		f.Close()
		return nil, false, fmt.Errorf("lockfile `%s' exists, perhaps conntrackd already running? (conntrackd's lock file: remove it if no conntrackd runs)", path)
	}
	_, werr := f.Seek(0, io.SeekStart)
	if werr == nil {
		werr = f.Truncate(0)
	}
	if werr == nil {
		_, werr = fmt.Fprintf(f, "%d\n", os.Getpid())
	}
	if werr != nil {
		f.Close()
		return nil, false, fmt.Errorf("lock file %s: %w", path, werr)
	}
	return &lockFile{path: path, f: f}, false, nil
}

// lockPID is " by process N" for the process ID a lock file holds, or ""
// when it holds none.
func lockPID(f *os.File) string {
	b := make([]byte, 32)
	n, _ := f.ReadAt(b, 0)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b[:n])))
	if err != nil || pid <= 0 {
		return ""
	}
	return " by process " + strconv.Itoa(pid)
}

// samePath reports whether f is the file at path.
func samePath(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Lstat(path)
	return err == nil && os.SameFile(fi, pi)
}

// unlock removes the lock file, then lets the lock go (in this order: a
// node starting meanwhile finds the file locked, or gone).
func (l *lockFile) unlock() error {
	if l.f == nil {
		return nil
	}
	var err error
	if samePath(l.f, l.path) {
		if rerr := os.Remove(l.path); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = fmt.Errorf("remove lock file: %w", rerr)
		}
	}
	l.f.Close()
	l.f = nil
	return err
}
