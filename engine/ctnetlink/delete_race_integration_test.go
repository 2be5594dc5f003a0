//go:build linux

package ctnetlink

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ctq/engine"
	"ctq/internal/nstest"
)

// TestDeleteRecreateRace measures the gap of the CTA_ID guard: while a
// `delete where mark == 0 ...` runs, another process replaces each entry
// by a new one with the same tuple and mark 99 (a delete and a create in
// one sendmsg, as a flow that ends and starts again), each right after the
// delete has read it. The new entry often
// lands in the memory of the old one and then gets the same kernel id, so
// a delete by tuple and id can take it. The test counts the mark-99
// entries the delete removed (every one is wrong) and reports them; where
// the whole condition is checked by the kernel (one filtered flush) it
// requires none.
func TestDeleteRecreateRace(t *testing.T) {
	const n = 20_000
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	if !kernelAtLeast(minFlushFilter) {
		t.Logf("kernel %s: no filtered flush, the kernel-checked case is skipped", kernelRelease())
	}
	lines := make([]string, n)
	for i := range lines {
		lines[i] = burstLine(i)
	}
	markZero := func(f *engine.Flow) (bool, error) { return f.Mark == 0, nil }
	for _, tc := range []struct {
		name  string
		exact bool // the kernel applies the whole condition
		match func(*engine.Flow) (bool, error)
	}{
		{"mark == 0 and timeout > 0 (entry by entry, CTA_ID guard)", false,
			func(f *engine.Flow) (bool, error) { return f.Mark == 0 && f.Timeout > 0, nil }},
		{"mark == 0 (one kernel-side filtered flush)", true, markZero},
	} {
		if tc.exact && !kernelAtLeast(minFlushFilter) {
			continue
		}
		ns.Load(t, lines)
		flows, _ := scanAll(t, l, engine.TableConntrack, nil)
		// The re-creator replaces the entries in the order the delete reads
		// them (the table's hash order), 16 at a time, each group as soon
		// as the delete has read it: the worst case, where every
		// replacement falls between the read and the delete request. The
		// kernel-checked delete reports no progress: there it runs freely.
		var (
			wg       sync.WaitGroup
			read     atomic.Int64 // entries the delete has queued
			finished atomic.Bool
			replaced engine.BatchStats
			rerr     error
		)
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			b, err := l.NewBatch(context.Background())
			if err != nil {
				rerr = err
				return
			}
			sender := b.(engine.Sender)
			for j := 0; j < len(flows) && rerr == nil; j += 16 {
				for !tc.exact && read.Load() <= int64(j) && !finished.Load() {
					time.Sleep(20 * time.Microsecond)
				}
				for i := j; i < min(j+16, len(flows)); i++ {
					old := flows[i]
					old.Has &^= engine.HasID
					nu := flows[i]
					nu.Mark = 99
					if rerr = b.Delete(&old); rerr == nil {
						rerr = b.Create(&nu)
					}
				}
				if rerr == nil {
					rerr = sender.Send()
				}
			}
			replaced, err = b.Close()
			if rerr == nil {
				rerr = err
			}
		})
		plan := &engine.Plan{Action: engine.ActDelete, Limit: -1, Exact: tc.exact, Match: tc.match,
			Filter: engine.KernelFilter{Mark: 0, MarkMask: 0xffffffff}}
		close(start)
		begin := time.Now()
		res, err := engine.Exec(context.Background(), l, plan, nil,
			&engine.ExecOptions{Progress: func(n int) { read.Store(int64(n)) }})
		took := time.Since(begin)
		finished.Store(true)
		wg.Wait()
		if err != nil || rerr != nil {
			t.Fatalf("%s: delete: %v; re-creation: %v", tc.name, err, rerr)
		}
		after, _ := scanAll(t, l, engine.TableConntrack, nil)
		marked := 0
		for i := range after {
			if after[i].Mark == 99 && burstIndex(&after[i]) >= 0 {
				marked++
			}
		}
		// Every tuple was re-created with mark 99 once; the delete may
		// only take mark-0 entries, so each missing one was taken wrongly.
		wrong := n - marked
		t.Logf("%s: %d of %d re-created mark-99 entries deleted wrongly (delete: %d deleted, %d gone, filtered flush %v, in %v; re-creation: %d done, %d gone)",
			tc.name, wrong, n, res.Count, res.Batch.Gone, res.FilteredFlush, took.Round(time.Millisecond), replaced.Done, replaced.Gone)
		if tc.exact && (wrong != 0 || !res.FilteredFlush) {
			t.Errorf("%s: %d wrongly deleted (filtered flush %v); want 0 with the kernel's check", tc.name, wrong, res.FilteredFlush)
		}
		if err := l.Flush(context.Background(), engine.TableConntrack, engine.FamilyUnspec); err != nil {
			t.Fatal(err)
		}
	}
}
