package main

import (
	"fmt"
	"sort"
	"time"
)

// deleteStmt and deleteArgs are the same delete, in ctq's words and in
// conntrack's.
const deleteStmt = `delete where proto==tcp && dport==22 && state=="ESTABLISHED"`

func deleteArgs() []string {
	return []string{"-D", "-p", "tcp", "--dport", "22", "--state", "ESTABLISHED"}
}

// benchDelete fills three namespaces with the same table, deletes the
// same entries with ctq's delete statement in one, conntrack -D in another
// and ctq conntrack -D (which prints each entry, as conntrack -D does) in
// the third, checks that all are left with as many entries, and repeats
// (refilling) runs times.
func benchDelete(cfg config) error {
	a, err := newNamespace("ctq")
	if err != nil {
		return err
	}
	defer a.remove()
	b, err := newNamespace("conntrack")
	if err != nil {
		return err
	}
	defer b.remove()
	c, err := newNamespace("ctqct")
	if err != nil {
		return err
	}
	defer c.remove()

	var ctqTimes, ctTimes, ctqCTTimes []time.Duration
	left := 0
	for i := 0; i < cfg.runs; i++ {
		for _, ns := range []*namespace{a, b, c} {
			if _, err := ns.run(cfg.conntrack, "-F"); err != nil {
				return err
			}
			if err := ns.fill(cfg.conntrack, synth, 0, cfg.deleteFlows); err != nil {
				return err
			}
		}
		d, err := a.run(cfg.ctq, "-e", deleteStmt)
		if err != nil {
			return err
		}
		ctqTimes = append(ctqTimes, d)
		// conntrack -D exits 1 when it deleted nothing; it deletes here.
		if d, err = b.run(append([]string{cfg.conntrack}, deleteArgs()...)...); err != nil {
			return err
		}
		ctTimes = append(ctTimes, d)
		if d, err = c.run(append([]string{cfg.ctq, "conntrack"}, deleteArgs()...)...); err != nil {
			return err
		}
		ctqCTTimes = append(ctqCTTimes, d)
		na, err := a.count(cfg.conntrack)
		if err != nil {
			return err
		}
		nb, err := b.count(cfg.conntrack)
		if err != nil {
			return err
		}
		nc, err := c.count(cfg.conntrack)
		if err != nil {
			return err
		}
		if na != nb || nc != nb {
			return fmt.Errorf("after the delete ctq's table has %d entries, conntrack's %d, ctq conntrack's %d", na, nb, nc)
		}
		left = na
	}
	q, k, qc := median(ctqTimes), median(ctTimes), median(ctqCTTimes)
	fmt.Printf("\ndelete, %d flows, %d deleted, %d left in the three tables:\n", cfg.deleteFlows, cfg.deleteFlows-left, left)
	fmt.Printf("%-56s %9.3fs\n", "conntrack "+fmt.Sprint(deleteArgs()), k.Seconds())
	fmt.Printf("%-56s %9.3fs\n", "ctq -e '"+deleteStmt+"'", q.Seconds())
	fmt.Printf("%-56s %9.3fs\n", "ctq conntrack "+fmt.Sprint(deleteArgs()), qc.Seconds())
	fmt.Printf("delete vs conntrack -D:             %.2fx  (goal <= 0.33x)\n", q.Seconds()/k.Seconds())
	fmt.Printf("ctq conntrack -D vs conntrack -D:   %.2fx  (goal <= 0.33x)\n", qc.Seconds()/k.Seconds())
	return nil
}

// median of a non-empty list of durations.
func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
