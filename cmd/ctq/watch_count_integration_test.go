//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// TestWatchCountByDport counts NEW events per destination port during a
// load and checks that the intervals add up to what was loaded, port by
// port.
func TestWatchCountByDport(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	bin := buildCtq(t)
	ns := nstest.New(t)
	table := mixedTable(2000)
	want := map[string]int{}
	for _, l := range table {
		if f := strings.Fields(l); len(f) > 0 && strings.Contains(l, " -p tcp ") {
			for i := range f {
				if f[i] == "--dport" {
					want[f[i+1]]++
				}
			}
		}
	}

	var out strings.Builder
	wait := startCtq(t, bin, &out, "--netns", ns.Name(), "-o", "json",
		"-e", "watch new where proto == tcp count by dport every 1s for 3s")
	waitSubscribed(t, ns, 1)
	ns.Load(t, table)
	if stderr, err := wait(); err != nil {
		t.Fatalf("watch: %v: %s", err, stderr)
	}

	got := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(out.String()))
	for sc.Scan() {
		var r struct {
			Total  int `json:"total"`
			Groups []struct {
				Dport int `json:"dport"`
				Count int `json:"count"`
			} `json:"groups"`
			Overflows int `json:"overflows"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("report %q: %v", sc.Text(), err)
		}
		sum := 0
		for _, g := range r.Groups {
			got[strconv.Itoa(g.Dport)] += g.Count
			sum += g.Count
		}
		if sum != r.Total || r.Overflows != 0 {
			t.Errorf("report %q: groups add up to %d, total %d, overflows %d", sc.Text(), sum, r.Total, r.Overflows)
		}
	}
	if len(got) != len(want) {
		t.Errorf("ports counted %v, want %v", got, want)
	}
	for port, n := range want {
		if got[port] != n {
			t.Errorf("dport %s: %d events counted, %d loaded", port, got[port], n)
		}
	}
}
