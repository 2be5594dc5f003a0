//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// sortedMasked is a table listing with volatile fields masked, sorted, for
// comparing two namespaces (whose hash orders differ).
func sortedMasked(out string) []string {
	l := mask(out)
	sort.Strings(l)
	return l
}

func sameTable(t *testing.T, what string, got, want string) {
	t.Helper()
	g, w := sortedMasked(got), sortedMasked(want)
	if strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("%s: tables differ: %d lines vs %d", what, len(g), len(w))
		for i := 0; i < len(g) && i < len(w); i++ {
			if g[i] != w[i] {
				t.Errorf("first difference:\nctq side:       %s\nconntrack side: %s", g[i], w[i])
				break
			}
		}
	}
}

func TestDeleteMatchesConntrack(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	a, b := nstest.New(t), nstest.New(t)
	table := mixedTable(3000)
	a.Load(t, table)
	b.Load(t, table)

	out, stderr, rc := ctq(t, "--netns", a.Name(), "-e", `delete where proto==tcp && dport==22 && state=="ESTABLISHED"`)
	if rc != 0 {
		t.Fatalf("delete: exit %d: %s", rc, stderr)
	}
	b.Run(t, "sh", "-c", "conntrack -D -p tcp --dport 22 --state ESTABLISHED >/dev/null 2>&1")
	want := fmt.Sprintf("deleted %d entries\n", 3000-strings.Count(b.Run(t, "conntrack", "-L"), "\n"))
	if out != want {
		t.Errorf("delete printed %q, want %q", out, want)
	}
	sameTable(t, "after delete", a.Run(t, "conntrack", "-L"), b.Run(t, "conntrack", "-L"))

	// Deleting again finds nothing; dry runs touch nothing.
	out, _, rc = ctq(t, "--netns", a.Name(), "-e", `delete where proto==tcp && dport==22 && state=="ESTABLISHED"`)
	if rc != 0 || out != "deleted 0 entries\n" {
		t.Errorf("second delete: exit %d, %q", rc, out)
	}
	before := a.Run(t, "conntrack", "-C")
	out, _, rc = ctq(t, "--netns", a.Name(), "-e", `delete where proto == udp dry`)
	udp := strings.Count(a.Run(t, "conntrack", "-L", "-p", "udp"), "\n")
	if rc != 0 || out != fmt.Sprintf("would delete %d entries\n", udp) || a.Run(t, "conntrack", "-C") != before {
		t.Errorf("dry delete: exit %d, %q (udp entries %d), count %s -> %s", rc, out, udp, before, a.Run(t, "conntrack", "-C"))
	}
}

func TestBareDeleteRefused(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(50))
	out, stderr, rc := ctq(t, "--netns", ns.Name(), "-e", "delete")
	if rc != 2 || out != "" || !strings.Contains(stderr, "flush") {
		t.Errorf("bare delete: exit %d, stdout %q, stderr %q; want 2 and a hint to use flush", rc, out, stderr)
	}
	if n := ns.Run(t, "conntrack", "-C"); n != "50\n" {
		t.Errorf("bare delete removed entries: %s left", n)
	}
}

func TestUpdateMarksPortRange(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	var lines []string
	for p := 7990; p <= 8110; p++ {
		lines = append(lines, fmt.Sprintf("-A -t 300 -u SEEN_REPLY -s 198.18.7.1 -d 203.0.113.8 -r 203.0.113.8 -q 198.18.7.1 -p udp --sport 5000 --dport %d --reply-port-src %d --reply-port-dst 5000", p, p))
	}
	ns.Load(t, lines)
	out, stderr, rc := ctq(t, "--netns", ns.Name(), "-e", "update set mark = 7 where dport in 8000..8100")
	if rc != 0 || out != "updated 101 entries\n" {
		t.Fatalf("update: exit %d, %q, %s", rc, out, stderr)
	}
	marked := ns.Run(t, "conntrack", "-L", "-m", "7")
	if n := strings.Count(marked, "\n"); n != 101 {
		t.Errorf("conntrack -L -m 7 shows %d entries, want 101", n)
	}
	for _, l := range strings.Split(strings.TrimSpace(marked), "\n") {
		var port int
		if _, err := fmt.Sscanf(l[strings.Index(l, "dport="):], "dport=%d", &port); err != nil || port < 8000 || port > 8100 {
			t.Errorf("marked entry outside the range: %s", l)
		}
	}
}

func TestLoadAndFlush(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	dir := t.TempDir()
	var b strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "-A -t 600 -u SEEN_REPLY,ASSURED -s 198.18.%d.%d -d 203.0.113.9 -p tcp --sport %d --dport 443 --state ESTABLISHED\n", i/250, 1+i%250, 1024+i)
	}
	good := filepath.Join(dir, "good.save")
	if err := os.WriteFile(good, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.save")
	badText := "-A -t 600 -s 198.18.0.1 -d 203.0.113.9 -p udp --sport 1 --dport 2\n-A -t 600 -s 198.18.0.2 -d 203.0.113.9 -p udp --sport 1 --dport 99999\n"
	if err := os.WriteFile(bad, []byte(badText), 0o644); err != nil {
		t.Fatal(err)
	}

	// A file with a bad line applies nothing and names the line.
	out, stderr, rc := ctq(t, "--netns", ns.Name(), "-e", fmt.Sprintf("load %q", bad))
	if rc != 2 || out != "" || !strings.Contains(stderr, bad+":2:") {
		t.Errorf("bad load: exit %d, stdout %q, stderr %q; want 2 and %s:2:COL", rc, out, stderr, bad)
	}
	if n := ns.Run(t, "conntrack", "-C"); n != "0\n" {
		t.Errorf("a bad file was partly applied: %s entries", n)
	}

	out, stderr, rc = ctq(t, "--netns", ns.Name(), "-e", fmt.Sprintf("load %q", good))
	if rc != 0 || !strings.HasPrefix(out, "loaded 5000 of 5000 lines") {
		t.Fatalf("load: exit %d, %q, %s", rc, out, stderr)
	}
	if n := ns.Run(t, "conntrack", "-C"); n != "5000\n" {
		t.Errorf("after load: %s entries, want 5000", n)
	}

	out, stderr, rc = ctq(t, "--netns", ns.Name(), "-e", "flush")
	if rc != 0 || out != "flushed the conntrack table\n" {
		t.Errorf("flush: exit %d, %q, %s", rc, out, stderr)
	}
	if n := ns.Run(t, "conntrack", "-C"); n != "0\n" {
		t.Errorf("after flush: %s entries, want 0", n)
	}
}
