// Package metrics exports the conntrack table to Prometheus: the global
// entry count and limit, the per-CPU statistics counters, entries per
// protocol and state, event counters, and series a user defines with a
// condition and group keys. Each Server has its own registry.
//
// Entries per state come from a Tracker: one full dump, then the event
// stream, then a full dump again every resync interval and after lost
// events. A scrape reads the tracker; it never dumps the table.
package metrics

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"ctq/engine"
)

// Series is a user-defined series: the entries Match accepts (nil: all)
// counted per the values of By (nil: one series).
type Series struct {
	Match func(*engine.Flow) (bool, error)
	By    []func(*engine.Flow) (any, error)
	// Labels name the keys of By, one each (valid Prometheus label names).
	Labels []string
}

// stateKey is the protocol and state an entry is counted under.
type stateKey struct {
	proto, state string
}

// tracked is what the tracker remembers of one entry.
type tracked struct {
	state stateKey
	// custom is the entry's series key (its By values joined by "\x00");
	// inSeries is false when Series.Match refused it.
	custom   string
	inSeries bool
}

// customCount is one series of the user's: its label values and count.
type customCount struct {
	values []string
	n      int
}

// counts are the tracker's numbers: every entry it knows, and the counts
// per protocol and state and per user series.
type counts struct {
	entries map[int]tracked
	states  map[stateKey]int
	custom  map[string]*customCount
}

func newCounts() *counts {
	return &counts{entries: map[int]tracked{}, states: map[stateKey]int{}, custom: map[string]*customCount{}}
}

// change is one entry's update, worked out from an event or a dumped
// entry (the user's series already evaluated), so that it can be applied
// to the live counts and again to a resync's fresh ones.
type change struct {
	id      int
	destroy bool
	// state is the entry's protocol and state; setState is false for an
	// update without CTA_PROTOINFO, which keeps a known entry's state.
	state    stateKey
	setState bool
	// eval is true when custom and inSeries hold a fresh evaluation of
	// the user's series.
	eval     bool
	custom   string
	inSeries bool
	// reset forgets what is known of the entry first (a destroy merged
	// with a later change of the same id).
	reset bool
}

// merge returns the one change that has the effect of prev then next on
// the same entry.
func merge(prev, next change) change {
	switch {
	case next.destroy:
		return next
	case prev.destroy:
		next.reset = true
		return next
	}
	// A change without a state (or series evaluation) leaves the entry's
	// as prev made them.
	if !next.setState {
		next.state, next.setState = prev.state, prev.setState
	}
	if !next.eval {
		next.eval, next.custom, next.inSeries = prev.eval, prev.custom, prev.inSeries
	}
	next.reset = prev.reset
	return next
}

// Tracker keeps the entries of the conntrack table per protocol and state
// (and per user series), fed by events and refreshed by full dumps. It is
// safe for concurrent use. A resync builds its counts aside and swaps them
// in at the end: Snapshot never waits for a dump.
type Tracker struct {
	series *Series

	// resyncMu lets one resync run at a time; evalMu serializes the
	// evaluations of the user's series (a dump and the events evaluate
	// concurrently).
	resyncMu sync.Mutex
	evalMu   sync.Mutex

	mu  sync.Mutex
	cur *counts
	// pending is non-nil while a resync dumps: the changes applied to cur
	// since the dump started, to apply again to its result, merged per
	// entry (so it holds at most one change per entry touched meanwhile).
	pending map[int]change
	// errs counts entries whose series condition or keys failed.
	errs int
}

// NewTracker returns an empty Tracker; series may be nil.
func NewTracker(series *Series) *Tracker {
	return &Tracker{series: series, cur: newCounts()}
}

// Resync replaces what the tracker knows with a full dump by scan. The
// dump fills fresh counts while Snapshot keeps answering from the current
// ones (which events still update); at its end the events received
// meanwhile are applied again to the fresh counts (applying an event is
// idempotent, so those already reflected in the dump do no harm) and the
// fresh counts replace the current ones. A failed dump leaves the current
// counts as they are.
func (t *Tracker) Resync(ctx context.Context, scan func(ctx context.Context, yield func(*engine.Flow) error) error) error {
	t.resyncMu.Lock()
	defer t.resyncMu.Unlock()
	t.mu.Lock()
	t.pending = map[int]change{}
	t.mu.Unlock()
	fresh := newCounts()
	errs := 0
	err := scan(ctx, func(f *engine.Flow) error {
		ch, bad := t.changeOf(f, false, true)
		if bad {
			errs++
		}
		fresh.apply(&ch, len(t.seriesBy()) == 0)
		return nil
	})
	t.mu.Lock()
	defer t.mu.Unlock()
	pending := t.pending
	t.pending = nil
	t.errs += errs
	if err != nil {
		return fmt.Errorf("resync entries per state: %w", err)
	}
	// The changes of different entries commute: their order is lost.
	for _, ch := range pending {
		fresh.apply(&ch, len(t.seriesBy()) == 0)
	}
	t.cur = fresh
	return nil
}

