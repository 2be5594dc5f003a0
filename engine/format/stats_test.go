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
