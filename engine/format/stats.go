package format

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"ctq/engine"
)

// AppendCPUStats appends one CPU's counters as conntrack -S prints them
// (no newline): "cpu=0   \tfound=0 invalid=0 ... " — the CPU number
// left-justified in four columns, a tab, then name=value pairs each
// followed by a space, in the kernel's order.
func AppendCPUStats(buf []byte, s *engine.CPUStats) []byte {
	buf = append(buf, "cpu="...)
	n := len(buf)
	buf = strconv.AppendInt(buf, int64(s.CPU), 10)
	for len(buf)-n < 4 {
		buf = append(buf, ' ')
	}
	buf = append(buf, '\t')
	for _, c := range s.Counters {
		buf = append(buf, c.Name...)
		buf = append(buf, '=')
		buf = strconv.AppendUint(buf, c.Value, 10)
		buf = append(buf, ' ')
	}
	return buf
}

// AppendCPUStatsJSON appends one CPU's counters as a JSON object:
// {"cpu":0,"found":0,...}.
func AppendCPUStatsJSON(buf []byte, s *engine.CPUStats) []byte {
	buf = append(buf, `{"cpu":`...)
	buf = strconv.AppendInt(buf, int64(s.CPU), 10)
	for _, c := range s.Counters {
		buf = append(buf, ',')
		buf = strconv.AppendQuote(buf, c.Name)
		buf = append(buf, ':')
		buf = strconv.AppendUint(buf, c.Value, 10)
	}
	return append(buf, '}')
}

// StatsTotals are the table-wide numbers of the conntrack table that
// WriteStats prints after its per-CPU counters.
type StatsTotals struct {
	// Entries is the number of entries; Max the table's limit
	// (nf_conntrack_max).
	Entries, Max int
}

// WriteStats writes a table's per-CPU counters, then totals (nil for a
// table without them, such as the expect table), in format name:
//
//	text   conntrack -S's lines byte for byte, then "entries=N max=N"
//	json   one object a CPU ({"cpu":0,"found":0,...}), then {"entries":N,"max":N}
//	csv    a header, then a row a CPU: cpu, the counters in the kernel's
//	       order, then entries and max (the same on every row)
//	table  the csv layout as aligned columns
//
// Other formats are an error. Errors writing to w are wrapped as "write
// output".
func WriteStats(w io.Writer, name string, cpus []engine.CPUStats, totals *StatsTotals) error {
	spec, err := Parse(name)
	if err != nil {
		return err
	}
	switch spec.Kind {
	case KindText:
		err = writeStatsText(w, cpus, totals)
	case KindJSON:
		err = writeStatsJSON(w, cpus, totals)
	case KindCSV:
		err = writeStatsCSV(w, cpus, totals)
	case KindTable:
		err = writeStatsTable(w, cpus, totals)
	default:
		return fmt.Errorf("stats prints as text, json, csv or table, not %s", name)
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// writeStatsText writes conntrack -S's lines, then the totals' line.
func writeStatsText(w io.Writer, cpus []engine.CPUStats, t *StatsTotals) error {
	var b []byte
	for i := range cpus {
		b = AppendCPUStats(b, &cpus[i])
		b = append(b, '\n')
	}
	if t != nil {
		b = fmt.Appendf(b, "entries=%d max=%d\n", t.Entries, t.Max)
	}
	_, err := w.Write(b)
	return err
}

// writeStatsJSON writes an object a CPU, then the totals' object.
func writeStatsJSON(w io.Writer, cpus []engine.CPUStats, t *StatsTotals) error {
	var b []byte
	for i := range cpus {
		b = AppendCPUStatsJSON(b, &cpus[i])
		b = append(b, '\n')
	}
	if t != nil {
		b = fmt.Appendf(b, "{\"entries\":%d,\"max\":%d}\n", t.Entries, t.Max)
	}
	_, err := w.Write(b)
	return err
}

// statsRows are the header and the rows of the csv and table layouts.
func statsRows(cpus []engine.CPUStats, t *StatsTotals) (header []string, rows [][]string) {
	header = []string{"cpu"}
	if len(cpus) > 0 {
		for _, c := range cpus[0].Counters {
			header = append(header, c.Name)
		}
	}
	if t != nil {
		header = append(header, "entries", "max")
	}
	for i := range cpus {
		row := []string{strconv.Itoa(cpus[i].CPU)}
		for _, name := range header[1 : 1+len(cpus[0].Counters)] {
			v, _ := cpus[i].Get(name)
			row = append(row, strconv.FormatUint(v, 10))
		}
		if t != nil {
			row = append(row, strconv.Itoa(t.Entries), strconv.Itoa(t.Max))
		}
		rows = append(rows, row)
	}
	return header, rows
}

// writeStatsCSV writes a header, then a row a CPU.
func writeStatsCSV(w io.Writer, cpus []engine.CPUStats, t *StatsTotals) error {
	header, rows := statsRows(cpus, t)
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
func writeStatsTable(w io.Writer, cpus []engine.CPUStats, t *StatsTotals) error {
	header, rows := statsRows(cpus, t)
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
