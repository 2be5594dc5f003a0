package account

import (
	"context"
	"fmt"
	"sync"
	"time"

	"ctq/engine"
)

// state holds the selected entries of the last full dump, to find
// those that end without a destroy event.
type state struct {
	src   engine.Source
	match func(*engine.Flow) (bool, error)
	// reliable is set when the watch has the kernel's reliable delivery
	// of destroy events: the dumps then read the dying table too.
	reliable bool

	mu sync.Mutex // guards the fields below against the periodic dump
	// known holds a copy of each selected entry of the last dump by id;
	// destroy events remove theirs.
	known map[int]engine.Flow
	// gone holds the entries a dump no longer found, with that dump's
	// time: their destroy event may still be on its way, so they are
	// logged only at the next dump (or at the end) if it has not come.
	gone      map[int]goneFlow
	recovered int
}

// goneFlow is an entry missing from a dump and when that dump ran.
type goneFlow struct {
	flow engine.Flow
	at   time.Time
}

// dump reads the table again. With w set, the entries still gone since
// the previous dump are logged to w as destroyed, and the entries of the
// previous dump missing from this one become the gone ones.
func (a *state) dump(ctx context.Context, w engine.EventWriter) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := map[int]engine.Flow{}
	keep := func(f *engine.Flow) error {
		if a.match != nil {
			ok, err := a.match(f)
			if err != nil || !ok {
				return err
			}
		}
		next[f.ID] = *f
		return nil
	}
	if _, err := a.src.Scan(ctx, engine.TableConntrack, nil, keep); err != nil {
		return fmt.Errorf("dump the table: %w", err)
	}
	if a.reliable {
		// With reliable delivery the kernel holds an entry whose destroy
		// event did not fit the socket on the dying table until the event
		// is delivered: it is not gone, its event will come.
		if _, err := a.src.Scan(ctx, engine.TableDying, nil, keep); err != nil {
			return fmt.Errorf("dump the dying table: %w", err)
		}
	}
	if w != nil {
		if err := a.logGone(w); err != nil {
			return err
		}
		now := time.Now()
		for id, f := range a.known {
			if _, ok := next[id]; !ok {
				a.gone[id] = goneFlow{flow: f, at: now}
			}
		}
	}
	a.known = next
	return nil
}

// logGone logs the gone entries as destroyed, stamped when a dump found
// them gone, forgets them, and flushes w (no later event may come to flush them). The
// caller holds a.mu.
func (a *state) logGone(w engine.EventWriter) error {
	for id, g := range a.gone {
		ev := engine.Event{Type: engine.EventDestroy, Flow: &g.flow, Time: g.at}
		if err := w.WriteEvent(&ev); err != nil {
			return err
		}
		a.recovered++
		delete(a.gone, id)
	}
	return w.Flush()
}

// finish logs the entries still gone at the end.
func (a *state) finish(w engine.EventWriter) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.logGone(w)
}

// forget drops the entry id, which sent its destroy event.
func (a *state) forget(id int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.known, id)
	delete(a.gone, id)
}
