//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ctq/internal/nstest"
)

// accountRecord is the part of a json destroy record the test reads.
type accountRecord struct {
	Event        string `json:"event"`
	Proto        string `json:"proto"`
	Sport        int    `json:"sport"`
	Dport        int    `json:"dport"`
	OrigPackets  *int   `json:"orig_packets"`
	OrigBytes    *int   `json:"orig_bytes"`
	ReplyPackets *int   `json:"reply_packets"`
	ReplyBytes   *int   `json:"reply_bytes"`
	Start        string `json:"start"`
	Stop         string `json:"stop"`
}

// accountLog reads the json records of an accounting log ("" when the
// file is missing).
func accountLog(t *testing.T, path string) []accountRecord {
	t.Helper()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []accountRecord
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if line == "" {
			continue
		}
		var r accountRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%s: %v: %s", path, err, line)
		}
		out = append(out, r)
	}
	return out
}

// waitMarker creates and deletes tcp marker entries until one shows up in
// the log at path: the account runs and writes there.
func waitMarker(t *testing.T, ns *nstest.NS, path string, first int) int {
	t.Helper()
	for i := first; i < first+100; i++ {
		ns.Load(t, []string{fmt.Sprintf("-A -t 100 -u SEEN_REPLY,ASSURED -s 198.18.7.1 -d 203.0.113.7 -p tcp --sport %d --dport 9 --state ESTABLISHED", i)})
		ns.Run(t, "conntrack", "-D", "-s", "198.18.7.1", "-p", "tcp", "--sport", strconv.Itoa(i))
		for range 10 {
			for _, r := range accountLog(t, path) {
				if r.Sport == i && r.Dport == 9 {
					return i + 1
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Fatalf("no marker reached %s", path)
	return 0
}

// extendedCounters are the four counters of a conntrack -o extended line.
var extendedCounters = regexp.MustCompile(`packets=(\d+) bytes=(\d+) .*packets=(\d+) bytes=(\d+)`)

// TestAccountLogsLoopbackFlows runs account as json on real loopback
// traffic: the destroyed flow is logged with the counters conntrack showed
// before it went and with kernel timestamps; SIGHUP after a rename sends
// later records to a new file (logrotate); Ctrl-C ends it cleanly.
func TestAccountLogsLoopbackFlows(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "nft")
	t.Parallel()
	ns := nstest.New(t)
	ns.Run(t, "nft", "add table inet ctqacct; add chain inet ctqacct out { type filter hook output priority 0; }; "+
		"add rule inet ctqacct out ct state new counter")
	path := t.TempDir() + "/acct.json"
	cmd, stop := startAccount(t, ns, `account "`+path+`" where proto == tcp as json`, path)
	t.Cleanup(func() { stop("") })
	next := waitMarker(t, ns, path, 1000)

	port := ns.TCPExchange(t)
	ext := ns.Run(t, "conntrack", "-L", "-p", "tcp", "--dport", strconv.Itoa(port), "-o", "extended")
	m := extendedCounters.FindStringSubmatch(ext)
	if m == nil {
		t.Fatalf("no counters in conntrack -L -o extended: %q", ext)
	}
	ns.Run(t, "conntrack", "-D", "-p", "tcp", "--dport", strconv.Itoa(port))
	var rec *accountRecord
	for range 100 {
		for _, r := range accountLog(t, path) {
			if r.Dport == port {
				rec = &r
			}
		}
		if rec != nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rec == nil {
		t.Fatalf("the loopback flow to port %d is not in the log", port)
	}
	want := fmt.Sprintf("%s/%s/%s/%s", m[1], m[2], m[3], m[4])
	got := "nil"
	if rec.OrigPackets != nil && rec.OrigBytes != nil && rec.ReplyPackets != nil && rec.ReplyBytes != nil {
		got = fmt.Sprintf("%d/%d/%d/%d", *rec.OrigPackets, *rec.OrigBytes, *rec.ReplyPackets, *rec.ReplyBytes)
	}
	if rec.Event != "destroy" || rec.Proto != "tcp" || got != want || want == "0/0/0/0" {
		t.Errorf("record %+v: counters %s, conntrack showed %s", *rec, got, want)
	}
	if rec.Start == "" || rec.Stop == "" {
		t.Errorf("record without kernel timestamps: start %q stop %q", rec.Start, rec.Stop)
	}

	// logrotate: rename, SIGHUP, later records go to a new file.
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitMarker(t, ns, path, next)
	for _, r := range accountLog(t, path) {
		if r.Dport == port {
			t.Errorf("the flow logged before the rotation is in the new file too")
		}
	}
	found := false
	for _, r := range accountLog(t, path+".1") {
		found = found || r.Dport == port
	}
	if !found {
		t.Errorf("the rotated file lost the flow logged before the rotation")
	}
	stop("")
}

// recoveredNote tells stop that the account may or may not report one
// flow logged from a dump.
const recoveredNote = "(maybe one recovered)"

// startAccount runs the account statement stmt (writing to path) inside
// ns; stop interrupts it once and checks that it ends with exit 0 and
// the stderr text want after its first line (with recoveredNote: nothing,
// or the note that one flow was logged from a dump).
func startAccount(t *testing.T, ns *nstest.NS, stmt, path string) (*exec.Cmd, func(want string)) {
	t.Helper()
	bin := buildCtq(t)
	cmd := exec.Command("ip", "netns", "exec", ns.Name(), bin, "-e", stmt)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewReader(stderr)
	if first, err := lines.ReadString('\n'); err != nil || first != "ctq: accounting destroyed flows to "+path+"\n" {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("account: first line of stderr %q (%v)", first, err)
	}
	stopped := false
	return cmd, func(want string) {
		if stopped {
			return
		}
		stopped = true
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Errorf("interrupt account: %v", err)
		}
		rest, _ := io.ReadAll(lines)
		err := cmd.Wait()
		if want == recoveredNote {
			want = ""
			if note := "ctq: account: 1 flows ended without a destroy event and were logged from a table dump\n"; string(rest) == note {
				want = note
			}
		}
		if code := cmd.ProcessState.ExitCode(); code != 0 || string(rest) != want {
			t.Errorf("account after an interrupt: exit %d (%v), stderr %q; want 0 and %q", code, err, rest, want)
		}
	}
}

// TestAccountLogsFlowsEndedWithoutEvent deletes an entry made before
// account started: where nf_conntrack_events=2 it sends no destroy event
// (unless some ctnetlink listener existed when it was made: tests run in
// parallel), and the periodic dump (every 1s here) logs it with the
// counters it had. Either way it is logged once.
func TestAccountLogsFlowsEndedWithoutEvent(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, []string{"-A -t 100 -u SEEN_REPLY,ASSURED -s 198.18.8.1 -d 203.0.113.8 -p tcp --sport 4242 --dport 80 --state ESTABLISHED"})
	path := t.TempDir() + "/acct.json"
	_, stop := startAccount(t, ns, `account "`+path+`" where proto == tcp every 1s as json`, path)
	t.Cleanup(func() { stop("") })
	waitMarker(t, ns, path, 2000)
	ns.Run(t, "conntrack", "-D", "-s", "198.18.8.1")
	var rec *accountRecord
	for i := 0; i < 100 && rec == nil; i++ {
		time.Sleep(50 * time.Millisecond)
		for _, r := range accountLog(t, path) {
			if r.Sport == 4242 {
				rec = &r
			}
		}
	}
	if rec == nil {
		t.Fatal("the entry deleted without an event was not logged")
	}
	if rec.Event != "destroy" || rec.Dport != 80 || rec.OrigPackets == nil {
		t.Errorf("record %+v", *rec)
	}
	// Two more dumps must not log it again.
	time.Sleep(2500 * time.Millisecond)
	n := 0
	for _, r := range accountLog(t, path) {
		if r.Sport == 4242 {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the entry was logged %d times, want once", n)
	}
	stop(recoveredNote)
}
