package format

import (
	"strconv"
	"strings"
	"testing"

	"ctq/engine"
)

// counters builds counters from "name=value name=value".
func counters(s string) []engine.StatCounter {
	var out []engine.StatCounter
	for _, f := range strings.Fields(s) {
		name, v, _ := strings.Cut(f, "=")
		n, _ := strconv.ParseUint(v, 10, 64)
		out = append(out, engine.StatCounter{Name: name, Value: n})
	}
	return out
}

func TestAppendCPUStats(t *testing.T) {
	tests := []struct {
		s          engine.CPUStats
		text, json string
	}{
		{
			// conntrack -S on kernel 6.18 (conntrack-cli.md §4.6).
			engine.CPUStats{CPU: 0, Counters: counters("found=0 invalid=0 insert=3758 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0")},
			"cpu=0   \tfound=0 invalid=0 insert=3758 insert_failed=0 drop=0 early_drop=0 error=0 search_restart=0 clash_resolve=0 chaintoolong=0 ",
			`{"cpu":0,"found":0,"invalid":0,"insert":3758,"insert_failed":0,"drop":0,"early_drop":0,"error":0,"search_restart":0,"clash_resolve":0,"chaintoolong":0}`,
		},
		{
			// conntrack -S expect (captures/expect2.txt).
			engine.CPUStats{CPU: 0, Counters: counters("expect_new=0 expect_create=4 expect_delete=3")},
			"cpu=0   \texpect_new=0 expect_create=4 expect_delete=3 ",
			`{"cpu":0,"expect_new":0,"expect_create":4,"expect_delete":3}`,
		},
		{
			engine.CPUStats{CPU: 12345, Counters: counters("found=1")},
			"cpu=12345\tfound=1 ",
			`{"cpu":12345,"found":1}`,
		},
	}
	for _, tt := range tests {
		if got := string(AppendCPUStats(nil, &tt.s)); got != tt.text {
			t.Errorf("text\n got %q\nwant %q", got, tt.text)
		}
		if got := string(AppendCPUStatsJSON(nil, &tt.s)); got != tt.json {
			t.Errorf("json\n got %q\nwant %q", got, tt.json)
		}
	}
}

func TestWriteStats(t *testing.T) {
	cpus := []engine.CPUStats{
		{CPU: 0, Counters: []engine.StatCounter{{Name: "found", Value: 0}, {Name: "insert", Value: 12}}},
		{CPU: 1, Counters: []engine.StatCounter{{Name: "found", Value: 3}, {Name: "insert", Value: 1234567}}},
	}
	totals := &StatsTotals{Entries: 7, Max: 65536}
	tests := []struct {
		name, format string
		cpus         []engine.CPUStats
		totals       *StatsTotals
		want         string
	}{
		{"text", "text", cpus, totals,
			"cpu=0   \tfound=0 insert=12 \ncpu=1   \tfound=3 insert=1234567 \nentries=7 max=65536\n"},
		{"text expect", "text", cpus, nil,
			"cpu=0   \tfound=0 insert=12 \ncpu=1   \tfound=3 insert=1234567 \n"},
		{"json", "json", cpus, totals,
			`{"cpu":0,"found":0,"insert":12}` + "\n" + `{"cpu":1,"found":3,"insert":1234567}` + "\n" + `{"entries":7,"max":65536}` + "\n"},
		{"csv", "csv", cpus, totals,
			"cpu,found,insert,entries,max\n0,0,12,7,65536\n1,3,1234567,7,65536\n"},
		{"csv expect", "csv", cpus, nil,
			"cpu,found,insert\n0,0,12\n1,3,1234567\n"},
		{"table", "table", cpus, totals,
			"CPU  FOUND   INSERT  ENTRIES    MAX\n" +
				"  0      0       12        7  65536\n" +
				"  1      3  1234567        7  65536\n"},
		{"no cpus", "csv", nil, totals, "cpu,entries,max\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b strings.Builder
			if err := WriteStats(&b, tt.format, tt.cpus, tt.totals); err != nil {
				t.Fatal(err)
			}
			if b.String() != tt.want {
				t.Errorf("got\n%q\nwant\n%q", b.String(), tt.want)
			}
		})
	}
	for _, bad := range []string{"xml", "save", "nope"} {
		var b strings.Builder
		if err := WriteStats(&b, bad, cpus, totals); err == nil || b.Len() > 0 {
			t.Errorf("WriteStats in %s: %v, wrote %q; want an error and nothing written", bad, err, b.String())
		}
	}
}
