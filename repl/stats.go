package repl

import (
	"context"
	"fmt"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/lang"
)

// statsSource is what the stats statement reads: the live kernel.
type statsSource interface {
	Stats(ctx context.Context, table engine.Table) ([]engine.CPUStats, error)
	Count(ctx context.Context) (int, error)
	MaxEntries() (int, error)
}

// stats runs a stats statement: the table's per-CPU counters and, for
// conntrack, its entries and limit, printed by format.WriteStats.
func (s *Session) stats(ctx context.Context, st *lang.StatsStep) error {
	src, err := s.source()
	if err != nil {
		return err
	}
	live, ok := src.(statsSource)
	if !ok {
		return fmt.Errorf("stats: the kernel keeps the statistics; the saved table %s has none", s.cfg.From)
	}
	name := st.Format
	if name == "" {
		name = s.cfg.Format
	}
	if _, err := format.Parse(name); err != nil {
		return err
	}
	cpus, err := live.Stats(ctx, st.Table)
	if err != nil {
		return err
	}
	var totals *format.StatsTotals
	if st.Table == engine.TableConntrack {
		totals = &format.StatsTotals{}
		if totals.Entries, err = live.Count(ctx); err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		if totals.Max, err = live.MaxEntries(); err != nil {
			return fmt.Errorf("stats: %w", err)
		}
	}
	return format.WriteStats(s.cfg.Stdout, name, cpus, totals)
}
