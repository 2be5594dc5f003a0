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
	"flag"
	"fmt"
	"os"
	"path/filepath"
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
	flag.IntVar(&cfg.burstFlows, "burst-n", 200000, "flows in the event burst (0: skip it)")
	flag.IntVar(&cfg.syncFlows, "sync-n", 100000, "flows replicated and committed by a conntrackd pair and a ctq pair (0: skip it)")
	flag.IntVar(&cfg.accountFlows, "account-n", 262144, "entries in each round of the flow accounting burst (0: skip it)")
	flag.IntVar(&cfg.syncRuns, "sync-runs", 5, "runs of each sync pair (alternating which goes first; the median is reported)")
	flag.Parse()
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "ctqbench:", err)
		os.Exit(1)
	}
}

// config is ctqbench's command line.
type config struct {
	flows, small, runs int
	deleteFlows        int
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

func run(cfg config) error {
	if cfg.syncRuns < 1 {
		return fmt.Errorf("-sync-runs must be at least 1")
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
	if err := benchList(cfg); err != nil {
		return err
	}
	if cfg.deleteFlows > 0 {
		if err := benchDelete(cfg); err != nil {
			return err
		}
		if err := benchUpdate(cfg); err != nil {
			return err
		}
	}
	if cfg.burstFlows > 0 {
		if err := benchBurst(cfg); err != nil {
			return err
		}
	}
	if cfg.syncFlows > 0 {
		if err := benchSync(cfg); err != nil {
			return err
		}
	}
	if cfg.accountFlows > 0 {
		return benchAccount(cfg)
	}
	return nil
}

// benchList times list and a selective count against conntrack -L and the
// raw dump, and checks that peak memory stays flat as the table grows.
func benchList(cfg config) error {
	ns, err := newNamespace("list")
	if err != nil {
		return err
	}
	defer ns.remove()

	fmt.Printf("ctqbench: namespace %s, %d runs per command\n\n", ns.name, cfg.runs)
	if err := ns.fill(cfg.conntrack, synth, 0, cfg.small); err != nil {
		return err
	}
	small, err := measure(ns, cfg, cfg.runs, listCase(cfg))
	if err != nil {
		return err
	}
	if err := ns.fill(cfg.conntrack, synth, cfg.small, cfg.flows); err != nil {
		return err
	}
	results := map[string]result{}
	for _, c := range cases(cfg) {
		r, err := measure(ns, cfg, cfg.runs, c)
		if err != nil {
			return err
		}
		results[c.name] = r
	}
	report(os.Stdout, cfg, small, results)
	return nil
}
