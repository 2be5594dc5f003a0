package repl

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"time"

	"ctq/engine"
	"ctq/engine/ctnetlink"
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
			name = ctnetlink.ProgName(portid)
			names[portid] = name
		}
		return name
	}
}

// watchGroups runs a counting watch ("watch new count by dport every 1s"):
// one report an interval, as a line of text (the time, the total, then
// key=count pairs largest first), a JSON object, or CSV rows.
func (s *Session) watchGroups(ctx context.Context, src engine.Source, p *engine.Plan, cols []string, formatName string) error {
	kind := format.KindText
	if spec, err := format.Parse(formatName); err == nil {
		kind = spec.Kind
	}
	var csvw *csv.Writer
	if kind == format.KindCSV {
		csvw = csv.NewWriter(s.cfg.Stdout)
		if err := csvw.Write(append([]string{"time"}, cols...)); err != nil {
			return fmt.Errorf("write output: %w", err)
		}
	}
	stats, err := engine.WatchGroups(ctx, src, p, func(r *engine.IntervalReport) error {
		at := r.End.UTC().Format(time.RFC3339)
		var b strings.Builder
		switch kind {
		case format.KindJSON:
			fmt.Fprintf(&b, `{"time":%q,"total":%d,"groups":[`, at, r.Total)
			for i, g := range r.Groups {
				if i > 0 {
					b.WriteByte(',')
				}
				if err := writeGroupObject(&b, cols, g); err != nil {
					return err
				}
			}
			fmt.Fprintf(&b, "],\"overflows\":%d}\n", r.Overflows)
		case format.KindCSV:
			for _, g := range r.Groups {
				row := []string{at}
				for _, k := range g.Keys {
					row = append(row, display(k))
				}
				if err := csvw.Write(append(row, number(g.Value))); err != nil {
					return err
				}
			}
			csvw.Flush()
			return csvw.Error()
		default:
			fmt.Fprintf(&b, "%s  total=%d", at, r.Total)
			for _, g := range r.Groups {
				if len(g.Keys) == 0 {
					continue
				}
				keys := make([]string, len(g.Keys))
				for i, k := range g.Keys {
					keys[i] = display(k)
				}
				fmt.Fprintf(&b, "  %s=%s", strings.Join(keys, "/"), number(g.Value))
			}
			if r.Overflows > 0 {
				fmt.Fprintf(&b, "  (events lost: %d kernel overflows)", r.Overflows)
			}
			b.WriteByte('\n')
		}
		_, err := io.WriteString(s.cfg.Stdout, b.String())
		return err
	})
	if err != nil {
		return fmt.Errorf("watch: %w", err)
	}
	if stats.Overflows > 0 {
		return fmt.Errorf("watch: events were lost: the kernel's event queue overflowed %d times (ENOBUFS)", stats.Overflows)
	}
	return nil
}
