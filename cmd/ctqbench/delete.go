package main

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// deleteStmt and deleteArgs are the same delete, in ctq's words and in
// conntrack's. The kernel can check the protocol and the port (ctq pushes
// them down as a dump filter; conntrack 1.4.7 checks them in userspace);
// the state stays in userspace for both.
const deleteStmt = `delete where proto==tcp && dport==22 && state=="ESTABLISHED"`

func deleteArgs() []string {
	return []string{"-D", "-p", "tcp", "--dport", "22", "--state", "ESTABLISHED"}
}

// deleteSpec is flow i of the delete benchmark's table: synth's flows with
// three TCP flows in ten to port 22 in state ESTABLISHED (the delete's
// matches: 30%) and the SYN_SENT ones also to port 22 (the kernel's
// filter passes them, the state check drops them).
func deleteSpec(i int) flowSpec {
	s := synth(i)
	if s.proto == "tcp" && (i%10 < 3 || i%10 == 6) {
		s.dport = 22
	}
	return s
}

// deleteMatches reports whether flow i of the delete table is one the
// delete removes.
func deleteMatches(i int) bool {
	s := deleteSpec(i)
	return s.proto == "tcp" && s.dport == 22 && s.state == "ESTABLISHED"
}

// changeTool is one way of making a benchmark's change.
type changeTool struct {
	name string
	argv []string
	// floor: the tool prints the seconds its work took, which are
	// reported instead of the process's wall time.
	floor bool
	// goal: its ratio to the anchor has the goal of 0.33x.
	goal bool
}

// changeBench is a delete or an update of the delete benchmark's table:
// for each run and tool, the namespace is flushed and filled again, the
// tool runs alone on it, and check must find the table changed as it
// should be. The tools take turns going first; tools[0] is the anchor
// of the ratios. The anchor may fail (conntrack 1.4.7's -U does on any
// table of size): its line then says how, and there are no ratios.
type changeBench struct {
	what       string // "delete", "update"
	n, matches int
	tools      []changeTool
	check      func(ns *namespace) error
}

// benchDelete times the delete of the matches of a deleteFlows-entry
// table against conntrack -D, beside the kernel's cost of the deletes
// alone.
func benchDelete(cfg config) error {
	matches := 0
	for i := range cfg.deleteFlows {
		if deleteMatches(i) {
			matches++
		}
	}
	b := changeBench{what: "delete", n: cfg.deleteFlows, matches: matches, tools: []changeTool{
		{name: "conntrack " + strings.Join(deleteArgs(), " "), argv: append([]string{cfg.conntrack}, deleteArgs()...)},
		{name: "ctq -e '" + deleteStmt + "'", argv: []string{cfg.ctq, "-e", deleteStmt}, goal: true},
		{name: "ctq conntrack " + strings.Join(deleteArgs(), " "), argv: append([]string{cfg.ctq, "conntrack"}, deleteArgs()...), goal: true},
		{name: "kernel floor: the same deletes, batched, no dump", floor: true,
			argv: []string{cfg.self, rawDeleteCommand, strconv.Itoa(cfg.deleteFlows)}},
	}}
	b.check = func(ns *namespace) error {
		left, err := ns.count(cfg.conntrack)
		if err == nil && left != cfg.deleteFlows-matches {
			err = fmt.Errorf("%d of %d entries left, want %d", left, cfg.deleteFlows, cfg.deleteFlows-matches)
		}
		return err
	}
	return b.run(cfg)
}

