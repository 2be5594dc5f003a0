package repl

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

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

// statsGlobals are the table-wide numbers stats prints after the per-CPU
// counters of the conntrack table.
type statsGlobals struct {
	entries, max int
}

// stats runs a stats statement. text prints conntrack -S's lines byte for
// byte, then for conntrack one line "entries=N max=N"; json prints one
// object a CPU ({"cpu":0,"found":0,...}) then {"entries":N,"max":N}; csv
// and table print a row a CPU with the columns cpu, the counters in the
// kernel's order, then entries and max (the same on every row).
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
	spec, err := format.Parse(name)
	if err != nil {
		return err
	}
	cpus, err := live.Stats(ctx, st.Table)
	if err != nil {
		return err
	}
	var g *statsGlobals
	if st.Table == engine.TableConntrack {
		g = &statsGlobals{}
		if g.entries, err = live.Count(ctx); err != nil {
			return fmt.Errorf("stats: %w", err)
		}
		if g.max, err = live.MaxEntries(); err != nil {
			return fmt.Errorf("stats: %w", err)
		}
	}
	switch spec.Kind {
	case format.KindText:
		err = writeStatsText(s.cfg.Stdout, cpus, g)
	case format.KindJSON:
		err = writeStatsJSON(s.cfg.Stdout, cpus, g)
	case format.KindCSV:
		err = writeStatsCSV(s.cfg.Stdout, cpus, g)
	case format.KindTable:
		err = writeStatsTable(s.cfg.Stdout, cpus, g)
	default:
		return fmt.Errorf("stats prints as text, json, csv or table, not %s", name)
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// writeStatsText writes conntrack -S's lines, then the globals' line.
func writeStatsText(w io.Writer, cpus []engine.CPUStats, g *statsGlobals) error {
	var b []byte
	for i := range cpus {
		b = format.AppendCPUStats(b, &cpus[i])
		b = append(b, '\n')
	}
	if g != nil {
		b = fmt.Appendf(b, "entries=%d max=%d\n", g.entries, g.max)
	}
	_, err := w.Write(b)
	return err
}

// writeStatsJSON writes an object a CPU, then the globals' object.
func writeStatsJSON(w io.Writer, cpus []engine.CPUStats, g *statsGlobals) error {
	var b []byte
	for i := range cpus {
		b = format.AppendCPUStatsJSON(b, &cpus[i])
		b = append(b, '\n')
	}
	if g != nil {
		b = fmt.Appendf(b, "{\"entries\":%d,\"max\":%d}\n", g.entries, g.max)
	}
	_, err := w.Write(b)
	return err
}

// statsRows are the header and the rows of the csv and table layouts.
func statsRows(cpus []engine.CPUStats, g *statsGlobals) (header []string, rows [][]string) {
	header = []string{"cpu"}
	if len(cpus) > 0 {
		for _, c := range cpus[0].Counters {
			header = append(header, c.Name)
		}
	}
	if g != nil {
		header = append(header, "entries", "max")
	}
	for i := range cpus {
		row := []string{strconv.Itoa(cpus[i].CPU)}
		for _, name := range header[1 : 1+len(cpus[0].Counters)] {
			v, _ := cpus[i].Get(name)
			row = append(row, strconv.FormatUint(v, 10))
		}
		if g != nil {
			row = append(row, strconv.Itoa(g.entries), strconv.Itoa(g.max))
		}
		rows = append(rows, row)
	}
	return header, rows
}

// writeStatsCSV writes a header, then a row a CPU.
func writeStatsCSV(w io.Writer, cpus []engine.CPUStats, g *statsGlobals) error {
	header, rows := statsRows(cpus, g)
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

// writeStatsTable writes the csv layout as aligned columns: the header in
// capitals, numbers right-aligned.
func writeStatsTable(w io.Writer, cpus []engine.CPUStats, g *statsGlobals) error {
	header, rows := statsRows(cpus, g)
	widths := make([]int, len(header))
	for i, h := range header {
		header[i] = strings.ToUpper(h)
		widths[i] = len(h)
	}
	for _, r := range rows {
		for i, c := range r {
			widths[i] = max(widths[i], len(c))
		}
	}
	var b strings.Builder
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			if i > 0 {
				b.WriteString("  ")
			}
			fmt.Fprintf(&b, "%*s", widths[i], c)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}
