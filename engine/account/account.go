// Package account logs the flows of the conntrack table as they end, as
// conntrackd's statistics mode (Stats { LogFile }) does: every destroyed
// entry is appended to a file, with its counters and times, until the
// context ends. It works on any engine.Source that is also an
// engine.EventSource (the live kernel, or a test's fake).
package account

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"ctq/engine"
	"ctq/engine/format"
)

// DefaultResync is how often Run dumps the table when Config.Resync is
// zero, to log the entries that ended without a destroy event.
const DefaultResync = 30 * time.Second

// DefaultFormat is the format of the log when Config.Format is empty:
// conntrack -E -o extended,ktimestamp lines, with counters and the
// kernel's start and stop times.
const DefaultFormat = "extended,ktimestamp"

// Config sets up Run.
type Config struct {
	// Source is the table: Run dumps it with Scan and follows its events,
	// so it must be an engine.EventSource too.
	Source engine.Source
	// Plan is the account statement's watch plan (required): its Match
	// selects the entries logged (nil: all); Events, For, Limit (-1: none)
	// and the other watch settings apply as in engine.Watch.
	Plan *engine.Plan
	// Path is the log file, appended to and created (mode 0640) if needed.
	Path string
	// Format is the log's format: one of conntrack's text formats or json;
	// empty means DefaultFormat.
	Format string
	// Writer, when set, makes the writer of the log from the log file in
	// place of Format (conntrackd's front end writes the lines of
	// conntrackd's statistics mode with it).
	Writer func(w io.Writer) format.EventWriter
	// Options are the writer's options (label names, clock).
	Options format.Options
	// ProgName names the program behind a netlink port id in the
	// [USERSPACE] suffix; nil prints none.
	ProgName func(portid uint32) string
	// Resync is how often the table is dumped again; zero means
	// DefaultResync.
	Resync time.Duration
	// Reopen makes Run reopen Path (after a rename by logrotate) each time
	// a value arrives: the caller relays SIGHUP to it. nil never reopens.
	Reopen <-chan os.Signal
	// Stderr receives progress and warnings as ctq prints them ("ctq:
	// accounting destroyed flows to ..."); nil discards them.
	Stderr io.Writer
}

// Result tells how complete the log is.
type Result struct {
	// Overflows counts the kernel's reports of lost events (ENOBUFS).
	Overflows int
	// Recovered counts the entries that ended without a destroy event and
	// were logged from a table dump.
	Recovered int
}

// Run logs the entries cfg.Plan selects as they are destroyed, until ctx
// ends (or the plan's For passes). The log is written when the event
// arrives; errors writing it end Run.
//
// Run asks for the kernel's reliable delivery of destroy events
// (engine.WatchConfig.Reliable, as conntrackd's NetlinkEventsReliable):
// when the log falls behind a burst, the kernel holds the dying entries
// until their events are read instead of dropping the events, so none is
// lost; meanwhile those entries count against nf_conntrack_max.
//
// Some entries end without a destroy event all the same: those created
// before Run started where net.netfilter.nf_conntrack_events=2 (the
// default: the kernel equips an entry for events only if a listener
// exists when it is created; set it to 1 to equip all), and any whose
// event was lost (ENOBUFS, on a source without reliable delivery). So Run
// dumps the table (and the dying table, where held entries wait)
// at the start, every cfg.Resync and after lost events (which do not end
// it: they are counted): an entry of the previous dump that a dump no
// longer finds and that sent no destroy event by the next dump (or the
// end) is logged as destroyed, stamped at the dump that missed it, with
// the counters the dump before saw (a lower bound). Entries created and
// destroyed between two dumps whose events were lost stay unknown.
// Overflows and entries logged from dumps are reported on cfg.Stderr at
// the end, and in the Result.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Plan == nil {
		return Result{}, errors.New("account: no watch plan (Config.Plan is nil)")
	}
	if _, ok := cfg.Source.(engine.EventSource); !ok {
		return Result{}, errors.New("account: the source has no event stream (a saved table does not change)")
	}
	name := cfg.Format
	if name == "" {
		name = DefaultFormat
	}
	if spec, err := format.Parse(name); cfg.Writer == nil && (err != nil || spec.Kind != format.KindText && spec.Kind != format.KindJSON) {
		return Result{}, fmt.Errorf("account writes conntrack's text formats (%s by default) or json, not %s", DefaultFormat, name)
	}
	stderr := cfg.Stderr
	if stderr == nil {
		stderr = io.Discard
	}
	f, err := openLog(cfg.Path)
	if err != nil {
		return Result{}, fmt.Errorf("account: %w", err)
	}
	defer f.Close()
	var ew format.EventWriter
	if cfg.Writer != nil {
		ew = cfg.Writer(f)
	} else if ew, err = format.NewEvents(name, f, format.EventOptions{Options: cfg.Options, ProgName: cfg.ProgName}); err != nil {
		return Result{}, err
	}
	w := &lockedEvents{w: ew}
	// The tracker applies the condition itself: it must see every destroy
	// event to forget its entry. The kernel delivers destroy events
	// reliably (it holds a dying entry until its event is read).
	watch := *cfg.Plan
	watch.Match = nil
	watch.Reliable = true
	known := &state{src: cfg.Source, match: cfg.Plan.Match, gone: map[int]goneFlow{}, reliable: true}
	if err := known.dump(ctx, nil); err != nil {
		return Result{}, fmt.Errorf("account: %w", err)
	}

	every := cfg.Resync
	if every <= 0 {
		every = DefaultResync
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
			case <-cfg.Reopen:
				if err := w.reopen(f); err != nil {
					fmt.Fprintf(stderr, "ctq: warning: account: %v (still writing to the old file)\n", err)
				}
			}
		}
	})

	fmt.Fprintf(stderr, "ctq: accounting destroyed flows to %s\n", cfg.Path)
	out, err := engine.Exec(ctx, cfg.Source, &watch, engine.EventsTo(&destroyTracker{w: w, known: known}),
		&engine.ExecOptions{Resync: func(ctx context.Context) error { return known.dump(ctx, w) }})
	stats := out.Watch
	cancel()
	close(done)
	wg.Wait()
	if err == nil && dumpErr != nil {
		err = dumpErr
	}
	if ferr := known.finish(w); err == nil && ferr != nil {
		err = fmt.Errorf("write %s: %w", cfg.Path, ferr)
	}
	if cerr := w.close(); err == nil && cerr != nil {
		err = fmt.Errorf("write %s: %w", cfg.Path, cerr)
	}
	res := Result{Overflows: stats.Overflows, Recovered: known.recovered}
	if res.Overflows > 0 {
		fmt.Fprintf(stderr, "ctq: warning: account: the kernel's event queue overflowed %d times (ENOBUFS)\n", res.Overflows)
	}
	if res.Recovered > 0 {
		fmt.Fprintf(stderr, "ctq: account: %d flows ended without a destroy event and were logged from a table dump\n", res.Recovered)
	}
	if err != nil {
		return res, fmt.Errorf("account: %w", err)
	}
	return res, nil
}
