//go:build linux

package main

import (
	"fmt"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// TestExampleKillHost runs kill-host.ctq on a live table: every flow of
// 203.0.113.7 goes, the others stay.
func TestExampleKillHost(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(300)) // destinations 203.0.113.1 to .7
	before := ns.Run(t, "conntrack", "-L")
	host := strings.Count(before, "203.0.113.7 ")
	out, stderr, rc := ctq(t, "--netns", ns.Name(), "../../examples/kill-host.ctq")
	if rc != 0 || !strings.HasPrefix(out, "deleted ") {
		t.Fatalf("exit %d, %q, %s", rc, out, stderr)
	}
	after := ns.Run(t, "conntrack", "-L")
	if strings.Contains(after, "203.0.113.7 ") || host == 0 {
		t.Errorf("flows of 203.0.113.7 before %d, some left:\n%s", host, after)
	}
	if strings.Count(before, "\n")-strings.Count(after, "\n") == 0 {
		t.Error("nothing was deleted")
	}
}

// TestExampleSynFloodAlert runs syn-flood-alert.ctq on a table with more
// half-open connections than its threshold: it prints and exits 3.
func TestExampleSynFloodAlert(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	var lines []string
	for i := 0; i < 1001; i++ {
		lines = append(lines, fmt.Sprintf("-A -t 100 -u UNSET -s 198.18.%d.%d -d 203.0.113.80 -p tcp --sport 40000 --dport 80 --state SYN_SENT", i/250, 1+i%250))
	}
	ns.Load(t, lines)
	out, stderr, rc := ctq(t, "--netns", ns.Name(), "../../examples/syn-flood-alert.ctq")
	if rc != 3 || !strings.HasPrefix(out, "SYN_SENT flood: 1001 half-open connections\n") || !strings.Contains(out, "203.0.113.80") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 3, the alert and the top destination", rc, out, stderr)
	}
}
