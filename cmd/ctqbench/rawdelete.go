package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"ctq/engine"
	"ctq/engine/ctnetlink"
)

// rawDeleteCommand is the hidden subcommand that measures the kernel's own
// cost of the delete benchmark's deletes: the matches of the delete table,
// whose tuples ctqbench knows without a dump, deleted by one batch (the
// batch ctq's delete uses), nothing read, nothing decided.
const rawDeleteCommand = "rawdelete"

// rawDelete deletes the matches of a delete table of args[0] entries in
// the current namespace and prints the seconds the deletes took.
func rawDelete(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: ctqbench %s ENTRIES", rawDeleteCommand)
	}
	n, err := strconv.Atoi(args[0])
	if err != nil {
		return fmt.Errorf("entries: %w", err)
	}
	l, err := ctnetlink.OpenLive(nil)
	if err != nil {
		return err
	}
	defer l.Close()
	var f engine.Flow
	start := time.Now()
	b, err := l.NewBatch(context.Background())
	if err != nil {
		return err
	}
	for i := range n {
		if !deleteMatches(i) {
			continue
		}
		s := deleteSpec(i)
		f = engine.Flow{Proto: s.proto, ProtoNum: 6, Src: s.src, Dst: s.dst, Sport: s.sport, Dport: s.dport}
		if err := b.Delete(&f); err != nil {
			b.Close()
			return err
		}
	}
	st, err := b.Close()
	took := time.Since(start)
	if err != nil {
		return err
	}
	if st.Failed+st.Gone+st.Unknown > 0 {
		return fmt.Errorf("%d deletes done, %d failed, %d gone, %d unknown", st.Done, st.Failed, st.Gone, st.Unknown)
	}
	fmt.Printf("%.6f\n", took.Seconds())
	return nil
}
