package format

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"ctq/internal/quote"

	"ctq/engine"
)

// WriteGroups writes the groups of a grouping (count by, top, sum, min,
// max, avg), in their order, in format name: json gives one object a group
// ({"dport":443,"count":1520}), csv a header of cols then a row a group,
// and every other format aligned columns for people (the keys
// left-aligned, then the value right-aligned). cols names the keys, then
// the value. Errors writing to w are wrapped as "write output".
func WriteGroups(w io.Writer, name string, cols []string, groups []engine.Group) error {
	var err error
	switch KindOf(name) {
	case KindJSON:
		err = writeGroupsJSON(w, cols, groups)
	case KindCSV:
		err = writeGroupsCSV(w, cols, groups)
	default:
		err = writeGroupsText(w, groups)
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// groupRow is a group's keys, then its value, as text; esc escapes the
// control characters of the keys (quote.Escape, or csvEscape for csv).
func groupRow(g *engine.Group, esc func(string) string) []string {
	row := make([]string, 0, len(g.Keys)+1)
	for _, k := range g.Keys {
		row = append(row, esc(Display(k)))
	}
	return append(row, number(g.Value))
}

// writeGroupsText writes the keys left-aligned and the value right-aligned,
// two spaces apart. The widths need every row before the first is
// written: a first pass formats each cell into a scratch buffer to
// measure it (two halves of the rows at once when there are many), the
// second formats it again and writes it out padded through a buffered
// writer. Formatting a cell twice costs less than keeping the text of a
// few hundred thousand rows.
func writeGroupsText(w io.Writer, groups []engine.Group) error {
	var widths []int
	if len(groups) >= parallelRows {
		var wg sync.WaitGroup
		var first []int
		half := len(groups) / 2
		wg.Go(func() { first = groupWidths(groups[:half]) })
		widths = groupWidths(groups[half:])
		wg.Wait()
		for j := range widths {
			widths[j] = max(widths[j], first[j])
		}
	} else {
		widths = groupWidths(groups)
	}
	var cell []byte
	bw := bufio.NewWriterSize(w, 64<<10)
	for i := range groups {
		g := &groups[i]
		last := len(g.Keys)
		for j := 0; j <= last; j++ {
			cell = appendGroupCell(cell[:0], g, j)
			pad := widths[j] - utf8.RuneCount(cell)
			if j == last {
				writeSpaces(bw, pad)
				bw.Write(cell)
				bw.WriteByte('\n')
				continue
			}
			bw.Write(cell)
			writeSpaces(bw, pad+2)
		}
	}
	return bw.Flush()
}

// parallelRows is the fewest rows whose widths writeGroupsText measures
// in two halves at once.
const parallelRows = 1 << 14

// groupWidths is the width of each column of groups' rows in runes: the
// keys', then the value's. Every group has as many keys as the first.
func groupWidths(groups []engine.Group) []int {
	if len(groups) == 0 {
		return nil
	}
	widths := make([]int, len(groups[0].Keys)+1)
	var cell []byte
	for i := range groups {
		g := &groups[i]
		for j := range widths {
			cell = appendGroupCell(cell[:0], g, j)
			widths[j] = max(widths[j], utf8.RuneCount(cell))
		}
	}
	return widths
}

// appendGroupCell appends cell j of g's row: key j, or after the keys the
// value.
func appendGroupCell(b []byte, g *engine.Group, j int) []byte {
	if j < len(g.Keys) {
		return appendKeyText(b, g.Keys[j])
	}
	return appendNumber(b, g.Value)
}

// appendNumber appends v as number renders it; a whole number (a count,
// a sum of counters) as an integer, which is the same text, sooner.
func appendNumber(b []byte, v float64) []byte {
	if v == math.Trunc(v) && math.Abs(v) < 1<<53 && (v != 0 || !math.Signbit(v)) {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendFloat(b, v, 'f', -1, 64)
}

// appendKeyText appends a group key as Display shows it, escaped as
// quote.Escape does; addresses and integers without a string between.
func appendKeyText(b []byte, k any) []byte {
	switch x := k.(type) {
	case netip.Addr:
		if x.IsValid() {
			return x.AppendTo(b)
		}
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	}
	return quote.Append(b, Display(k))
}

// spaces pads the columns of writeGroupsText.
const spaces = "                                                                "

// writeSpaces writes n spaces to w (none when n is not positive); errors
// are the buffered writer's, returned by its Flush.
func writeSpaces(w *bufio.Writer, n int) {
	for n > 0 {
		k := min(n, len(spaces))
		w.WriteString(spaces[:k])
		n -= k
	}
}

// writeGroupsJSON writes one object a group, keys named by cols.
func writeGroupsJSON(w io.Writer, cols []string, groups []engine.Group) error {
	var b strings.Builder
	for i := range groups {
		if err := writeGroupObject(&b, cols, &groups[i]); err != nil {
			return err
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeGroupObject writes one group as a JSON object, keys named by cols.
func writeGroupObject(b *strings.Builder, cols []string, g *engine.Group) error {
	b.WriteByte('{')
	for i, k := range g.Keys {
		name, _ := json.Marshal(cols[i])
		val, err := json.Marshal(k)
		if err != nil {
			return err
		}
		fmt.Fprintf(b, "%s:%s,", name, val)
	}
	name, _ := json.Marshal(cols[len(cols)-1])
	fmt.Fprintf(b, "%s:%s}", name, number(g.Value))
	return nil
}

// writeGroupsCSV writes a header of cols, then a row a group.
func writeGroupsCSV(w io.Writer, cols []string, groups []engine.Group) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(cols); err != nil {
		return err
	}
	for i := range groups {
		if err := cw.Write(groupRow(&groups[i], csvEscape)); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// GroupReportWriter writes the reports of a counting watch ("watch new
// count by dport every 1s"), one an interval. Make it with
// NewGroupReports.
type GroupReportWriter struct {
	w    io.Writer
	kind Kind
	cols []string
	csv  *csv.Writer
}

// NewGroupReports returns a GroupReportWriter to w in format name: a line
// of text a report (the time, the total, then key=count pairs in the
// groups' order, and the lost events), a JSON object a report
// ({"time":...,"total":N,"groups":[...],"overflows":N}), or, for csv, a
// header of time and cols, written now, then a row a group. cols names the
// keys, then the value.
func NewGroupReports(name string, w io.Writer, cols []string) (*GroupReportWriter, error) {
	r := &GroupReportWriter{w: w, kind: KindOf(name), cols: cols}
	if r.kind == KindCSV {
		r.csv = csv.NewWriter(w)
		if err := r.csv.Write(append([]string{"time"}, cols...)); err != nil {
			return nil, fmt.Errorf("write output: %w", err)
		}
	}
	return r, nil
}

// Write writes one interval's report.
func (r *GroupReportWriter) Write(rep *engine.IntervalReport) error {
	at := rep.End.UTC().Format(time.RFC3339)
	var b strings.Builder
	switch r.kind {
	case KindJSON:
		fmt.Fprintf(&b, `{"time":%q,"total":%d,"groups":[`, at, rep.Total)
		for i := range rep.Groups {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeGroupObject(&b, r.cols, &rep.Groups[i]); err != nil {
				return err
			}
		}
		fmt.Fprintf(&b, "],\"overflows\":%d}\n", rep.Overflows)
	case KindCSV:
		for i := range rep.Groups {
			if err := r.csv.Write(append([]string{at}, groupRow(&rep.Groups[i], csvEscape)...)); err != nil {
				return err
			}
		}
		r.csv.Flush()
		return r.csv.Error()
	default:
		fmt.Fprintf(&b, "%s  total=%d", at, rep.Total)
		for _, g := range rep.Groups {
			if len(g.Keys) == 0 {
				continue
			}
			keys := make([]string, len(g.Keys))
			for i, k := range g.Keys {
				keys[i] = quote.Escape(Display(k))
			}
			fmt.Fprintf(&b, "  %s=%s", strings.Join(keys, "/"), number(g.Value))
		}
		if rep.Overflows > 0 {
			fmt.Fprintf(&b, "  (events lost: %d kernel overflows)", rep.Overflows)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(r.w, b.String())
	return err
}

// csvEscape escapes the control characters of a csv cell but those csv
// quotes (tab, CR, LF).
func csvEscape(s string) string {
	if quote.CleanKeepSpace(s) {
		return s
	}
	return string(quote.AppendKeepSpace(nil, s))
}
