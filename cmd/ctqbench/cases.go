package main

import (
	"bytes"
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

// result is the outcome of a case: median wall time, largest peak RSS.
type result struct {
	wall   time.Duration
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
)

func listCase(cfg config) benchCase {
	return benchCase{name: caseCtqList, argv: []string{cfg.ctq, "-e", "list"}, wantLines: -1}
}

func cases(cfg config) []benchCase {
	return []benchCase{
		{name: caseRaw, argv: []string{cfg.self, rawDumpCommand}, wantLines: 1},
		{name: caseConntrack, argv: []string{cfg.conntrack, "-L"}, wantLines: cfg.flows},
		{name: caseCtqList, argv: listCase(cfg).argv, wantLines: cfg.flows},
		{name: caseConnSel, argv: []string{cfg.conntrack, "-L", "-p", "tcp", "--dport", "22"}, wantLines: selected(cfg.flows)},
		{name: caseCtqSel, argv: []string{cfg.ctq, "-e", "count where proto == tcp and dport == 22"}, wantLines: 1},
		{name: caseCtqCT, argv: []string{cfg.ctq, "conntrack", "-L"}, wantLines: cfg.flows},
	}
}

// measure checks once that c prints what it should (a pipe, lines
// counted), then runs it runs times with stdout on /dev/null, as one times
// `conntrack -L > /dev/null`: reading a pipe would load the second core
// and tax the commands that print most.
func measure(ns *namespace, cfg config, runs int, c benchCase) (result, error) {
	var res result
	argv := append([]string{"netns", "exec", ns.name}, c.argv...)
	if c.wantLines >= 0 {
		// Streamed, not buffered: a child's peak RSS starts from this
		// process's, so ctqbench itself must stay small.
		cmd := exec.Command("ip", argv...)
		out, err := cmd.StdoutPipe()
		if err != nil {
			return res, err
		}
		if err := cmd.Start(); err != nil {
			return res, fmt.Errorf("%s: %w", c.name, err)
		}
		res.lines, err = countLines(out)
		if werr := cmd.Wait(); err == nil {
			err = werr
		}
		if err != nil {
			return res, fmt.Errorf("%s: %w", c.name, err)
		}
		if res.lines != c.wantLines {
			return res, fmt.Errorf("%s printed %d lines, want %d", c.name, res.lines, c.wantLines)
		}
	}
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		return res, err
	}
	defer devNull.Close()
	var walls []time.Duration
	for i := 0; i < runs; i++ {
		cmd := exec.Command("ip", argv...)
		cmd.Stdout, cmd.Stderr = devNull, io.Discard
		start := time.Now()
		if err := cmd.Run(); err != nil {
			return res, fmt.Errorf("%s: %w", c.name, err)
		}
		walls = append(walls, time.Since(start))
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok && ru.Maxrss > res.maxRSS {
			res.maxRSS = ru.Maxrss
		}
	}
	res.wall = median(walls)
	return res, nil
}

// report prints the results side by side with the ratios the project
// tracks.
func report(w io.Writer, cfg config, small result, r map[string]result) {
	fmt.Fprintf(w, "%-56s %10s %12s\n", fmt.Sprintf("command (%d flows)", cfg.flows), "time", "peak RSS")
	for _, name := range []string{caseRaw, caseConntrack, caseCtqList, caseConnSel, caseCtqSel, caseCtqCT} {
		x := r[name]
		fmt.Fprintf(w, "%-56s %9.3fs %8.1f MiB\n", name, x.wall.Seconds(), float64(x.maxRSS)/1024)
	}
	ratio := func(a, b string) float64 { return r[a].wall.Seconds() / r[b].wall.Seconds() }
	fmt.Fprintln(w)
	fmt.Fprintf(w, "list vs conntrack -L:               %.2fx  (goal <= 0.70x)\n", ratio(caseCtqList, caseConntrack))
	fmt.Fprintf(w, "list vs raw dump floor:             %.2fx  (goal <= 1.30x)\n", ratio(caseCtqList, caseRaw))
	fmt.Fprintf(w, "selective count vs conntrack -p -d: %.2fx  (goal <= 0.30x)\n", ratio(caseCtqSel, caseConnSel))
	fmt.Fprintf(w, "ctq conntrack -L vs conntrack -L:   %.2fx  (goal <= 0.70x)\n", ratio(caseCtqCT, caseConntrack))
	fmt.Fprintf(w, "ctq list peak RSS: %.1f MiB at %d flows, %.1f MiB at %d flows (goal <= 48 MiB, flat)\n",
		float64(small.maxRSS)/1024, cfg.small, float64(r[caseCtqList].maxRSS)/1024, cfg.flows)
	var self syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &self) == nil {
		fmt.Fprintf(w, "(a child's peak RSS starts from ctqbench's own, %.1f MiB: smaller peaks read as that)\n", float64(self.Maxrss)/1024)
	}
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
