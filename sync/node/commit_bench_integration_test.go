//go:build linux

package node

import (
	"context"
	"testing"

	"ctq/internal/nstest"
)

// BenchmarkCommit commits an external cache of b.N TCP entries into an
// empty table of a namespace of its own, with the node running (its kernel
// watch included), and reports entries per second.
func BenchmarkCommit(b *testing.B) {
	nstest.Require(b)
	ns := nstest.New(b)
	n, l := runningNode(b, ns)
	go func() { // the link's datagrams
		for range l.sent {
		}
	}()
	fillExternal(b, n, b.N)
	b.ResetTimer()
	res, err := n.Commit(context.Background(), AllTables)
	b.StopTimer()
	if err != nil || res.Created != b.N {
		b.Fatalf("commit: %+v, %v", res, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "entries/s")
}
