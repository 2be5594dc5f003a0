package nstest

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// netnsDir is where `ip netns` keeps its named namespaces.
const netnsDir = "/var/run/netns"

// Do runs fn on an OS thread that has entered the namespace and returns
// fn's error (or why the thread could not enter). Sockets fn opens belong
// to the namespace and stay there after fn returns. The thread is never
// returned to the Go scheduler: it ends with fn, so no other goroutine
// ever runs in the namespace.
func (n *NS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		// No UnlockOSThread: the runtime ends a locked thread whose
		// goroutine exits.
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join(netnsDir, n.name))
		if err != nil {
			errc <- fmt.Errorf("nstest: enter %s: %w", n.name, err)
			return
		}
		defer f.Close()
		// CLONE_NEWNET: join the namespace's network stack only.
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("nstest: setns %s: %w", n.name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