// seriesBy is the user's group keys, nil without a series.
func (t *Tracker) seriesBy() []func(*engine.Flow) (any, error) {
	if t.series == nil {
		return nil
	}
	return t.series.By
}

// Apply updates the tracker for one event of the conntrack table.
func (t *Tracker) Apply(ev *engine.Event) {
	f := ev.Flow
	if f == nil || f.Has&engine.HasID == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var ch change
	if ev.Type == engine.EventDestroy {
		ch = change{id: f.ID, destroy: true}
	} else {
		// An update without CTA_PROTOINFO keeps the state it had; the
		// user's series are evaluated again only when the state changes
		// (or the entry is new to the counts a resync is building).
		_, known := t.cur.entries[f.ID]
		full := ev.Type == engine.EventNew || f.Has&engine.HasState != 0 || !known || t.pending != nil
		var bad bool
		if ch, bad = t.changeOf(f, true, full); bad {
			t.errs++
		}
	}
	t.cur.apply(&ch, len(t.seriesBy()) == 0)
	if t.pending != nil {
		if prev, ok := t.pending[ch.id]; ok {
			ch = merge(prev, ch)
		}
		t.pending[ch.id] = ch
	}
}

// changeOf works out the change f makes; with eval, the user's series are
// evaluated on f (bad reports a failed evaluation). update is false for a
// dumped entry, which always carries its state.
func (t *Tracker) changeOf(f *engine.Flow, update, eval bool) (ch change, bad bool) {
	ch = change{id: f.ID, state: stateKey{proto: f.Proto, state: f.State}, setState: !update || f.Has&engine.HasState != 0}
	if t.series != nil && eval {
		ch.eval = true
		ch.custom, ch.inSeries, bad = t.seriesKey(f)
	}
	return ch, bad
}

// apply makes the change ch to c; noKeys is true when the series has no
// group keys (one unlabelled series).
func (c *counts) apply(ch *change, noKeys bool) {
	old, known := c.entries[ch.id]
	if ch.reset && known {
		c.uncount(old)
		delete(c.entries, ch.id)
		old, known = tracked{}, false
	}
	if ch.destroy {
		if known {
			c.uncount(old)
			delete(c.entries, ch.id)
		}
		return
	}
	next := old
	if !known || ch.setState {
		next.state = ch.state
	}
	if ch.eval {
		next.custom, next.inSeries = ch.custom, ch.inSeries
	}
	if known {
		c.uncount(old)
	}
	c.entries[ch.id] = next
	c.states[next.state]++
	if next.inSeries {
		cc := c.custom[next.custom]
		if cc == nil {
			cc = &customCount{values: strings.Split(next.custom, "\x00")}
			if noKeys {
				cc.values = nil
			}
			c.custom[next.custom] = cc
		}
		cc.n++
	}
}

// uncount takes e out of the counts; counts that reach zero disappear.
func (c *counts) uncount(e tracked) {
	if c.states[e.state]--; c.states[e.state] <= 0 {
		delete(c.states, e.state)
	}
	if !e.inSeries {
		return
	}
	if cc := c.custom[e.custom]; cc != nil {
		if cc.n--; cc.n <= 0 {
			delete(c.custom, e.custom)
		}
	}
}

// seriesKey evaluates the user's series on f: its key, whether the series
// takes it, and whether the condition or a key failed.
func (t *Tracker) seriesKey(f *engine.Flow) (key string, in, bad bool) {
	t.evalMu.Lock()
	defer t.evalMu.Unlock()
	s := t.series
	if s.Match != nil {
		ok, err := s.Match(f)
		if err != nil {
			return "", false, true
		}
		if !ok {
			return "", false, false
		}
	}
	vals := make([]string, len(s.By))
	for i, by := range s.By {
		v, err := by(f)
		if err != nil {
			return "", false, true
		}
		vals[i] = fmt.Sprint(v)
	}
	return strings.Join(vals, "\x00"), true, false
}

// StateCount is the number of entries of one protocol in one state.
type StateCount struct {
	Proto, State string
	N            int
}

// SeriesCount is the number of entries of one user series.
type SeriesCount struct {
	Values []string
	N      int
}

// Snapshot returns the current counts per protocol and state and per user
// series, and how many entries the series could not evaluate.
func (t *Tracker) Snapshot() ([]StateCount, []SeriesCount, int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	states := make([]StateCount, 0, len(t.cur.states))
	for k, n := range t.cur.states {
		states = append(states, StateCount{Proto: k.proto, State: k.state, N: n})
	}
	series := make([]SeriesCount, 0, len(t.cur.custom))
	for _, c := range t.cur.custom {
		series = append(series, SeriesCount{Values: c.values, N: c.n})
	}
	return states, series, t.errs
}
