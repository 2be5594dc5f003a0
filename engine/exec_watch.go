package engine

import (
	"context"
	"errors"
	"sync"
	"time"
)

// EventWriter receives events for output.
type EventWriter interface {
	WriteEvent(ev *Event) error
	Flush() error
}

// flushDelay bounds how long a written event may wait in the output
// buffer: under a burst, output goes out in large writes, and no event
// waits longer than flushDelay.
const flushDelay = 50 * time.Millisecond

// watch runs an ActWatch plan: the events of p.Table that p.Events selects
// and the predicate accepts go to w, until ctx ends, p.For passes or
// p.Limit events were written. Lost events (kernel overflows) are counted
// in the returned stats and, when w is a LossWriter, marked in the output
// where they happened; resync, when set, runs after each overflow.
func watch(ctx context.Context, src Source, p *Plan, w EventWriter, resync func(context.Context) error) (WatchStats, int, error) {
	es, ok := src.(EventSource)
	if !ok {
		return WatchStats{}, 0, errors.New("this source has no event stream (a saved table does not change)")
	}
	if p.For > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.For)
		defer cancel()
	}
	ctx, stop := context.WithCancel(ctx)
	defer stop()

	var (
		mu      sync.Mutex // guards w, werr and pending between yield and the flush timer
		werr    error
		pending bool // a flush is scheduled
		timer   *time.Timer
		written int
	)
	flush := func() {
		mu.Lock()
		defer mu.Unlock()
		pending = false
		if err := w.Flush(); err != nil && werr == nil {
			werr = err
			stop()
		}
	}
	schedule := func() {
		if !pending {
			pending = true
			if timer == nil {
				timer = time.AfterFunc(flushDelay, flush)
			} else {
				timer.Reset(flushDelay)
			}
		}
	}
	cfg := WatchConfig{Table: p.Table, Events: p.Events, Filter: p.Filter, Resync: resync, Reliable: p.Reliable}
	if lw, ok := w.(LossWriter); ok {
		cfg.Lost = func(overflows int, at time.Time) error {
			mu.Lock()
			defer mu.Unlock()
			if err := lw.WriteLoss(overflows, at); err != nil {
				return err
			}
			schedule()
			return nil
		}
	}
	stats, err := es.Watch(ctx, cfg, func(ev *Event) error {
		if p.Limit >= 0 && written >= p.Limit {
			return errStop
		}
		if ok, err := matchEvent(p, ev); err != nil || !ok {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if err := w.WriteEvent(ev); err != nil {
			return err
		}
		written++
		schedule()
		if p.Limit >= 0 && written >= p.Limit {
			return errStop
		}
		return nil
	})
	if timer != nil {
		timer.Stop()
	}
	flush()
	if errors.Is(err, errStop) {
		err = nil
	}
	if err == nil {
		err = werr
	}
	return stats, written, err
}

// matchEvent applies the plan's predicate to an event's record.
func matchEvent(p *Plan, ev *Event) (bool, error) {
	switch {
	case ev.Flow != nil && p.Match != nil:
		return p.Match(ev.Flow)
	case ev.Expect != nil && p.MatchExpect != nil:
		return p.MatchExpect(ev.Expect)
	}
	return true, nil
}
