package repl

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/lang"
)

// accountResync is how often account dumps the table, without an every
// clause, to log the entries that ended without a destroy event.
const accountResync = 30 * time.Second

// accountFormat is the default format of the accounting log: conntrack
// -E -o extended,ktimestamp lines, with counters and the kernel's start
// and stop times.
const accountFormat = "extended,ktimestamp"

// account runs an account statement: destroyed entries go to the file,
// appended, until ctx ends (or the for duration passes). SIGHUP reopens
// the file (for logrotate).
//
// Some entries end without a destroy event: those created before the
// statement started where net.netfilter.nf_conntrack_events=2 (the
// default: the kernel equips an entry for events only if a listener
// exists when it is created), and any whose event was lost (ENOBUFS). So
// account dumps the table at the start, every st.Resync (accountResync
// without every) and after
// lost events (which do not end it: they are counted): an entry of the
// previous dump that a dump no longer finds and that sent no destroy event
// by the next dump (or the end) is logged as destroyed, stamped at the
// dump that missed it, with the counters the dump before saw (a lower
// bound). Entries created and destroyed between two dumps whose events
// were lost stay unknown. Overflows and entries logged from dumps are
// reported on stderr at the end.
func (s *Session) account(ctx context.Context, st *lang.AccountStep) error {
	src, err := s.source()
	if err != nil {
		return err
	}
	if _, ok := src.(engine.EventSource); !ok {
		return fmt.Errorf("account: the live kernel has the events, not the saved table %s", s.cfg.From)
	}
	p, err := st.Watch.Plan(s.vars)
	if err != nil {
		return err
	}
	name := st.Watch.Format
	if name == "" {
		name = accountFormat
	}
	if spec, err := format.Parse(name); err != nil || spec.Kind != format.KindText && spec.Kind != format.KindJSON {
		return fmt.Errorf("account writes conntrack's text formats (%s by default) or json, not %s", accountFormat, name)
	}
	f, err := openLog(st.Path)
	if err != nil {
		return fmt.Errorf("account: %w", err)
	}
	defer f.Close()
	ew, err := format.NewEvents(name, f, format.EventOptions{Options: s.formatOptions(name), ProgName: cachedProgName()})
	if err != nil {
		return err
	}
	w := &lockedEvents{w: ew}
	known := &accountState{src: src, match: p.Match, gone: map[int]goneFlow{}}
	if err := known.dump(ctx, nil); err != nil {
		return fmt.Errorf("account: %w", err)
	}
	// The tracker applies the condition itself: it must see every destroy
	// event to forget its entry.
	watch := *p
	watch.Match = nil

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	every := st.Resync
	if every <= 0 {
		every = accountResync
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var dumpErr error
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if err := known.dump(ctx, w); err != nil && ctx.Err() == nil {
					dumpErr = err
					cancel()
					return
				}
			case <-hup:
				if err := w.reopen(f); err != nil {
					fmt.Fprintf(s.cfg.Stderr, "ctq: warning: account: %v (still writing to the old file)\n", err)
				}
			}
		}
	})

	fmt.Fprintf(s.cfg.Stderr, "ctq: accounting destroyed flows to %s\n", st.Path)
	res, err := engine.Exec(ctx, src, &watch, engine.EventsTo(&destroyTracker{w: w, known: known}),
		&engine.ExecOptions{Resync: func(ctx context.Context) error { return known.dump(ctx, w) }})
	stats := res.Watch
	cancel()
	close(done)
	wg.Wait()
	if err == nil && dumpErr != nil {
		err = dumpErr
	}
	if ferr := known.finish(w); err == nil && ferr != nil {
		err = fmt.Errorf("write %s: %w", st.Path, ferr)
	}
	if cerr := w.close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", st.Path, cerr)
	}
	if stats.Overflows > 0 {
		fmt.Fprintf(s.cfg.Stderr, "ctq: warning: account: the kernel's event queue overflowed %d times (ENOBUFS)\n", stats.Overflows)
	}
	if known.recovered > 0 {
		fmt.Fprintf(s.cfg.Stderr, "ctq: account: %d flows ended without a destroy event and were logged from a table dump\n", known.recovered)
	}
	if err != nil {
		return fmt.Errorf("account: %w", err)
	}
	return nil
}

// logFile is an append-only file that can be reopened by name.
type logFile struct {
	path string
	mu   sync.Mutex
	f    *os.File
}

// openLog opens path for appending, creating it (mode 0640) if needed.
func openLog(path string) (*logFile, error) {
	l := &logFile{path: path}
	if err := l.reopen(); err != nil {
		return nil, err
	}
	return l, nil
}

// Write appends b to the current file.
func (l *logFile) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Write(b)
}

// reopen opens the path again and closes the old file; on failure the old
// file stays.
func (l *logFile) reopen() error {
	f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return fmt.Errorf("open log: %w", err)
	}
	l.mu.Lock()
	old := l.f
	l.f = f
	l.mu.Unlock()
	if old != nil {
		if err := old.Close(); err != nil {
			return fmt.Errorf("close the old log: %w", err)
		}
	}
	return nil
}

// Close closes the current file.
func (l *logFile) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.f.Close()
}

// lockedEvents serializes an EventWriter between the watch, its flush
// timer, the resync and the SIGHUP handler.
type lockedEvents struct {
	mu sync.Mutex
	w  format.EventWriter
}

// WriteEvent writes ev.
func (l *lockedEvents) WriteEvent(ev *engine.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.WriteEvent(ev)
}

// Flush writes out the buffer.
func (l *lockedEvents) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Flush()
}

// reopen flushes what the old file is owed, then reopens f.
func (l *lockedEvents) reopen(f *logFile) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.w.Flush(); err != nil {
		return err
	}
	return f.reopen()
}

// close ends the output.
func (l *lockedEvents) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Close()
}

// accountState holds the selected entries of the last full dump, to find
// those that end without a destroy event.
type accountState struct {
	src   engine.Source
	match func(*engine.Flow) (bool, error)

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
func (a *accountState) dump(ctx context.Context, w engine.EventWriter) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	next := map[int]engine.Flow{}
	_, err := a.src.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		if a.match != nil {
			ok, err := a.match(f)
			if err != nil || !ok {
				return err
			}
		}
		next[f.ID] = *f
		return nil
	})
	if err != nil {
		return fmt.Errorf("dump the table: %w", err)
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
func (a *accountState) logGone(w engine.EventWriter) error {
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
func (a *accountState) finish(w engine.EventWriter) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.logGone(w)
}

// forget drops the entry id, which sent its destroy event.
func (a *accountState) forget(id int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.known, id)
	delete(a.gone, id)
}

// destroyTracker writes the destroy events the condition selects, and
// forgets the entry of every destroy event.
type destroyTracker struct {
	w     engine.EventWriter
	known *accountState
}

// WriteEvent forgets ev's entry and writes ev if it is selected.
func (d *destroyTracker) WriteEvent(ev *engine.Event) error {
	if ev.Flow == nil {
		return nil
	}
	d.known.forget(ev.Flow.ID)
	if m := d.known.match; m != nil {
		if ok, err := m(ev.Flow); err != nil || !ok {
			return err
		}
	}
	return d.w.WriteEvent(ev)
}

// Flush flushes the log.
func (d *destroyTracker) Flush() error { return d.w.Flush() }
