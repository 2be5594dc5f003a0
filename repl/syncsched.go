package repl

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"

	"ctq/sync/config"
)

// applyScheduler puts every thread of the process under General {
// Scheduler } (SCHED_RR or SCHED_FIFO at its priority), as conntrackd
// puts its one thread: so that the node keeps up with the kernel's events
// under load. Threads the Go runtime starts later inherit the policy.
func applyScheduler(sc *config.Scheduler) error {
	if sc == nil || sc.Policy == config.SchedOther {
		return nil
	}
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return fmt.Errorf("scheduler: %w", err)
	}
	attr := &unix.SchedAttr{Policy: uint32(sc.Policy), Priority: uint32(sc.Priority)}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		if err := unix.SchedSetAttr(tid, attr, 0); err != nil && err != unix.ESRCH {
			return fmt.Errorf("scheduler (line %d): set policy %d priority %d: %w (needs root or CAP_SYS_NICE)", sc.Line, sc.Policy, sc.Priority, err)
		}
	}
	return nil
}
