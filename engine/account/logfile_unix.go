//go:build unix

package account

import (
	"errors"
	"os"
	"syscall"
)

// openFlags are the flags openAppend adds: no symbolic link in the file's
// place, no descriptor leaked to children, and no blocking on a FIFO
// without a reader (which is then refused as not a regular file).
const openFlags = syscall.O_NOFOLLOW | syscall.O_CLOEXEC | syscall.O_NONBLOCK

// isLoop reports whether err is O_NOFOLLOW's refusal of a symbolic link.
func isLoop(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}

// blocking clears O_NONBLOCK once f is known to be a regular file (where
// it changes nothing, but the log should not depend on that).
func blocking(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = syscall.SetNonblock(int(fd), false) }); err != nil {
		return err
	}
	return serr
}

// isNoReader reports an open of a FIFO no process reads (ENXIO with
// O_NONBLOCK).
func isNoReader(err error) bool { return errors.Is(err, syscall.ENXIO) }
