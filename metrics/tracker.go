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

// Tracker keeps the entries of the conntrack table per protocol and state
// (and per user series), fed by events and refreshed by full dumps. It is
// safe for concurrent use.
type Tracker struct {
	series *Series

	mu      sync.Mutex
	entries map[int]tracked
	states  map[stateKey]int
	custom  map[string]*customCount
	// errs counts entries whose series condition or keys failed.
	errs int
}

// NewTracker returns an empty Tracker; series may be nil.
func NewTracker(series *Series) *Tracker {
	return &Tracker{series: series, entries: map[int]tracked{}, states: map[stateKey]int{}, custom: map[string]*customCount{}}
}

// Resync replaces what the tracker knows with a full dump by scan. It
// holds the tracker while the dump runs: events received meanwhile wait,
// and apply afterwards (applying an event is idempotent, so those already
// reflected in the dump do no harm).
func (t *Tracker) Resync(ctx context.Context, scan func(ctx context.Context, yield func(*engine.Flow) error) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.entries = map[int]tracked{}
	t.states = map[stateKey]int{}
	t.custom = map[string]*customCount{}
	if err := scan(ctx, func(f *engine.Flow) error {
		t.upsert(f, true)
		return nil
	}); err != nil {
		return fmt.Errorf("resync entries per state: %w", err)
	}
	return nil
}

// Apply updates the tracker for one event of the conntrack table.
func (t *Tracker) Apply(ev *engine.Event) {
	f := ev.Flow
	if f == nil || f.Has&engine.HasID == 0 {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if ev.Type == engine.EventDestroy {
		t.remove(f.ID)
		return
	}
	// An update without CTA_PROTOINFO keeps the state it had; the user's
	// series are evaluated again only when the state changes.
	t.upsert(f, ev.Type == engine.EventNew || f.Has&engine.HasState != 0)
}

// upsert counts f under its state (an entry's state stays when f has
// none) and, when full, evaluates the user's series on it again.
func (t *Tracker) upsert(f *engine.Flow, full bool) {
	old, known := t.entries[f.ID]
	next := old
	if !known || f.Has&engine.HasState != 0 {
		next.state = stateKey{proto: f.Proto, state: f.State}
	}
	if t.series != nil && (!known || full) {
		next.custom, next.inSeries = t.seriesKey(f)
	}
	if known {
		t.uncount(old)
	}
	t.entries[f.ID] = next
	t.states[next.state]++
	if next.inSeries {
		c := t.custom[next.custom]
		if c == nil {
			c = &customCount{values: strings.Split(next.custom, "\x00")}
			if len(t.series.By) == 0 {
				c.values = nil
			}
			t.custom[next.custom] = c
		}
		c.n++
	}
}

// remove forgets the entry id.
func (t *Tracker) remove(id int) {
	if old, ok := t.entries[id]; ok {
		t.uncount(old)
		delete(t.entries, id)
	}
}

// uncount takes e out of the counts; counts that reach zero disappear.
func (t *Tracker) uncount(e tracked) {
	if t.states[e.state]--; t.states[e.state] <= 0 {
		delete(t.states, e.state)
	}
	if !e.inSeries {
		return
	}
	if c := t.custom[e.custom]; c != nil {
		if c.n--; c.n <= 0 {
			delete(t.custom, e.custom)
		}
	}
}

// seriesKey evaluates the user's series on f.
func (t *Tracker) seriesKey(f *engine.Flow) (string, bool) {
	s := t.series
	if s.Match != nil {
		ok, err := s.Match(f)
		if err != nil {
			t.errs++
			return "", false
		}
		if !ok {
			return "", false
		}
	}
	vals := make([]string, len(s.By))
	for i, by := range s.By {
		v, err := by(f)
		if err != nil {
			t.errs++
			return "", false
		}
		vals[i] = fmt.Sprint(v)
	}
	return strings.Join(vals, "\x00"), true
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
	states := make([]StateCount, 0, len(t.states))
	for k, n := range t.states {
		states = append(states, StateCount{Proto: k.proto, State: k.state, N: n})
	}
	series := make([]SeriesCount, 0, len(t.custom))
	for _, c := range t.custom {
		series = append(series, SeriesCount{Values: c.values, N: c.n})
	}
	return states, series, t.errs
}
