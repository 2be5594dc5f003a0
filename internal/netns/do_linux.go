package netns

import (
	"fmt"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// Do runs fn on an OS thread that has entered the named network namespace
// and returns fn's error (or why the thread could not enter); with name
// empty it calls fn directly. Sockets fn opens belong to the namespace and
// stay there after fn returns. The thread never returns to the Go
// scheduler: it ends with fn, so no other goroutine ever runs in the
// namespace.
func Do(name string, fn func() error) error {
	if name == "" {
		return fn()
	}
	path, err := Path(name)
	if err != nil {
		return fmt.Errorf("enter network namespace: %w", err)
	}
	errc := make(chan error, 1)
	go func() {
		// No UnlockOSThread: the runtime ends a locked thread whose
		// goroutine exits, so no other goroutine runs in the namespace.
		runtime.LockOSThread()
		f, err := os.Open(path)
		if err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", name, err)
			return
		}
		defer f.Close()
		if err := Enter(f); err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// Enter moves the calling goroutine's thread into the network namespace of
// the namespace file f (a file of Dir, or /proc/.../ns/net). The caller
// must have locked the goroutine to its thread (runtime.LockOSThread) and
// let the thread end with the goroutine, so that nothing else ever runs in
// the namespace.
func Enter(f *os.File) error {
	// CLONE_NEWNET: join the namespace's network stack only.
	return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
}
