package nstest

import "ctq/internal/netns"

// Do runs fn on an OS thread that has entered the namespace and returns
// fn's error (or why the thread could not enter). Sockets fn opens belong
// to the namespace and stay there after fn returns. The thread is never
// returned to the Go scheduler: it ends with fn, so no other goroutine
// ever runs in the namespace.
func (n *NS) Do(fn func() error) error {
	return netns.Do(n.name, fn)
}
