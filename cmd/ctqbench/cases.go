package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// benchCase is one command run inside the namespace.
type benchCase struct {
	name string
	argv []string
	// wantLines, when not negative, is the number of stdout lines the
	// command must print (a check that it did the work).
	wantLines int
}

// result is the outcome of a case: the wall time of each round, the
// largest peak RSS, and the lines printed in the checked run.
type result struct {
	walls  []time.Duration
	maxRSS int64 // KiB
	lines  int
}

// Case names, used to pair them in the report.
const (
	caseRaw       = "raw netlink dump, no decoding (kernel floor)"
	caseConntrack = "conntrack -L"
	caseCtqList   = "ctq -e list"
	caseConnSel   = "conntrack -L -p tcp --dport 22"
	caseCtqSel    = "ctq -e 'count where proto == tcp and dport == 22'"
	caseCtqCT     = "ctq conntrack -L"
	caseBySrc     = "ctq -e 'count by src'"
	caseTopSrc    = "ctq -e 'top 10 src by bytes'"
	caseByDst     = "ctq -e 'count by dst'"
)

// comparison is one ratio the report gives: a case's time over its
// anchor's, round by round, and the goal for it (0: none).
type comparison struct {
	label  string
	of, to string
	goal   float64
}

// comparisons are the list section's ratios.
func comparisons() []comparison {
	return []comparison{
		{label: "list vs raw dump floor", of: caseCtqList, to: caseRaw, goal: 1.10},
		{label: "list vs conntrack -L", of: caseCtqList, to: caseConntrack, goal: 0.70},
		{label: "selective count vs conntrack -L -p -d", of: caseCtqSel, to: caseConnSel, goal: 0.30},
		{label: "ctq conntrack -L vs conntrack -L", of: caseCtqCT, to: caseConntrack, goal: 0.70},
		{label: "count by src vs raw dump floor", of: caseBySrc, to: caseRaw, goal: 1.30},
		{label: "top 10 src by bytes vs raw dump floor", of: caseTopSrc, to: caseRaw, goal: 1.30},
		{label: "count by dst vs raw dump floor", of: caseByDst, to: caseRaw},
	}
}

// cases are the list section's commands on a table of n flows.
func cases(cfg config, n int) []benchCase {
	return []benchCase{
		{name: caseRaw, argv: []string{cfg.self, rawDumpCommand}, wantLines: 1},
		{name: caseConntrack, argv: []string{cfg.conntrack, "-L"}, wantLines: n},
		{name: caseCtqList, argv: []string{cfg.ctq, "-e", "list"}, wantLines: n},
		{name: caseConnSel, argv: []string{cfg.conntrack, "-L", "-p", "tcp", "--dport", "22"}, wantLines: selected(n)},
		{name: caseCtqSel, argv: []string{cfg.ctq, "-e", "count where proto == tcp and dport == 22"}, wantLines: 1},
		{name: caseCtqCT, argv: []string{cfg.ctq, "conntrack", "-L"}, wantLines: n},
		{name: caseBySrc, argv: []string{cfg.ctq, "-e", "count by src"}, wantLines: distinctSources(n)},
		{name: caseTopSrc, argv: []string{cfg.ctq, "-e", "top 10 src by bytes"}, wantLines: min(10, distinctSources(n))},
		{name: caseByDst, argv: []string{cfg.ctq, "-e", "count by dst"}, wantLines: distinctDestinations(n)},
	}
}

// memoryCases are the ctq commands whose peak RSS is compared between
// the small table and the large one.
func memoryCases() []string { return []string{caseCtqList, caseByDst, caseBySrc, caseTopSrc} }

// benchList times list, counts and groupings against conntrack -L and
// the raw dump, and checks how peak memory grows with the table.
func benchList(ctx context.Context, cfg config) error {
	ns, err := newNamespace("list")
	if err != nil {
		return err
	}
	defer ns.remove()

	fmt.Printf("ctqbench: namespace %s; %s\n\n", ns.name, hashReport(conntrackBucketsPath, cfg.flows))
	if err := ns.fill(cfg.conntrack, synth, 0, cfg.small); err != nil {
		return err
	}
	var smallCases []benchCase
	for _, c := range cases(cfg, cfg.small) {
		for _, name := range memoryCases() {
			if c.name == name {
				smallCases = append(smallCases, c)
			}
		}
	}
	small, err := measureRounds(ctx, ns, cfg.runs, smallCases)
	if err != nil {
		return err
	}
	if err := ns.fill(cfg.conntrack, synth, cfg.small, cfg.flows); err != nil {
		return err
	}
	large, err := measureRounds(ctx, ns, cfg.runs, cases(cfg, cfg.flows))
	if err != nil {
		return err
	}
	report(os.Stdout, cfg, small, large)
	return nil
}

// measureRounds checks once that each case prints what it should (a
// pipe, lines counted), then runs every case once a round for runs
// rounds, the order rotating from round to round, with stdout on
// /dev/null, as one times `conntrack -L > /dev/null`: reading a pipe
// would load the second core and tax the commands that print most.
// Comparing cases of the same round cancels most of what the rest of the
// machine does to both.
func measureRounds(ctx context.Context, ns *namespace, runs int, cs []benchCase) (map[string]*result, error) {
	res := map[string]*result{}
	for _, c := range cs {
		lines, err := checkCase(ctx, ns, c)
		if err != nil {
			return nil, err
		}
		res[c.name] = &result{lines: lines}
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	defer devNull.Close()
	for round := range runs {
		for k := range cs {
			c := cs[(k+round)%len(cs)]
			r := res[c.name]
			cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.name}, c.argv...)...)
			cmd.Stdout, cmd.Stderr = devNull, io.Discard
			start := time.Now()
			if err := cmd.Run(); err != nil {
				return nil, fmt.Errorf("%s: %w", c.name, err)
			}
			r.walls = append(r.walls, time.Since(start))
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > r.maxRSS {
				r.maxRSS = ru.Maxrss
			}
		}
	}
	return res, nil
}

