package daemon

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
// under load. A thread inherits its creator's policy, so threads the Go
// runtime starts later get it too; one started while the threads are
// being set (by a thread not set yet) is caught by reading the thread
// list again until a read shows no thread that was not set before it.
func applyScheduler(sc *config.Scheduler) error {
	if sc == nil || sc.Policy == config.SchedOther {
		return nil
	}
	attr := &unix.SchedAttr{Policy: uint32(sc.Policy), Priority: uint32(sc.Priority)}
	set := map[int]bool{}
	for {
		tasks, err := os.ReadDir("/proc/self/task")
		if err != nil {
			return fmt.Errorf("scheduler: %w", err)
		}
		fresh := 0
		for _, t := range tasks {
			tid, err := strconv.Atoi(t.Name())
			if err != nil || set[tid] {
				continue
			}
			fresh++
			if err := unix.SchedSetAttr(tid, attr, 0); err != nil && err != unix.ESRCH {
				return fmt.Errorf("scheduler (line %d): set policy %d priority %d: %w (needs root or CAP_SYS_NICE)", sc.Line, sc.Policy, sc.Priority, err)
			}
			set[tid] = true
		}
		if fresh == 0 {
			return nil
		}
	}
}
