package account

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// logFile is an append-only file that can be reopened by name.
type logFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// logMode is the mode of a log file account creates, whatever the umask.
const logMode = 0o640

// openLog opens path for appending, creating it (mode 0640) if needed; see
// openAppend.
func openLog(path string) (*logFile, error) {
	l := &logFile{path: path}
	if err := l.reopen(); err != nil {
		return nil, err
	}
	return l, nil
}

// Write appends b to the current file.
func (l *logFile) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(b)
}

// reopen opens the path again and closes the old file; on failure the old
// file stays.
func (l *logFile) reopen() error {
	f, err := openAppend(l.path)
	if err != nil {
		return err
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	if old != nil {
		if err := old.Close(); err != nil {
			return fmt.Errorf("close the old log: %w", err)
		}
	}
	return nil
}

// Close closes the current file.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// openAppend opens path for appending. It refuses a symbolic link in
// path's place (O_NOFOLLOW: account often runs as root, in a directory
// others may write to) and anything but a regular file or a FIFO (a device
// would swallow the log). A FIFO (a log shipper reading it) must have a
// reader when account opens it: the open does not wait for one, and writes
// then wait for the reader, so a slow reader holds account back, and the
// kernel the destroyed entries, rather than losing records. A file it creates gets logMode whatever
// the umask; an existing file keeps its mode.
func openAppend(path string) (*os.File, error) {
	if fi, err := os.Lstat(path); err == nil {
		if err := checkRegular(path, fi); err != nil {
			return nil, err
		}
	}
	const flags = os.O_WRONLY | os.O_APPEND | openFlags
	for range 3 {
		f, err := os.OpenFile(path, flags, 0)
		created := false
		if errors.Is(err, fs.ErrNotExist) {
			// O_EXCL: a file (or link) made since is not taken for ours.
			f, err = os.OpenFile(path, flags|os.O_CREATE|os.O_EXCL, logMode)
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			created = err == nil
		}
		if err != nil {
			if isNoReader(err) {
				return nil, fmt.Errorf("open log %s: it is a FIFO no process reads (start the reader first)", path)
			}
			if isLoop(err) {
				return nil, fmt.Errorf("open log %s: it is a symbolic link (refused: give the file itself)", path)
			}
			return nil, fmt.Errorf("open log: %w", err)
		}
		fi, err := f.Stat()
		if err == nil {
			err = checkRegular(path, fi)
		} else {
			err = fmt.Errorf("open log: %w", err)
		}
		if err == nil {
			if err = blocking(f); err != nil {
				err = fmt.Errorf("open log %s: %w", path, err)
			}
		}
		if err == nil && created {
			if err = f.Chmod(logMode); err != nil {
				err = fmt.Errorf("open log: %w", err)
			}
		}
		if err != nil {
			f.Close()
			return nil, err
		}
		return f, nil
	}
	return nil, fmt.Errorf("open log %s: it keeps appearing and disappearing", path)
}

// checkRegular refuses a log path that is neither a regular file nor a
// FIFO.
func checkRegular(path string, fi fs.FileInfo) error {
	switch m := fi.Mode(); {
	case m&fs.ModeSymlink != 0:
		return fmt.Errorf("open log %s: it is a symbolic link (refused: give the file itself)", path)
	case !m.IsRegular() && m&fs.ModeNamedPipe == 0:
		return fmt.Errorf("open log %s: not a regular file (%s)", path, kindOf(m))
	}
	return nil
}

// kindOf names the type of a file that is not a regular file.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}
