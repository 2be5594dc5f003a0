package main

import (
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// interrupter ends a run on SIGINT or SIGTERM: it cancels the run's
// context and keeps killing what runs in the run's namespaces, so that
// every section, even one that does not watch the context, fails soon and
// unwinds through its own cleanup (namespaces removed, the limit
// restored); if that takes longer than grace, or a second signal comes,
// it cleans up itself and exits.
type interrupter struct {
	// cancel cancels the run's context with the signal as its cause.
	cancel func(os.Signal)
	// stop kills the processes in the run's namespaces.
	stop func()
	// cleanup removes the run's namespaces and restores the limit; it
	// may be called again by the run itself, and must be idempotent.
	cleanup func()
	exit    func(code int)
	w       io.Writer
	// grace is how long the run may take to unwind, poll how often stop
	// is called meanwhile.
	grace, poll time.Duration
}

// watch waits for the first signal on sigs, or for done (the run has
// cleaned up; nothing is left to do).
func (it *interrupter) watch(sigs <-chan os.Signal, done <-chan struct{}) {
	var sig os.Signal
	select {
	case <-done:
		return
	case sig = <-sigs:
	}
	fmt.Fprintf(it.w, "\nctqbench: %v: stopping; removing the namespaces and restoring nf_conntrack_max\n", sig)
	it.cancel(sig)
	deadline := time.NewTimer(it.grace)
	defer deadline.Stop()
	tick := time.NewTicker(it.poll)
	defer tick.Stop()
	for {
		it.stop()
		select {
		case <-done:
			return
		case <-sigs:
			fmt.Fprintln(it.w, "ctqbench: second signal: cleaning up now")
		case <-deadline.C:
			fmt.Fprintf(it.w, "ctqbench: the run did not stop within %s: cleaning up now\n", it.grace)
		case <-tick.C:
			continue
		}
		it.cleanup()
		it.exit(exitCode(sig))
		return
	}
}

// signalError is the cause of a run's end by a signal.
type signalError struct{ sig os.Signal }

func (e signalError) Error() string { return fmt.Sprintf("interrupted by %v", e.sig) }

// exitCode is a shell's exit status for a process ended by sig: 128 and
// the signal's number.
func exitCode(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
