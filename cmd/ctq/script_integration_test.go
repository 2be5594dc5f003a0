//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctq/internal/nstest"
)

// dportOf is the original-direction destination port of a conntrack -L
// line (a GRE line's dstkey), 0 for a protocol without ports.
var dportOf = regexp.MustCompile(`\b(?:dport=(\d+)|dstkey=0x([0-9a-f]+))`)

func TestCountByMatchesConntrack(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(600))

	want := map[int]int{}
	for _, l := range strings.Split(strings.TrimSpace(ns.Run(t, "conntrack", "-L")), "\n") {
		port := 0
		if m := dportOf.FindStringSubmatch(l); m != nil {
			if m[1] != "" {
				port, _ = strconv.Atoi(m[1])
			} else {
				v, _ := strconv.ParseInt(m[2], 16, 64)
				port = int(v)
			}
		}
		want[port]++
	}

	var out, errb bytes.Buffer
	rc := run([]string{"--netns", ns.Name()}, strings.NewReader("count by dport\n"), &out, &errb)
	if rc != 0 {
		t.Fatalf("count by dport: exit %d: %s", rc, errb.String())
	}
	got := map[int]int{}
	type row struct{ port, n int }
	var rows []row
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			t.Fatalf("line %q is not `PORT COUNT`", l)
		}
		p, err1 := strconv.Atoi(f[0])
		n, err2 := strconv.Atoi(f[1])
		if err1 != nil || err2 != nil {
			t.Fatalf("line %q is not `PORT COUNT`", l)
		}
		got[p] = n
		rows = append(rows, row{p, n})
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("count by dport:\n%v\nconntrack -L gives\n%v", got, want)
	}
	sorted := slices.IsSortedFunc(rows, func(a, b row) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return a.port - b.port
	})
	if !sorted {
		t.Errorf("groups not largest first, ties by port:\n%s", out.String())
	}
}

func TestScriptExitCodeAndExplain(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(300))
	syn := strings.Count(ns.Run(t, "conntrack", "-L", "-p", "tcp", "--state", "SYN_SENT"), "\n")
	if syn == 0 {
		t.Fatal("the table has no SYN_SENT entry")
	}

	script := filepath.Join(t.TempDir(), "check.ctq")
	text := "# alert on half-open connections\n" +
		"let n = count where state == \"SYN_SENT\"\n" +
		"if n > 0 { print \"x=\" + string(n); exit 3 }\n" +
		"print \"unreachable\"\n"
	if err := os.WriteFile(script, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, rc := ctq(t, "--netns", ns.Name(), script)
	if rc != 3 || out != fmt.Sprintf("x=%d\n", syn) {
		t.Errorf("script: exit %d, stdout %q, stderr %q; want 3 and x=%d", rc, out, stderr, syn)
	}

	// A runtime error stops the script with exit code 1 and names the line.
	if err := os.WriteFile(script, []byte("print 1\nset netns \"ctqt-missing-ns\"\nprint 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, rc = ctq(t, "--netns", ns.Name(), script)
	if rc != 1 || out != "1\n" || !strings.Contains(stderr, script+":2: set netns") {
		t.Errorf("runtime error: exit %d, stdout %q, stderr %q", rc, out, stderr)
	}

	// explain counts what the kernel returns and what matches.
	out, stderr, rc = ctq(t, "--netns", ns.Name(), "-e", "explain count where proto == tcp and dport == 22 and mark >= 0")
	match := strings.Count(ns.Run(t, "conntrack", "-L", "-p", "tcp", "--dport", "22"), "\n")
	if rc != 0 || !strings.Contains(out, "kernel filter:     proto tcp, dport 22\n") ||
		!strings.Contains(out, fmt.Sprintf("matching:          %d entries\n", match)) {
		t.Errorf("explain: exit %d, stderr %q, output:\n%s", rc, stderr, out)
	}
}

func TestShellWatchInterruptAndPrint(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "tmux")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(20))
	bin := buildCtq(t)
	s := startShell(t, bin, "--netns", ns.Name())

	s.keys("watch new", "Enter")
	s.waitForLast("ctq> watch new")
	// Give the watch a moment to subscribe; Ctrl-C must end it either way.
	time.Sleep(300 * time.Millisecond)
	s.keys("C-c")
	s.waitForLast("ctq>")
	if !s.alive() {
		t.Fatal("Ctrl-C during watch ended the shell")
	}
	s.keys("print 6*7", "Enter")
	s.waitFor("\n42\n")

	// Variables live across lines; exit ends the shell.
	s.keys("let n = count", "Enter")
	s.waitForLast("ctq>")
	s.keys(`if n == 20 { print "twenty" }`, "Enter")
	s.waitFor("\ntwenty\n")
	s.keys("exit", "Enter")
	deadline := time.Now().Add(10 * time.Second)
	for s.alive() {
		if time.Now().After(deadline) {
			t.Fatalf("exit did not end the shell; screen:\n%s", s.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
