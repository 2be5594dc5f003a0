//go:build linux

package main

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// The behaviours of issue #12 reachable from ctq's own statements. Those
// marked "engine" need the engine side of Plan.Zero, Plan.Echo,
// Plan.IfAbsent and Change.SetState (engine.Exec, engine/ctnetlink).

// flows is a small table: four TCP entries to port 22 (two of mark 1),
// two UDP entries to port 53.
var flows = []string{
	"-A -t 100 -u SEEN_REPLY,ASSURED -s 198.18.0.1 -d 203.0.113.1 -p tcp --sport 1001 --dport 22 --state ESTABLISHED -m 1",
	"-A -t 100 -u SEEN_REPLY,ASSURED -s 198.18.0.2 -d 203.0.113.1 -p tcp --sport 1002 --dport 22 --state ESTABLISHED -m 1",
	"-A -t 100 -u SEEN_REPLY,ASSURED -s 198.18.1.1 -d 203.0.113.1 -p tcp --sport 1003 --dport 22 --state ESTABLISHED",
	"-A -t 100 -u SEEN_REPLY,ASSURED -s 198.18.1.2 -d 203.0.113.1 -p tcp --sport 1004 --dport 22 --state ESTABLISHED",
	"-A -t 100 -s 198.18.2.1 -d 203.0.113.53 -p udp --sport 1005 --dport 53",
	"-A -t 100 -s 198.18.2.2 -d 203.0.113.53 -p udp --sport 1006 --dport 53",
}

// ctqOK runs ctq in ns and fails the test unless it exits 0.
func ctqOK(t *testing.T, ns *nstest.NS, args ...string) (string, string) {
	t.Helper()
	out, stderr, rc := ctq(t, append([]string{"--netns", ns.Name()}, args...)...)
	if rc != 0 {
		t.Fatalf("ctq %q: exit %d: %s", args, rc, stderr)
	}
	return out, stderr
}

var timeoutField = regexp.MustCompile(`-t \d+ `)

// saveLines are save lines sorted, their timeouts masked.
func saveLines(out string) []string {
	var l []string
	for _, s := range strings.Split(strings.TrimSpace(out), "\n") {
		if s != "" {
			l = append(l, timeoutField.ReplaceAllString(s, "-t T "))
		}
	}
	sort.Strings(l)
	return l
}

// TestDeleteAsSave (engine): delete ... as save prints each deleted entry
// as conntrack -D -o save does, the summary on stderr.
func TestDeleteAsSave(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, flows)
	want := saveLines(ns.Run(t, "conntrack", "-L", "-m", "1", "-o", "save"))
	out, stderr := ctqOK(t, ns, "-e", "delete where mark == 1 as save")
	if got := saveLines(out); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("delete as save printed\n%s\nwant the entries deleted\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !strings.HasPrefix(stderr, "ctq: deleted 2 entries") {
		t.Errorf("stderr %q", stderr)
	}
	if n := ns.Run(t, "conntrack", "-C"); n != "4\n" {
		t.Errorf("%s entries left, want 4", n)
	}
}

// TestUpdateState (engine): update set state = ... changes the TCP state
// (conntrack -U --state) and, with as, prints the entries as the kernel
// holds them after the change.
func TestUpdateState(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, flows)
	out, stderr := ctqOK(t, ns, "-e", `update set state = "CLOSE_WAIT" where proto == tcp and mark == 1 as text`)
	if n := strings.Count(out, " CLOSE_WAIT "); n != 2 || strings.Count(out, "\n") != 2 {
		t.Errorf("update ... as text printed %q, want the 2 entries in CLOSE_WAIT", out)
	}
	if stderr != "ctq: updated 2 entries\n" {
		t.Errorf("stderr %q", stderr)
	}
	if n := strings.Count(ns.Run(t, "conntrack", "-L", "-p", "tcp", "--state", "CLOSE_WAIT"), "\n"); n != 2 {
		t.Errorf("conntrack lists %d entries in CLOSE_WAIT, want 2", n)
	}
	// Entries in that state already are not changed, nor counted.
	out, _ = ctqOK(t, ns, "-e", `update set state = "CLOSE_WAIT" where proto == tcp and dport == 22`)
	if out != "updated 2 entries\n" {
		t.Errorf("second update: %q, want the 2 entries not yet in CLOSE_WAIT", out)
	}
}

