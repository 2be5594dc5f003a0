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

// deleteTool is one way of deleting the matches, timed in its own run.
type deleteTool struct {
	name string
	argv func(cfg config) []string
	// floor: the tool prints the seconds its deletes took, which are
	// reported instead of the process's wall time.
	floor bool
}

func deleteTools() []deleteTool {
	return []deleteTool{
		{name: "conntrack " + strings.Join(deleteArgs(), " "), argv: func(cfg config) []string {
			return append([]string{cfg.conntrack}, deleteArgs()...)
		}},
		{name: "ctq -e '" + deleteStmt + "'", argv: func(cfg config) []string {
			return []string{cfg.ctq, "-e", deleteStmt}
		}},
		{name: "ctq conntrack " + strings.Join(deleteArgs(), " "), argv: func(cfg config) []string {
			return append([]string{cfg.ctq, "conntrack"}, deleteArgs()...)
		}},
		{name: "kernel floor: the same deletes, batched, no dump", floor: true, argv: func(cfg config) []string {
			return []string{cfg.self, rawDeleteCommand, strconv.Itoa(cfg.deleteFlows)}
		}},
	}
}

// benchDelete times the delete of the matches of a deleteFlows-entry table
// by each deleteTool: for each run and tool, the namespace is flushed and
// filled again, the tool runs alone on it, and the table must be left with
// the entries that do not match. The tools take turns going first.
func benchDelete(cfg config) error {
	ns, err := newNamespace("delete")
	if err != nil {
		return err
	}
	defer ns.remove()
	matches := 0
	for i := range cfg.deleteFlows {
		if deleteMatches(i) {
			matches++
		}
	}
	tools := deleteTools()
	times := make([][]time.Duration, len(tools))
	for run := range cfg.runs {
		for j := range tools {
			k := (run + j) % len(tools)
			d, err := deleteRun(ns, cfg, tools[k])
			if err != nil {
				return err
			}
			left, err := ns.count(cfg.conntrack)
			if err != nil {
				return err
			}
			if left != cfg.deleteFlows-matches {
				return fmt.Errorf("%s left %d of %d entries, want %d", tools[k].name, left, cfg.deleteFlows, cfg.deleteFlows-matches)
			}
			times[k] = append(times[k], d)
		}
	}
	fmt.Printf("\ndelete %d of %d entries (each tool alone on a fresh table; median of %d runs, min-max; ratio to conntrack -D in the same run):\n", matches, cfg.deleteFlows, cfg.runs)
	for k, t := range tools {
		ratios := make([]float64, len(times[k]))
		for i, d := range times[k] {
			ratios[i] = d.Seconds() / times[0][i].Seconds()
		}
		line := fmt.Sprintf("%-72s %s", t.name, durationSpread(times[k]))
		if k > 0 {
			line += "  " + ratioSpread(ratios)
		}
		if k == 1 || k == 2 {
			line += "  (goal <= 0.33x)"
		}
		fmt.Println(line)
	}
	return nil
}

// refill empties the namespace's table and fills it with the first n
// entries of the delete benchmark's table.
func refill(ns *namespace, cfg config, n int) error {
	if _, err := ns.run(cfg.conntrack, "-F"); err != nil {
		return err
	}
	return ns.fill(cfg.conntrack, deleteSpec, 0, n)
}

// deleteRun refills the namespace's table and times one tool's delete.
func deleteRun(ns *namespace, cfg config, t deleteTool) (time.Duration, error) {
	if err := refill(ns, cfg, cfg.deleteFlows); err != nil {
		return 0, err
	}
	argv := t.argv(cfg)
	if !t.floor {
		return ns.run(argv...)
	}
	out, err := exec.Command("ip", append([]string{"netns", "exec", ns.name}, argv...)...).Output()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	sec, err := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	if err != nil {
		return 0, fmt.Errorf("%s printed %q, not seconds", strings.Join(argv, " "), out)
	}
	return time.Duration(sec * float64(time.Second)), nil
}

// updateStmt and updateArgs are the same update, in ctq's words and in
// conntrack's: the mark of the IPv4 TCP flows to port 22 of the delete
// benchmark's table (30% of it). conntrack 1.4.7 needs -f for an update
// (see ctargs.Differences).
const updateStmt = `update set mark = 1 where family == ipv4 && proto == tcp && dport == 22`

func updateArgs() []string {
	return []string{"-U", "-f", "ipv4", "-p", "tcp", "--dport", "22", "-m", "1"}
}

// benchUpdate times updateStmt against conntrack -U as benchDelete times
// the delete, on the same table. conntrack 1.4.7's -U updates each entry
// inside its dump's callback, and the dump overflows its socket (ENOBUFS)
// on any table of size: then the update has no anchor, and its line says
// how conntrack failed.
func benchUpdate(cfg config) error {
	ns, err := newNamespace("update")
	if err != nil {
		return err
	}
	defer ns.remove()
	matches := 0
	for i := range cfg.updateFlows {
		if s := deleteSpec(i); s.src.Is4() && s.proto == "tcp" && s.dport == 22 {
			matches++
		}
	}
	tools := []struct {
		name string
		argv []string
	}{
		{"conntrack " + strings.Join(updateArgs(), " "), append([]string{cfg.conntrack}, updateArgs()...)},
		{"ctq -e '" + updateStmt + "'", []string{cfg.ctq, "-e", updateStmt}},
		{"ctq conntrack " + strings.Join(updateArgs(), " "), append([]string{cfg.ctq, "conntrack"}, updateArgs()...)},
	}
	times := make([][]time.Duration, len(tools))
	var anchorErr error
	for run := range cfg.runs {
		for j := range tools {
			k := (run + j) % len(tools)
			if k == 0 && anchorErr != nil {
				continue
			}
			if err := refill(ns, cfg, cfg.updateFlows); err != nil {
				return err
			}
			d, err := ns.run(tools[k].argv...)
			if err == nil {
				err = checkMarked(ns, cfg, matches)
			}
			if err != nil {
				if k == 0 {
					anchorErr = err
					continue
				}
				return err
			}
			times[k] = append(times[k], d)
		}
	}
	fmt.Printf("\nupdate %d of %d entries (as the delete):\n", matches, cfg.updateFlows)
	for k, t := range tools {
		line := fmt.Sprintf("%-72s ", t.name)
		switch {
		case k == 0 && anchorErr != nil:
			line += "fails: " + failure(anchorErr.Error())
		case anchorErr == nil && k > 0:
			ratios := make([]float64, len(times[k]))
			for i, d := range times[k] {
				ratios[i] = d.Seconds() / times[0][i].Seconds()
			}
			line += durationSpread(times[k]) + "  " + ratioSpread(ratios) + "  (goal <= 0.33x)"
		default:
			line += durationSpread(times[k])
		}
		fmt.Println(line)
	}
	return nil
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
