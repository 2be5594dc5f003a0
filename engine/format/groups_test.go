package format

import (
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"ctq/engine"
	"ctq/internal/quote"
)

func TestWriteGroups(t *testing.T) {
	cols := []string{"proto", "dport", "count"}
	groups := []engine.Group{
		{Keys: []any{"tcp", 443}, Value: 1520},
		{Keys: []any{"udp", 53}, Value: 7},
		{Keys: []any{"tcp", 8080}, Value: 2.5},
	}
	tests := []struct{ format, want string }{
		{"text", "tcp  443   1520\nudp  53       7\ntcp  8080   2.5\n"},
		{"table", "tcp  443   1520\nudp  53       7\ntcp  8080   2.5\n"},
		{"json", `{"proto":"tcp","dport":443,"count":1520}` + "\n" +
			`{"proto":"udp","dport":53,"count":7}` + "\n" +
			`{"proto":"tcp","dport":8080,"count":2.5}` + "\n"},
		{"csv", "proto,dport,count\ntcp,443,1520\nudp,53,7\ntcp,8080,2.5\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		if err := WriteGroups(&b, tt.format, cols, groups); err != nil {
			t.Fatal(err)
		}
		if b.String() != tt.want {
			t.Errorf("%s: got\n%q\nwant\n%q", tt.format, b.String(), tt.want)
		}
	}
}

func TestGroupReports(t *testing.T) {
	cols := []string{"dport", "count"}
	end := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	reports := []engine.IntervalReport{
		{End: end, Total: 9, Groups: []engine.Group{{Keys: []any{443}, Value: 8}, {Keys: []any{53}, Value: 1}}},
		{End: end.Add(time.Second), Total: 0, Overflows: 2},
	}
	tests := []struct{ format, want string }{
		{"text", "2026-01-02T03:04:05Z  total=9  443=8  53=1\n" +
			"2026-01-02T03:04:06Z  total=0  (events lost: 2 kernel overflows)\n"},
		{"json", `{"time":"2026-01-02T03:04:05Z","total":9,"groups":[{"dport":443,"count":8},{"dport":53,"count":1}],"overflows":0}` + "\n" +
			`{"time":"2026-01-02T03:04:06Z","total":0,"groups":[],"overflows":2}` + "\n"},
		{"csv", "time,dport,count\n2026-01-02T03:04:05Z,443,8\n2026-01-02T03:04:05Z,53,1\n"},
	}
	for _, tt := range tests {
		var b strings.Builder
		w, err := NewGroupReports(tt.format, &b, cols)
		if err != nil {
			t.Fatal(err)
		}
		for i := range reports {
			if err := w.Write(&reports[i]); err != nil {
				t.Fatal(err)
			}
		}
		if b.String() != tt.want {
			t.Errorf("%s: got\n%q\nwant\n%q", tt.format, b.String(), tt.want)
		}
	}
}

func TestDisplay(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want string
	}{
		{nil, "nil"}, {"x y", "x y"}, {3.0, "3"}, {2.5, "2.5"}, {42, "42"},
		{[]any{1.0, "a"}, `[1,"a"]`}, {map[string]any{"k": true}, `{"k":true}`},
		{time.Second, "1s"},
	} {
		if got := Display(tt.v); got != tt.want {
			t.Errorf("Display(%#v) = %q, want %q", tt.v, got, tt.want)
		}
	}
}

// TestWriteGroupsTextAligned checks the text writer against the plain
// rendering it replaces: every cell through Display and quote.Escape,
// padded to its column's width in runes. The second table is measured
// in two halves, its widest key in the first and its widest value in
// the second.
func TestWriteGroupsTextAligned(t *testing.T) {
	many := make([]engine.Group, 2*parallelRows+3)
	for i := range many {
		many[i] = engine.Group{Keys: []any{netip.AddrFrom4([4]byte{192, 0, 2, byte(i)}), i % 100}, Value: float64(i % 7)}
	}
	many[5].Keys[0] = netip.MustParseAddr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff")
	many[len(many)-1].Value = 1234567
	for _, groups := range [][]engine.Group{{
		{Keys: []any{netip.MustParseAddr("2001:db8::1"), "tcp"}, Value: 3},
		{Keys: []any{netip.MustParseAddr("192.0.2.10"), "ü\x1b"}, Value: 1234567.5},
		{Keys: []any{netip.Addr{}, 22}, Value: 0},
		{Keys: []any{netip.MustParseAddr("fe80::1%eth0"), -7}, Value: 1e21},
	}, many} {
		checkGroupsText(t, groups)
	}
}

// checkGroupsText checks writeGroupsText on groups against the plain
// rendering.
func checkGroupsText(t *testing.T, groups []engine.Group) {
	t.Helper()
	var want strings.Builder
	var rows [][]string
	var widths []int
	for i := range groups {
		row := groupRow(&groups[i], quote.Escape)
		for j, cell := range row {
			if j == len(widths) {
				widths = append(widths, 0)
			}
			widths[j] = max(widths[j], utf8.RuneCountInString(cell))
		}
		rows = append(rows, row)
	}
	for _, row := range rows {
		for j, cell := range row {
			pad := strings.Repeat(" ", widths[j]-utf8.RuneCountInString(cell))
			if j == len(row)-1 {
				want.WriteString(pad + cell + "\n")
			} else {
				want.WriteString(cell + pad + "  ")
			}
		}
	}
	var got strings.Builder
	if err := writeGroupsText(&got, groups); err != nil {
		t.Fatal(err)
	}
	if got.String() != want.String() {
		t.Errorf("%d groups: got\n%.2000s\nwant\n%.2000s", len(groups), got.String(), want.String())
	}
}

func TestAppendNumber(t *testing.T) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 7, 1520, 2.5, -2.5, 1 << 52, 1<<53 - 1, 1 << 53, 1e21, -1e21, 1234567.5, math.Inf(1), math.NaN(), 0.1} {
		if got, want := string(appendNumber(nil, v)), number(v); got != want {
			t.Errorf("appendNumber(%v) = %q, want %q", v, got, want)
		}
	}
}