// checkCase runs c once with its output counted, and checks the count.
// The output is streamed, not buffered: a child's peak RSS starts from
// this process's, so ctqbench itself must stay small.
func checkCase(ctx context.Context, ns *namespace, c benchCase) (int, error) {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.name}, c.argv...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("%s: %w", c.name, err)
	}
	lines, err := countLines(out)
	if werr := cmd.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return 0, fmt.Errorf("%s: %w: %s", c.name, err, bytes.TrimSpace(stderr.Bytes()))
	}
	if c.wantLines >= 0 && lines != c.wantLines {
		return 0, fmt.Errorf("%s printed %d lines, want %d", c.name, lines, c.wantLines)
	}
	return lines, nil
}

// report prints the results side by side with the ratios the project
// tracks, each against its anchor of the same round.
func report(w io.Writer, cfg config, small, large map[string]*result) {
	fmt.Fprintf(w, "%-52s %24s %10s\n", fmt.Sprintf("command (%d flows, %d rounds)", cfg.flows, cfg.runs), "median (min-max)", "peak RSS")
	for _, c := range cases(cfg, cfg.flows) {
		x := large[c.name]
		fmt.Fprintf(w, "%-52s %24s %6.1f MiB\n", c.name, durationSpread(x.walls), kib(x.maxRSS))
	}
	fmt.Fprintf(w, "\nratio to the anchor of the same round, median (min-max) of %d rounds:\n", cfg.runs)
	for _, cmp := range comparisons() {
		q := roundRatios(large[cmp.of].walls, large[cmp.to].walls)
		if cmp.goal == 0 {
			fmt.Fprintf(w, "%-40s %s\n", cmp.label+":", ratioSpread(q))
			continue
		}
		fmt.Fprintf(w, "%-40s %-20s goal <= %.2fx  %s\n", cmp.label+":", ratioSpread(q), cmp.goal, verdict(medianRatio(q) <= cmp.goal))
	}
	fmt.Fprintf(w, "\npeak RSS at %d and %d flows (largest of the runs):\n", cfg.small, cfg.flows)
	for _, name := range memoryCases() {
		s, l := small[name], large[name]
		line := fmt.Sprintf("%-40s %6.1f MiB %6.1f MiB", name+":", kib(s.maxRSS), kib(l.maxRSS))
		switch name {
		case caseCtqList:
			fmt.Fprintf(w, "%s  goal <= %d MiB, flat  %s\n", line, rssGoalMiB, verdict(kib(l.maxRSS) <= rssGoalMiB && kib(s.maxRSS) <= rssGoalMiB))
		case caseByDst:
			// As many groups at both sizes: memory must not grow.
			fmt.Fprintf(w, "%s  %d and %d groups: goal <= %d MiB, flat  %s\n", line, s.lines, l.lines, rssGoalMiB, verdict(kib(l.maxRSS) <= rssGoalMiB))
		default:
			gs, gl := distinctSources(cfg.small), distinctSources(cfg.flows)
			per := 0.0
			if gl > gs {
				per = float64(l.maxRSS-s.maxRSS) * 1024 / float64(gl-gs)
			}
			fmt.Fprintf(w, "%s  %d and %d groups: %.0f bytes an added group\n", line, gs, gl, per)
		}
	}
	var self syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) == nil {
		fmt.Fprintf(w, "(a child's peak RSS starts from ctqbench's own, %.1f MiB: smaller peaks read as that)\n", kib(self.Maxrss))
	}
}

// rssGoalMiB is the most a list may take at any table size.
const rssGoalMiB = 32

// kib is an rusage size in MiB.
func kib(k int64) float64 { return float64(k) / 1024 }

// verdict marks a figure against its goal.
func verdict(met bool) string {
	if met {
		return "met"
	}
	return "MISSED"
}

// selected is how many of the synthetic flows are tcp to port 22.
func selected(n int) int {
	k := 0
	for i := 0; i < n; i++ {
		if synth(i).dport == 22 && synth(i).proto == "tcp" {
			k++
		}
	}
	return k
}

// distinctSources is how many source addresses the first n synthetic flows
// have: every IPv6 flow one of its own, the IPv4 flows one of
// synthSources, chosen by the flow's number (a bit set, not a map: the
// peak RSS of ctqbench's children starts from its own).
func distinctSources(n int) int {
	var seen [synthSources / 64]uint64
	k := 0
	for i := 0; i < n; i++ {
		if synth(i).src.Is6() {
			k++
			continue
		}
		j := i % synthSources
		if seen[j/64]&(1<<(j%64)) == 0 {
			seen[j/64] |= 1 << (j % 64)
			k++
		}
	}
	return k
}

// distinctDestinations is how many destination addresses the first n
// synthetic flows have.
func distinctDestinations(n int) int {
	seen := map[[16]byte]struct{}{}
	for i := 0; i < min(n, 800); i++ {
		seen[synth(i).dst.As16()] = struct{}{}
	}
	return len(seen)
}

// countLines reads r to the end and counts newlines.
func countLines(r io.Reader) (int, error) {
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := r.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}
