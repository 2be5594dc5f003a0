package repl

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"ctq/engine"
)

// number renders an aggregate value: whole numbers without a fraction.
func number(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// writeGroupsText writes the keys left-aligned and the value right-aligned,
// two spaces apart.
func writeGroupsText(w io.Writer, groups []engine.Group) error {
	rows := make([][]string, len(groups))
	var widths []int
	for i, g := range groups {
		row := make([]string, 0, len(g.Keys)+1)
		for _, k := range g.Keys {
			row = append(row, display(k))
		}
		row = append(row, number(g.Value))
		for j, cell := range row {
			if j == len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], utf8.RuneCountInString(cell))
		}
		rows[i] = row
	}
	var b strings.Builder
	for _, row := range rows {
		for j, cell := range row {
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(cell))
			switch {
			case j == len(row)-1:
				b.WriteString(pad + cell + "\n")
			default:
				b.WriteString(cell + pad + "  ")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeGroupsJSON writes one object a group, keys named by cols.
func writeGroupsJSON(w io.Writer, cols []string, groups []engine.Group) error {
	var b strings.Builder
	for _, g := range groups {
		if err := writeGroupObject(&b, cols, g); err != nil {
			return err
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeGroupObject writes one group as a JSON object, keys named by cols.
func writeGroupObject(b *strings.Builder, cols []string, g engine.Group) error {
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
	for _, g := range groups {
		row := make([]string, 0, len(g.Keys)+1)
		for _, k := range g.Keys {
			row = append(row, display(k))
		}
		if err := cw.Write(append(row, number(g.Value))); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
