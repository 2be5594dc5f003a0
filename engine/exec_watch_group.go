package engine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// IntervalReport is what a counting watch reports at the end of each
// interval: the events of the interval per group, largest first.
type IntervalReport struct {
	// End is when the interval ended; it lasted Plan.Every.
	End time.Time
	// Total counts the matching events of the interval.
	Total int
	// Groups are the counts per group key (one group without keys).
	Groups []Group
	// Overflows counts the kernel's reports of lost events (ENOBUFS) during
	// the interval: the counts are then too low.
	Overflows int
}

// watchGroups runs an ActWatch plan with a Group and Every: it counts the
// matching events per group and calls report once an interval, until ctx
// ends, p.For passes or p.Limit reports were made. The interval in which
// the watch ends is reported if it saw events.
func watchGroups(ctx context.Context, src Source, p *Plan, report func(*IntervalReport) error) (WatchStats, error) {
	es, ok := src.(EventSource)
	if !ok {
		return WatchStats{}, errors.New("this source has no event stream (a saved table does not change)")
	}
	if p.Group == nil || p.Every <= 0 {
		return WatchStats{}, errors.New("watch: counting needs a grouping and an interval")
	}
	if p.For > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.For)
		defer cancel()
	}
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	var (
		mu        sync.Mutex // guards agg, total, overflows, reports
		agg       = newAggregator(p.Group)
		total     int
		overflows int
		lastOver  int
		reports   int
	)
	// flush reports the interval that ends now; it holds mu.
	flush := func(end time.Time) error {
		groups, err := agg.result(-1)
		if err != nil {
			return err
		}
		r := &IntervalReport{End: end, Total: total, Groups: groups, Overflows: overflows - lastOver}
		agg.reset()
		total, lastOver = 0, overflows
		reports++
		if err := report(r); err != nil {
			return err
		}
		if p.Limit >= 0 && reports >= p.Limit {
			return errStop
		}
		return nil
	}
	ticker := time.NewTicker(p.Every)
	defer ticker.Stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-ticker.C:
				mu.Lock()
				err := flush(now)
				mu.Unlock()
				if err != nil {
					stop(err)
					return
				}
			}
		}
	}()
	cfg := WatchConfig{Table: p.Table, Events: p.Events, Filter: p.Filter, Reliable: p.Reliable,
		Resync: func(context.Context) error {
			mu.Lock()
			overflows++
			mu.Unlock()
			return nil
		}}
	stats, err := es.Watch(ctx, cfg, func(ev *Event) error {
		if ok, err := matchEvent(p, ev); err != nil || !ok {
			return err
		}
		if ev.Flow == nil {
			return nil
		}
		mu.Lock()
		defer mu.Unlock()
		total++
		return agg.add(ev.Flow)
	})
	stop(nil)
	<-done
	if cause := context.Cause(ctx); err == nil && cause != nil && !errors.Is(cause, context.Canceled) &&
		!errors.Is(cause, context.DeadlineExceeded) {
		err = cause
	}
	if err == nil && total > 0 {
		mu.Lock()
		err = flush(time.Now())
		mu.Unlock()
	}
	if errors.Is(err, errStop) {
		err = nil
	}
	return stats, err
}
