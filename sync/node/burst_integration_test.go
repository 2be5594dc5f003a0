//go:build linux

package node

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"ctq/engine"
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

	// CTQ_BURST_TOTAL=262144 runs the audit's burst (262144 NEW, half of
	// them then DESTROYed); CI runs a smaller one.
	total, ended := 20000, 8000
	if v := os.Getenv("CTQ_BURST_TOTAL"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2 {
			t.Fatalf("CTQ_BURST_TOTAL=%q: want a number of flows", v)
		}
		total, ended = n, n/2
	}
	if total > 2*burstAddrs {
		t.Fatalf("CTQ_BURST_TOTAL=%d: at most %d flows", total, 2*burstAddrs)
	}
	a.Load(t, burstLines(total))
	// The first ended flows end, in one batch (conntrack -D is a dump per
	// line).
	batch, err := liveA.NewBatch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range scan(t, liveA) {
		if burstIndex(&f) < ended {
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

// burstAddrs is how many source addresses the burst's flows use: all of
// 198.18.0.0/15, two source ports each.
const burstAddrs = 1 << 17

// burstLines are conntrack -R lines of n TCP flows from 198.18.0.0/15 to
// 203.0.113.1:22: flow i from address i % burstAddrs, source port 10000 +
// i / burstAddrs.
func burstLines(n int) []string {
	lines := make([]string, n)
	for i := range n {
		a := i % burstAddrs
		lines[i] = fmt.Sprintf("-I -t 600 -u ASSURED,SEEN_REPLY -p tcp --state ESTABLISHED -s 198.%d.%d.%d -d 203.0.113.1 --sport %d --dport 22",
			18+a>>16, a>>8&255, a&255, 10000+i/burstAddrs)
	}
	return lines
}

// burstIndex is the i of a flow of burstLines.
func burstIndex(f *engine.Flow) int {
	b := f.Src.As4()
	a := int(b[1]-18)<<16 | int(b[2])<<8 | int(b[3])
	return (f.Sport-10000)*burstAddrs + a
}
