//go:build linux

package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"ctq/internal/nstest"
	"ctq/sync/cache"
)

// TestBurstPair runs two ctq nodes with a small resend queue and a small
// receive buffer on the backup: a burst of NEW and DESTROY overflows the
// sender's resend queue and the backup's socket loses datagrams, and yet
// the backup's external cache ends equal to the sender's internal cache.
func TestBurstPair(t *testing.T) {
	nstest.Require(t)
	nstest.RequireCommand(t, "conntrack")
	a, b := nstest.Joined(t, "ctqa", addrA, "ctqb", addrB)
	dir := t.TempDir()
	const mode = "Mode FTFW {\n\t\tResendQueueSize 2048\n\t\tACKWindowSize 300\n\t}"
	block := func(iface, local, peer string, rcvbuf int) string {
		return fmt.Sprintf("UDP Default {\n\t\tIPv4_address %s\n\t\tIPv4_Destination_Address %s\n\t\tPort 3780\n\t\tInterface %s\n\t\tRcvSocketBuffer %d\n\t}",
			local, peer, iface, rcvbuf)
	}
	na, liveA := startNodeMode(t, a, dir, "a", "ctqa", addrA, addrB, mode, block("ctqa", addrA, addrB, 1<<20), nil)
	nb, _ := startNodeMode(t, b, dir, "b", "ctqb", addrB, addrA, mode, block("ctqb", addrB, addrA, 16384), nil)

	const total, ended = 20000, 8000
	lines := bulkLines(total, 1)
	a.Load(t, lines)
	// The first ended flows end, in one batch (conntrack -D is a dump per
	// line).
	batch, err := liveA.NewBatch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range scan(t, liveA) {
		if f.Sport < 10000+ended {
			if err := batch.Delete(&f); err != nil {
				t.Fatal(err)
			}
		}
	}
	if st, err := batch.Close(); err != nil || st.Done != ended {
		t.Fatalf("deletes: %+v, %v; want %d done", st, err, ended)
	}

	keys := func(n *Node, internal bool) map[cache.Key]bool {
		var entries []cache.Entry
		var err error
		if internal {
			entries, err = n.Internal(context.Background())
		} else {
			entries, err = n.External(context.Background())
		}
		if err != nil {
			t.Fatal(err)
		}
		m := make(map[cache.Key]bool, len(entries))
		for _, e := range entries {
			m[e.Key] = true
		}
		return m
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		in, ext := keys(na, true), keys(nb, false)
		missing, extra := 0, 0
		for k := range in {
			if !ext[k] {
				missing++
			}
		}
		for k := range ext {
			if !in[k] {
				extra++
			}
		}
		if len(in) == total-ended && missing == 0 && extra == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 90 s: A's internal cache %d entries, B's external cache %d (%d missing, %d extra); A: %+v",
				len(in), len(ext), missing, extra, nodeStats(t, na))
		}
		time.Sleep(200 * time.Millisecond)
	}
	st := nodeStats(t, na)
	t.Logf("A: resend queue dropped %d, repaired %d, NACK-limited %d; B: lost %d", st.ResendDropped, st.Repaired, st.NACKLimited, nodeStats(t, nb).SeqLost)
	if st.ResendDropped == 0 {
		t.Errorf("the burst did not overflow the resend queue of %d", 2048)
	}
}
