// Command ctqbench compares ctq with conntrack(8) and with the kernel's raw
// dump on one synthetic table, side by side in one run, and prints the
// ratios and peak memory.
//
//	go build -o ctq ./cmd/ctq && go build -o ctqbench ./cmd/ctqbench
//	sudo ./ctqbench -n 200000 -ctq ./ctq
//
// It creates its own network namespaces, fills them with conntrack -R, runs
// every command inside them several times (median wall time, largest peak
// RSS), and removes them. Besides list and count it times a delete against
// conntrack -D on two identical tables, and counts the events ctq's watch
// and conntrack -E receive during a conntrack -R burst, and compares the
// replication lag and commit time of a ctq sync pair with a conntrackd
// pair, and counts the destroy records ctq's account, ulogd2's NFCT input
// and conntrackd's Stats mode log of a burst of flushed entries. It needs
// root, ip(8), conntrack(8) and conntrackd(8); ulogd is optional.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == rawDumpCommand {
		// Internal: the kernel floor, run by ctqbench inside the namespace.
		if err := rawDump(); err != nil {
			fmt.Fprintln(os.Stderr, "ctqbench rawdump:", err)
			os.Exit(1)
		}
		return
	}
	if len(os.Args) > 1 && os.Args[1] == rawDeleteCommand {
		// Internal: the kernel's cost of the delete benchmark's deletes.
		if err := rawDelete(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "ctqbench rawdelete:", err)
			os.Exit(1)
		}
		return
	}
	cfg := config{}
	flag.IntVar(&cfg.flows, "n", 200000, "flows in the benchmark table")
	flag.IntVar(&cfg.small, "small", 20000, "flows in the small table (peak RSS must stay flat from small to n)")
	flag.IntVar(&cfg.runs, "runs", 3, "runs per command (the median time is reported)")
	flag.StringVar(&cfg.ctq, "ctq", "./ctq", "the ctq binary to measure")
	flag.StringVar(&cfg.conntrack, "conntrack", "conntrack", "the conntrack binary to compare with")
	flag.IntVar(&cfg.deleteFlows, "delete-n", 100000, "flows in the delete benchmark's table, of which 30% are deleted (0: skip it)")
	flag.IntVar(&cfg.updateFlows, "update-n", 100000, "flows in the update benchmark's table (the delete's), of which 35% are updated (0: skip it)")
	flag.IntVar(&cfg.burstFlows, "burst-n", 200000, "flows in the event burst (0: skip it)")
	flag.IntVar(&cfg.syncFlows, "sync-n", 100000, "flows replicated and committed by a conntrackd pair and a ctq pair (0: skip it)")
	flag.IntVar(&cfg.accountFlows, "account-n", 262144, "entries in each round of the flow accounting burst (0: skip it)")
	flag.IntVar(&cfg.syncRuns, "sync-runs", 5, "runs of each sync pair (alternating which goes first; the median is reported)")
	flag.Parse()
	os.Exit(runMain(cfg))
}

// runMain runs the benchmark with nf_conntrack_max raised as the sizes
// need, and on every way out (done, failed, interrupted) removes the
// namespaces and restores the limit; it returns the exit status.
func runMain(cfg config) int {
	lim, err := openLimit(conntrackMaxPath, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ctqbench:", err)
		return 1
	}
	prefix := namespacePrefix(os.Getpid())
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	cleanup := sync.OnceFunc(func() {
		removeNamespaces(prefix)
		if err := lim.restore(); err != nil {
			fmt.Fprintln(os.Stderr, "ctqbench:", err)
		}
	})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	done := make(chan struct{})
	it := &interrupter{
		cancel:  func(sig os.Signal) { cancel(signalError{sig}) },
		stop:    func() { killNamespaces(prefix) },
		cleanup: cleanup,
		exit:    os.Exit,
		w:       os.Stderr,
		grace:   interruptGrace,
		poll:    interruptPoll,
	}
	go it.watch(sigs, done)

	err = run(ctx, cfg, lim)
	cleanup()
	close(done)
	var sig signalError
	if errors.As(context.Cause(ctx), &sig) {
		fmt.Fprintf(os.Stderr, "ctqbench: interrupted (%v)\n", sig.sig)
		return exitCode(sig.sig)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "ctqbench:", err)
		return 1
	}
	return 0
}

// interruptGrace is how long a run may take to unwind after a signal
// before ctqbench cleans up and exits without it; interruptPoll is how
// often the processes in its namespaces are killed meanwhile.
const (
	interruptGrace = time.Minute
	interruptPoll  = 200 * time.Millisecond
)

// config is ctqbench's command line.
type config struct {
	flows, small, runs int
	deleteFlows        int
	updateFlows        int
	burstFlows         int
	syncFlows          int
	accountFlows       int
	syncRuns           int
	ctq, conntrack     string
	self               string // this binary, for the raw dump
	// baseline is how many conntrack entries the kernel held before
	// ctqbench made any (see settle).
	baseline int
}

func run(ctx context.Context, cfg config, lim *connLimit) error {
	if cfg.syncRuns < 1 {
		return fmt.Errorf("-sync-runs must be at least 1")
	}
	if cfg.runs < 1 {
		return fmt.Errorf("-runs must be at least 1")
	}
	if cfg.small >= cfg.flows {
		return fmt.Errorf("-small (%d) must be below -n (%d)", cfg.small, cfg.flows)
	}
	var err error
	if cfg.ctq, err = filepath.Abs(cfg.ctq); err != nil {
		return err
	}
	if _, err := os.Stat(cfg.ctq); err != nil {
		return fmt.Errorf("ctq binary: %w (build it with: go build -o ctq ./cmd/ctq)", err)
	}
	if cfg.self, err = os.Executable(); err != nil {
		return fmt.Errorf("find own binary: %w", err)
	}
	if cfg.baseline, err = liveConntracks(); err != nil {
		return err
	}
	// Each section runs with the limit it needs (entries in one
	// namespace: the kernel counts each namespace's entries against the
	// global limit on their own), on a kernel done with the namespaces of
	// the section before. The accounting burst runs at the limit found:
	// it fills the table to it on purpose.
	sections := []struct {
		flows, limit int
		run          func() error
	}{
		{cfg.flows, cfg.flows, func() error { return benchList(ctx, cfg) }},
		{cfg.deleteFlows, cfg.deleteFlows, func() error { return benchDelete(cfg) }},
		{cfg.updateFlows, cfg.updateFlows, func() error { return benchUpdate(cfg) }},
		{cfg.burstFlows, cfg.burstFlows, func() error { return benchBurst(ctx, cfg) }},
		{cfg.syncFlows, cfg.syncFlows, func() error { return benchSync(ctx, cfg) }},
		{cfg.accountFlows, 0, func() error { return benchAccount(ctx, cfg) }},
	}
	for i, s := range sections {
		if s.flows <= 0 {
			continue
		}
		if i > 0 {
			if err := settle(ctx, cfg.baseline); err != nil {
				if ctx.Err() != nil {
					return fmt.Errorf("interrupted: %w", context.Cause(ctx))
				}
				fmt.Fprintf(os.Stderr, "ctqbench: the kernel has not settled (%v); measuring anyway\n", err)
			}
		}
		if err := lim.need(s.limit); err != nil {
			return err
		}
		if err := s.run(); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return fmt.Errorf("interrupted: %w", context.Cause(ctx))
		}
	}
	return nil
}
