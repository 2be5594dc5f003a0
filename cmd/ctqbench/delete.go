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

// benchDelete fills two namespaces with the same table, deletes the same
// entries with ctq in one and conntrack -D in the other, checks that both
// are left with as many entries, and repeats (refilling) runs times.
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

	var ctqTimes, ctTimes []time.Duration
	left := 0
	for i := 0; i < cfg.runs; i++ {
		for _, ns := range []*namespace{a, b} {
			if _, err := ns.run(cfg.conntrack, "-F"); err != nil {
				return err
			}
			if err := ns.fill(cfg.conntrack, 0, cfg.deleteFlows); err != nil {
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
		na, err := a.count(cfg.conntrack)
		if err != nil {
			return err
		}
		nb, err := b.count(cfg.conntrack)
		if err != nil {
			return err
		}
		if na != nb {
			return fmt.Errorf("after the delete ctq's table has %d entries, conntrack's %d", na, nb)
		}
		left = na
	}
	c, k := median(ctqTimes), median(ctTimes)
	fmt.Printf("\ndelete, %d flows, %d deleted, %d left in both tables:\n", cfg.deleteFlows, cfg.deleteFlows-left, left)
	fmt.Printf("%-56s %9.3fs\n", "conntrack "+fmt.Sprint(deleteArgs()), k.Seconds())
	fmt.Printf("%-56s %9.3fs\n", "ctq -e '"+deleteStmt+"'", c.Seconds())
	fmt.Printf("delete vs conntrack -D:             %.2fx  (goal <= 0.33x)\n", c.Seconds()/k.Seconds())
	return nil
}

// median of a non-empty list of durations.
func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}
