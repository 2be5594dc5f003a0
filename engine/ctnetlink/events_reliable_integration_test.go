//go:build linux

package ctnetlink

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"ctq/engine"
	"ctq/internal/nstest"
)

// TestWatchReliable flushes 5,000 entries into the small receive buffer (64 KiB) of
// a destroy watch that is not reading yet. Without Reliable the kernel
// drops most events, and the watch marks the loss (cfg.Lost) as often as
// it counts overflows; with Reliable the kernel holds the dying entries
// and delivers every event once the watch reads, and reports no overflow.
func TestWatchReliable(t *testing.T) {
	const n = 5000
	ns := nstest.New(t)
	// Every entry gets an event record, also those loaded while nobody
	// listens (the namespace's own setting).
	ns.Run(t, "sysctl", "-q", "-w", "net.netfilter.nf_conntrack_events=1")
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	lines := make([]string, n)
	for i := range lines {
		lines[i] = burstLine(i)
	}
	for _, reliable := range []bool{false, true} {
		ns.Load(t, lines)
		lost := 0
		cfg := engine.WatchConfig{Events: engine.EventDestroy, Reliable: reliable,
			Lost: func(k int, _ time.Time) error { lost += k; return nil }}
		c, _, err := l.openWatch(&cfg, 64<<10)
		if err != nil {
			t.Fatalf("openWatch: %v", err)
		}
		if err := l.Flush(context.Background(), engine.TableConntrack, engine.FamilyUnspec); err != nil {
			t.Fatal(err)
		}
		held, _ := scanAll(t, l, engine.TableDying, nil)
		ctx, cancel := context.WithCancel(context.Background())
		var events atomic.Int64
		sentinel := 0
		res := make(chan error, 1)
		var st engine.WatchStats
		go func() {
			var err error
			st, err = l.runWatch(ctx, c, &cfg, func(ev *engine.Event) error {
				switch {
				case burstIndex(ev.Flow) >= 0:
					if events.Add(1) == n && reliable {
						cancel()
					}
				case isSentinel(ev.Flow) && !reliable:
					cancel()
				}
				return nil
			})
			res <- err
		}()
		// Without Reliable, sentinels (inserted and deleted) until one
		// arrives: then the burst's events are all in.
		start := time.Now()
		for done := false; !done; {
			if !reliable {
				sentinel++
				ns.InsertSentinel(t, sentinel)
				ns.Run(t, "conntrack", "-D", "-s", nstest.SentinelSrc)
			}
			select {
			case err := <-res:
				if err != nil {
					t.Fatalf("reliable %v: watch: %v", reliable, err)
				}
				done = true
			case <-time.After(100 * time.Millisecond):
				if time.Since(start) > waitLimit {
					t.Fatalf("reliable %v: %d of %d events after %v", reliable, events.Load(), n, waitLimit)
				}
			}
		}
		l.release(c)
		cancel()
		got := int(events.Load())
		t.Logf("reliable %v: %d of %d destroy events, %d overflows (%d marked), %d entries held on the dying table after the flush",
			reliable, got, n, st.Overflows, lost, len(held))
		if lost != st.Overflows {
			t.Errorf("reliable %v: %d overflows, %d marked", reliable, st.Overflows, lost)
		}
		if reliable && (got != n || st.Overflows != 0 || len(held) == 0) {
			t.Errorf("reliable: %d of %d events, %d overflows, %d held; want all, none, some", got, n, st.Overflows, len(held))
		}
		if !reliable && (got >= n || st.Overflows == 0) {
			t.Errorf("plain: %d of %d events, %d overflows: the buffer did not overflow", got, n, st.Overflows)
		}
	}
}
