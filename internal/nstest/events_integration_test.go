//go:build linux

package nstest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// testWait bounds the tests' waits for an event.
const testWait = 20 * time.Second

// TestConntrackE runs conntrack -E twice in one namespace, keeping the
// counted lines or not: each run reports events once ConntrackE returns,
// counts the lines match accepts and keeps the sentinel lines.
func TestConntrackE(t *testing.T) {
	RequireCommand(t, "conntrack")
	n := New(t)
	next := 1
	for i, store := range []bool{true, false} {
		t.Run(fmt.Sprintf("store=%v", store), func(t *testing.T) {
			first := next
			flow := fmt.Sprintf(" src=198.18.0.1 dst=198.18.0.2 sport=%d dport=53 ", 1000+i)
			c, after := n.ConntrackE(t, next, func(l string) bool { return strings.Contains(l, flow) }, store,
				"-e", "NEW")
			if after <= first {
				t.Fatalf("ConntrackE(next %d) returned next %d", first, after)
			}
			next = after
			n.Run(t, "conntrack", "-I", "-t", "60", "-s", "198.18.0.1", "-d", "198.18.0.2", "-p", "udp",
				"--sport", fmt.Sprint(1000+i), "--dport", "53")
			last := next
			n.InsertSentinel(t, last)
			next++
			if l := c.WaitLine(SentinelLine(last), testWait); !strings.Contains(l, "[NEW] udp ") {
				t.Fatalf("WaitLine(%q) = %q, want a [NEW] line", SentinelLine(last), l)
			}
			if l := c.WaitLine(flow, 0); (l != "") != store {
				t.Errorf("WaitLine(flow) = %q with store %v", l, store)
			}
			if l := c.WaitLine("dport=54 ", 50*time.Millisecond); l != "" {
				t.Errorf("WaitLine of no event = %q", l)
			}
			lines, counted, all := c.Stop(t)
			if counted != 1 {
				t.Errorf("counted %d lines, want 1", counted)
			}
			sentinels := 0
			for _, l := range lines {
				if strings.Contains(l, " src="+SentinelSrc+" ") {
					sentinels++
				}
			}
			// The sentinels of this run: those ConntrackE inserted
			// before the first one reported, which may still be
			// reported, are not counted on.
			if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, SentinelLine(after-1)) }) ||
				sentinels < 2 || sentinels > next-first {
				t.Errorf("%d sentinel lines of %d sentinels:\n%s", sentinels, next-first, strings.Join(lines, "\n"))
			}
			kept := sentinels
			if store {
				kept++
			}
			if len(lines) != kept || all < sentinels+1 {
				t.Errorf("%d lines kept, %d in all, for %d sentinels and a counted line (store %v)",
					len(lines), all, sentinels, store)
			}
		})
	}
}

// TestConntrackEExpect runs conntrack -E expect: it reports events once
// ConntrackEExpect returns, with blanks collapsed, and counts every line.
func TestConntrackEExpect(t *testing.T) {
	RequireCommand(t, "conntrack", "nft")
	n := New(t)
	c := n.ConntrackEExpect(t)
	port := n.FTPExpectation(t, true).DataPort
	want := fmt.Sprintf(" proto=6 src=%s dst=%s sport=0 dport=%d ", FTPAddr, FTPAddr, port)
	l := c.WaitLine(fmt.Sprintf(" dport=%d ", port), testWait)
	if !strings.HasPrefix(l, "[NEW] ") || !strings.Contains(l, want) || !strings.HasSuffix(l, " helper=ftp") ||
		strings.Contains(l, "  ") {
		t.Errorf("line %q, want [NEW] ...%s... helper=ftp with single blanks", l, want)
	}
	lines, counted, all := c.Stop(t)
	if len(lines) < 2 || counted != len(lines) || all != len(lines) {
		t.Errorf("%d lines kept, %d counted, %d in all; want the same, at least 2", len(lines), counted, all)
	}
}
