package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// settleLimit bounds the wait for the kernel to free the entries of
// removed namespaces.
const settleLimit = 2 * time.Minute

// settleSlack is how many allocated entries above the baseline count as
// settled (the host's own traffic comes and goes).
const settleSlack = 2000

// liveConntracks is the number of conntrack entries allocated in the
// whole kernel, every namespace included: the active objects of the
// nf_conntrack slab cache.
func liveConntracks() (int, error) {
	f, err := os.Open("/proc/slabinfo")
	if err != nil {
		return 0, fmt.Errorf("read conntrack slab: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 1 && fields[0] == "nf_conntrack" {
			n, err := strconv.Atoi(fields[1])
			if err != nil {
				return 0, fmt.Errorf("read conntrack slab: active objects %q: %w", fields[1], err)
			}
			return n, nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read conntrack slab: %w", err)
	}
	return 0, fmt.Errorf("read conntrack slab: no nf_conntrack cache in /proc/slabinfo")
}

// settle waits until the kernel is done with the namespaces removed
// before, which it does in the background (freeing their entries, and
// walking the whole hash table for every address and device that went
// away), slowing whatever runs meanwhile: until no more than
// baseline+settleSlack entries are allocated and the CPUs are idle.
func settle(ctx context.Context, baseline int) error {
	return poll(ctx, settleLimit, func() (bool, error) {
		n, err := liveConntracks()
		if err != nil || n > baseline+settleSlack {
			return false, err
		}
		idle, err := idleShare(ctx, settleWindow)
		return idle >= settleIdle, err
	})
}

// settleWindow is how long the CPUs are watched; settleIdle the share of
// that time they must be idle.
const (
	settleWindow = 250 * time.Millisecond
	settleIdle   = 0.9
)

// idleShare is the share of the CPUs' time spent idle during window.
func idleShare(ctx context.Context, window time.Duration) (float64, error) {
	idle0, total0, err := cpuTimes()
	if err != nil {
		return 0, err
	}
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(window):
	}
	idle1, total1, err := cpuTimes()
	if err != nil || total1 == total0 {
		return 0, err
	}
	return float64(idle1-idle0) / float64(total1-total0), nil
}

// cpuTimes returns the idle (idle and iowait) and total time of all CPUs
// from /proc/stat, in clock ticks.
func cpuTimes() (idle, total uint64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("read CPU times: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return 0, 0, fmt.Errorf("read CPU times: unexpected first line %q of /proc/stat", line)
	}
	for i, f := range fields[1:] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("read CPU times: %q: %w", f, err)
		}
		total += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return idle, total, nil
}