// TestUpdateCountsChanges: an update neither sends nor counts entries it
// would leave as they are (conntrack -U skips them); dry counts the same.
func TestUpdateCountsChanges(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, flows)
	out, _ := ctqOK(t, ns, "-e", "update set mark = 1 where proto == tcp dry")
	if out != "would update 2 entries\n" {
		t.Errorf("dry: %q", out)
	}
	out, _ = ctqOK(t, ns, "-e", "update set mark = 1 where proto == tcp")
	if out != "updated 2 entries\n" {
		t.Errorf("update: %q, want the 2 TCP entries without mark 1", out)
	}
	out, _ = ctqOK(t, ns, "-e", "update set mark = 1 where proto == tcp")
	if out != "updated 0 entries\n" {
		t.Errorf("update again: %q", out)
	}
	if n := strings.Count(ns.Run(t, "conntrack", "-L", "-p", "tcp", "-m", "1"), "\n"); n != 4 {
		t.Errorf("%d TCP entries of mark 1, want 4", n)
	}
}

// TestInsertIfAbsent (engine): insert if absent leaves an existing entry
// as it is and counts it (conntrack -A); a plain insert of it fails.
func TestInsertIfAbsent(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, flows[:1])
	rec := func(sport int) string {
		return fmt.Sprintf(`{proto: tcp, src: "198.18.0.1", dst: "203.0.113.1", sport: %d, dport: 22, timeout: 100, state: "ESTABLISHED", mark: 9}`, sport)
	}
	out, stderr := ctqOK(t, ns, "-e", "insert if absent ["+rec(1001)+", "+rec(2001)+"]")
	if out != "inserted 1 entry, 1 existed\n" {
		t.Errorf("insert if absent: %q (stderr %q)", out, stderr)
	}
	if l := ns.Run(t, "conntrack", "-L", "-p", "tcp", "--sport", "1001"); !strings.Contains(l, "mark=1 ") {
		t.Errorf("the existing entry changed: %s", l)
	}
	if _, _, rc := ctq(t, "--netns", ns.Name(), "-e", "insert "+rec(1001)); rc != 1 {
		t.Errorf("insert of an existing entry: exit %d, want 1", rc)
	}
	if n := ns.Run(t, "conntrack", "-C"); n != "2\n" {
		t.Errorf("%s entries, want 2", n)
	}
}

// TestListZero (engine): list ... zero lists the counters and zeroes
// them (conntrack -L -z).
func TestListZero(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "nft")
	t.Parallel()
	ns := nstest.New(t)
	ns.Run(t, "nft", "add table inet ctqzero; add chain inet ctqzero out { type filter hook output priority 0; }; "+
		"add rule inet ctqzero out ct state new counter")
	port := strconv.Itoa(ns.TCPExchange(t))
	out, _ := ctqOK(t, ns, "-e", "list where family == ipv4 and proto == tcp and dport == "+port+" zero as extended")
	if !strings.Contains(out, "dport="+port) || strings.Contains(out, "packets=0 ") {
		t.Errorf("list zero printed %q, want the entry with its counters before zeroing", out)
	}
	after := ns.Run(t, "conntrack", "-L", "-p", "tcp", "--dport", port, "-o", "extended")
	if strings.Count(after, "packets=0 bytes=0") != 2 {
		t.Errorf("after list zero conntrack shows %q, want zero counters", after)
	}
}

// TestFailEmpty: --fail-empty makes a statement that selects or changes
// nothing exit 1.
func TestFailEmpty(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, flows)
	for _, tt := range []struct {
		stmt string
		rc   int
	}{
		{"delete where mark == 99", 1},
		{"update set mark = 1 where mark == 1", 1},
		{"list where dport == 80", 1},
		{"count where dport == 22", 0},
		{"delete where proto == udp and sport == 1006", 0},
	} {
		if _, stderr, rc := ctq(t, "--netns", ns.Name(), "--fail-empty", "-e", tt.stmt); rc != tt.rc {
			t.Errorf("--fail-empty %q: exit %d, want %d (%s)", tt.stmt, rc, tt.rc, stderr)
		}
		if _, _, rc := ctq(t, "--netns", ns.Name(), "-e", tt.stmt); rc != 0 {
			t.Errorf("%q: exit %d without --fail-empty", tt.stmt, rc)
		}
	}
}