// run runs the benchmark and prints its figures.
func (b *changeBench) run(cfg config) error {
	ns, err := newNamespace(b.what)
	if err != nil {
		return err
	}
	defer ns.remove()
	times := make([][]time.Duration, len(b.tools))
	var anchorErr error
	for run := range cfg.runs {
		for j := range b.tools {
			k := (run + j) % len(b.tools)
			if k == 0 && anchorErr != nil {
				continue
			}
			d, err := b.once(ns, cfg, b.tools[k])
			switch {
			case err != nil && k == 0:
				anchorErr = err
				continue
			case err != nil:
				return fmt.Errorf("%s: %w", b.tools[k].name, err)
			}
			times[k] = append(times[k], d)
		}
	}
	fmt.Printf("\n%s %d of %d entries (each tool alone on a fresh table; median of %d runs, min-max; ratio to the first line in the same run):\n",
		b.what, b.matches, b.n, cfg.runs)
	for k, t := range b.tools {
		line := fmt.Sprintf("%-72s ", t.name)
		switch {
		case k == 0 && anchorErr != nil:
			line += "fails: " + failure(anchorErr.Error())
		case k == 0 || anchorErr != nil:
			line += durationSpread(times[k])
		default:
			ratios := make([]float64, len(times[k]))
			for i, d := range times[k] {
				ratios[i] = d.Seconds() / times[0][i].Seconds()
			}
			line += durationSpread(times[k]) + "  " + ratioSpread(ratios)
			if t.goal {
				line += "  (goal <= 0.33x)"
			}
		}
		fmt.Println(line)
	}
	return nil
}

// once refills the namespace's table, times one tool's change and checks
// the table.
func (b *changeBench) once(ns *namespace, cfg config, t changeTool) (time.Duration, error) {
	if _, err := ns.run(cfg.conntrack, "-F"); err != nil {
		return 0, err
	}
	if err := ns.fill(cfg.conntrack, deleteSpec, 0, b.n); err != nil {
		return 0, err
	}
	var d time.Duration
	if !t.floor {
		var err error
		if d, err = ns.run(t.argv...); err != nil {
			return 0, err
		}
	} else {
		out, err := exec.Command("ip", append([]string{"netns", "exec", ns.name}, t.argv...)...).Output()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", strings.Join(t.argv, " "), err)
		}
		sec, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
		if err != nil {
			return 0, fmt.Errorf("%s printed %q, not seconds", strings.Join(t.argv, " "), out)
		}
		d = time.Duration(sec * float64(time.Second))
	}
	return d, b.check(ns)
}

// updateStmt and updateArgs are the same update, in ctq's words and in
// conntrack's: the mark of the IPv4 TCP flows to port 22 of the delete
// benchmark's table (35% of it). conntrack 1.4.7 needs -f for an update
// (see ctargs.Differences).
const updateStmt = `update set mark = 1 where family == ipv4 && proto == tcp && dport == 22`

func updateArgs() []string {
	return []string{"-U", "-f", "ipv4", "-p", "tcp", "--dport", "22", "-m", "1"}
}

// benchUpdate times updateStmt against conntrack -U on the delete
// benchmark's table. conntrack 1.4.7's -U updates each entry inside its
// dump's callback, and the dump overflows its socket (ENOBUFS) on any
// table of size: then the update has no anchor.
func benchUpdate(cfg config) error {
	matches := 0
	for i := range cfg.updateFlows {
		if s := deleteSpec(i); s.src.Is4() && s.proto == "tcp" && s.dport == 22 {
			matches++
		}
	}
	b := changeBench{what: "update", n: cfg.updateFlows, matches: matches, tools: []changeTool{
		{name: "conntrack " + strings.Join(updateArgs(), " "), argv: append([]string{cfg.conntrack}, updateArgs()...)},
		{name: "ctq -e '" + updateStmt + "'", argv: []string{cfg.ctq, "-e", updateStmt}, goal: true},
		{name: "ctq conntrack " + strings.Join(updateArgs(), " "), argv: append([]string{cfg.ctq, "conntrack"}, updateArgs()...)},
	}}
	b.check = func(ns *namespace) error { return checkMarked(ns, cfg, matches) }
	return b.run(cfg)
}

// checkMarked checks that want entries of the namespace's table have mark
// 1.
func checkMarked(ns *namespace, cfg config, want int) error {
	out, err := exec.Command("ip", "netns", "exec", ns.name, cfg.ctq, "-e", "count where mark == 1").Output()
	if err != nil {
		return fmt.Errorf("count the updated entries: %w", err)
	}
	if got := strings.TrimSpace(string(out)); got != strconv.Itoa(want) {
		return fmt.Errorf("%s entries have mark 1, want %d", got, want)
	}
	return nil
}

// failure is the line of a command's output that says why it failed
// (conntrack's "Operation failed: ..."), or its last line.
func failure(out string) string {
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if j := strings.Index(lines[i], "Operation failed"); j >= 0 {
			return lines[i][j:]
		}
	}
	return lines[len(lines)-1]
}
