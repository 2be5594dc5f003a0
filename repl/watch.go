package repl

import (
	"context"
	"fmt"

	"ctq/engine"
	"ctq/engine/format"
)

// watch streams events until ctx ends (Ctrl-C), the plan's duration passes
// or its limit is reached. Lost events are reported on stderr and make the
// statement fail.
func (s *Session) watch(ctx context.Context, src engine.Source, p *engine.Plan, formatName string) error {
	opts := format.EventOptions{Options: s.formatOptions(formatName), ProgName: cachedProgName()}
	w, err := format.NewEvents(formatName, s.cfg.Stdout, opts)
	if err != nil {
		return err
	}
	stats, _, err := engine.Watch(ctx, src, p, w, nil)
	if cerr := w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("write output: %w", cerr)
	}
	if stats.Skipped > 0 {
		fmt.Fprintf(s.cfg.Stderr, "ctq: warning: %d events could not be decoded and were skipped\n", stats.Skipped)
	}
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	if stats.Overflows > 0 {
		return fmt.Errorf("watch: events were lost: the kernel's event queue overflowed %d times (ENOBUFS)", stats.Overflows)
	}
	return nil
}

// expect runs a plan of the expect table.
func (s *Session) expect(ctx context.Context, src engine.Source, p *engine.Plan, formatName string) error {
	var w engine.ExpectWriter
	if p.Action == engine.ActList {
		var err error
		if w, err = format.NewExpect(formatName, s.cfg.Stdout, s.formatOptions(formatName)); err != nil {
			return err
		}
	}
	res, err := engine.ExecExpect(ctx, src, p, w)
	if w != nil {
		if ferr := w.Flush(); err == nil && ferr != nil {
			err = fmt.Errorf("write output: %w", ferr)
		}
	}
	s.warn(res.Stats)
	if err != nil {
		return fmt.Errorf("%s expect: %w", actionWord(p.Action), err)
	}
	switch p.Action {
	case engine.ActCount:
		return s.printCount(formatName, res.Count)
	case engine.ActDelete, engine.ActInsert, engine.ActFlush:
		return s.summary(p, res, formatName)
	}
	return nil
}

// actionWord names a statement in messages.
func actionWord(a engine.Action) string {
	switch a {
	case engine.ActList:
		return "list"
	case engine.ActCount:
		return "count"
	case engine.ActDelete:
		return "delete"
	case engine.ActInsert:
		return "insert"
	case engine.ActFlush:
		return "flush"
	}
	return "statement"
}

// cachedProgName looks up the program behind a netlink port once per port
// for the watch (a lookup walks /proc: far too slow for every event of a
// burst from one process).
func cachedProgName() func(uint32) string {
	names := map[uint32]string{}
	return func(portid uint32) string {
		name, ok := names[portid]
		if !ok {
			name = engine.ProgName(portid)
			names[portid] = name
		}
		return name
	}
}

// watchGroups runs a counting watch ("watch new count by dport every 1s"):
// one report an interval, written by format.GroupReportWriter.
func (s *Session) watchGroups(ctx context.Context, src engine.Source, p *engine.Plan, cols []string, formatName string) error {
	w, err := format.NewGroupReports(formatName, s.cfg.Stdout, cols)
	if err != nil {
		return err
	}
	stats, err := engine.WatchGroups(ctx, src, p, w.Write)
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	if stats.Overflows > 0 {
		return fmt.Errorf("watch: events were lost: the kernel's event queue overflowed %d times (ENOBUFS)", stats.Overflows)
	}
	return nil
}