// TestGetByIDAndExpect: get {id: N} finds the entry conntrack -o id shows
// with that id; get expect the expectation of a tuple.
func TestGetByIDAndExpect(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "nft")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, flows)
	line := ns.Run(t, "conntrack", "-L", "-s", "198.18.1.2", "-o", "id")
	m := regexp.MustCompile(`id=(\d+)`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("no id in %q", line)
	}
	// The remaining timeout and delta-time may tick between the two reads.
	ticking := regexp.MustCompile(`^(\S+ +\d+ )\d+|delta-time=\d+`)
	settle := func(s string) string { return ticking.ReplaceAllString(s, "${1}T") }
	out, _ := ctqOK(t, ns, "-e", "get {id: "+m[1]+"} as id")
	if settle(out) != settle(line) {
		t.Errorf("get {id: %s}: %q, conntrack -L -o id: %q", m[1], out, line)
	}
	out, _ = ctqOK(t, ns, "-e", `get {proto: tcp, src: "198.18.1.2", dst: "203.0.113.1", sport: 1004, dport: 22, id: `+m[1]+`} as id`)
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "src=198.18.1.2 ") || !strings.HasSuffix(out, " id="+m[1]+"\n") {
		t.Errorf("get by tuple and id: %q", out)
	}
	if out, _, rc := ctq(t, "--netns", ns.Name(), "--fail-empty", "-e", `get {proto: tcp, src: "198.18.1.2", dst: "203.0.113.1", sport: 1004, dport: 22, id: 1}`); rc != 1 || out != "" {
		t.Errorf("get by tuple with another id: exit %d, %q", rc, out)
	}

	ftp := ns.FTPExpectation(t, true)
	all := ns.Run(t, "conntrack", "-L", "expect")
	fields := regexp.MustCompile(`proto=6 src=(\S+) dst=(\S+) sport=(\d+) dport=(\d+)`).FindStringSubmatch(all)
	if fields == nil {
		t.Fatalf("no expectation tuple in %q (%+v)", all, ftp)
	}
	out, _ = ctqOK(t, ns, "-e", fmt.Sprintf(`get expect {proto: tcp, src: %q, dst: %q, sport: %s, dport: %s}`, fields[1], fields[2], fields[3], fields[4]))
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "dport="+fields[4]) {
		t.Errorf("get expect: %q; conntrack -L expect: %q", out, all)
	}
}

// TestProtocolNamesAndMasks: proto == NAME of /etc/protocols, and any
// address mask (conntrack --mask-src).
func TestProtocolNamesAndMasks(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, flows)
	ctqOK(t, ns, "-e", `insert {proto: "esp", src: "198.18.3.1", dst: "203.0.113.9", timeout: 100}`)
	if out, _ := ctqOK(t, ns, "-e", "count where proto == esp"); out != "1\n" {
		t.Errorf("count where proto == esp: %q", out)
	}
	want := strings.Count(ns.Run(t, "conntrack", "-L", "-s", "198.18.0.2", "--mask-src", "255.255.0.255"), "\n")
	out, _ := ctqOK(t, ns, "-e", `count where mask(src, "255.255.0.255") == "198.18.0.2"`)
	// 198.18.0.2, 198.18.1.2 and 198.18.2.2
	if out != fmt.Sprintf("%d\n", want) || want != 3 {
		t.Errorf("mask: ctq counts %q, conntrack --mask-src lists %d", out, want)
	}
}

// TestClearLabels: update set labels = [] clears every label, labels = L
// sets exactly L.
func TestClearLabels(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "nft")
	t.Parallel()
	ns := nstest.New(t)
	// A rule that sets ct labels makes the kernel give new entries room
	// for labels.
	ns.Run(t, "nft", "add table inet lbl; add chain inet lbl out { type filter hook output priority 20; }; add rule inet lbl out udp dport 5001 ct label set 1")
	ns.Load(t, flows)
	out, _ := ctqOK(t, ns, "-e", "update set labels += [2, 70] where proto == tcp")
	if out != "updated 4 entries\n" {
		t.Fatalf("labels +=: %q", out)
	}
	out, _ = ctqOK(t, ns, "-e", "update set labels = [3] where mark == 1", "-e", "count where 3 in labels and !(2 in labels) and !(70 in labels)")
	if out != "updated 2 entries\n2\n" {
		t.Errorf("labels = [3]: %q", out)
	}
	out, _ = ctqOK(t, ns, "-e", "update set labels = [] where proto == tcp", "-e", "count where labels != labels or 2 in labels or 3 in labels or 70 in labels")
	if out != "updated 4 entries\n0\n" {
		t.Errorf("labels = []: %q", out)
	}
}
