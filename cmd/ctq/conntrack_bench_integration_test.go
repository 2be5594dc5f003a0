//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"

	"ctq/engine"
	"ctq/internal/nstest"
	"ctq/lang/ctargs"
	"ctq/repl/conntrack"
)

// BenchmarkConntrackCLI times ctq's conntrack -L and -D (in process,
// output to /dev/null) against conntrack(8)'s (a process started in the
// namespace, output to /dev/null) on a table of n entries, and the start
// of a process in the namespace alone (ip netns exec true), to subtract.
func BenchmarkConntrackCLI(b *testing.B) {
	nstest.RequireCommand(b, "conntrack")
	ns := nstest.New(b)
	const n = 20_000
	table := mixedTable(n)
	devNull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devNull.Close()
	run := func(b *testing.B, cmd *ctargs.Command) {
		if rc := conntrack.Run(context.Background(), cmd, conntrack.Config{
			Stdout: devNull, Stderr: io.Discard, NetNS: ns.Name(), OpenLive: liveOpener(),
		}); rc != 0 {
			b.Fatalf("ctq conntrack: exit %d", rc)
		}
	}
	perEntry := func(b *testing.B) { b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/1000, "ms/run") }
	ns.Load(b, table)
	b.Run("start-process", func(b *testing.B) {
		for b.Loop() {
			ns.Run(b, "true")
		}
		perEntry(b)
	})
	b.Run(fmt.Sprintf("conntrack-L-%d", n), func(b *testing.B) {
		for b.Loop() {
			ns.Run(b, "sh", "-c", "conntrack -L >/dev/null 2>&1")
		}
		perEntry(b)
	})
	b.Run(fmt.Sprintf("ctq-L-%d", n), func(b *testing.B) {
		for b.Loop() {
			run(b, &ctargs.Command{Op: ctargs.OpList, Plan: engine.Plan{Action: engine.ActList, Limit: -1}})
		}
		perEntry(b)
	})
	b.Run(fmt.Sprintf("ctq-parsed-L-%d", n), func(b *testing.B) {
		for b.Loop() {
			if rc := conntrack.Main(context.Background(), []string{"-L"}, conntrack.Config{
				Stdout: devNull, Stderr: io.Discard, NetNS: ns.Name(), OpenLive: liveOpener(),
			}); rc != 0 {
				b.Fatalf("ctq conntrack -L: exit %d", rc)
			}
		}
		perEntry(b)
	})
	b.Run(fmt.Sprintf("conntrack-D-%d", n), func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			ns.Load(b, table)
			b.StartTimer()
			ns.Run(b, "sh", "-c", "conntrack -D >/dev/null 2>&1")
		}
		perEntry(b)
	})
	b.Run(fmt.Sprintf("ctq-D-%d", n), func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			ns.Load(b, table)
			b.StartTimer()
			run(b, &ctargs.Command{Op: ctargs.OpDelete, Plan: engine.Plan{Action: engine.ActDelete, Limit: -1, Echo: true}})
		}
		perEntry(b)
	})
}
