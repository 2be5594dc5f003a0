//go:build linux

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// ctimeTab is the date that starts a line of conntrackd's flow log.
var ctimeTab = regexp.MustCompile(`^[A-Z][a-z]{2} [A-Z][a-z]{2} [ 0-9]\d \d\d:\d\d:\d\d \d{4}\t`)

// deltaTime is the age of an ended entry in its log line.
var deltaTime = regexp.MustCompile(`delta-time=\d+`)

// TestConntrackdStatsMode runs a Stats configuration (conntrackd's
// statistics mode) with conntrackd and with ctq linked as conntrackd, one
// after the other in the same namespace, and compares what they write:
// the flow log lines of ended entries (date and delta-time masked), the -s page and -i's
// lines; -d returns once ready, -k removes the lock file and socket.
func TestConntrackdStatsMode(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "conntrackd")
	link := linkConntrackd(t, buildCtq(t))
	ns := nstest.New(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "stats.conf")
	text := fmt.Sprintf("General {\n\tHashSize 8192\n\tLockFile %[1]s/s.lock\n\tUNIX { Path %[1]s/s.sock }\n}\nStats {\n\tLogFile %[1]s/flows.log\n}\n", dir)
	if err := os.WriteFile(conf, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	type result struct {
		log          []string
		stats, after string
		dump         []string
	}
	runOne := func(bin string) result {
		t.Helper()
		os.Remove(filepath.Join(dir, "flows.log"))
		if out, rc := runExit(t, "ip", "netns", "exec", ns.Name(), bin, "-C", conf, "-d"); rc != 0 {
			t.Fatalf("%s -d: exit %d: %s", bin, rc, out)
		}
		ctd := func(args ...string) string {
			t.Helper()
			out, rc := runExit(t, "ip", append([]string{"netns", "exec", ns.Name(), bin, "-C", conf}, args...)...)
			if rc != 0 {
				t.Errorf("%s %s: exit %d: %s", bin, strings.Join(args, " "), rc, out)
			}
			return out
		}
		ns.Run(t, "conntrack", "-I", "-t", "100", "-p", "udp", "-s", "192.0.2.5", "-d", "198.51.100.7", "--sport", "1000", "--dport", "53")
		ns.Run(t, "conntrack", "-I", "-t", "100", "-p", "tcp", "-s", "192.0.2.5", "-d", "198.51.100.7", "--sport", "1000", "--dport", "22",
			"--state", "ESTABLISHED", "-u", "ASSURED,SEEN_REPLY")
		var r result
		nstest.WaitFor(t, "two entries in the cache", func() bool {
			r.stats = ctd("-s")
			return strings.Contains(r.stats, "current active connections:\t           2\n")
		})
		for _, l := range strings.Split(strings.TrimSpace(ctd("-i")), "\n") {
			r.dump = append(r.dump, regexp.MustCompile(`\[active since \d+s\]$`).ReplaceAllString(l, "[active since Ns]"))
		}
		slices.Sort(r.dump)
		ns.Run(t, "conntrack", "-D", "-s", "192.0.2.5")
		nstest.WaitFor(t, "two lines in the flow log", func() bool {
			b, _ := os.ReadFile(filepath.Join(dir, "flows.log"))
			r.log = strings.Split(strings.TrimSpace(string(b)), "\n")
			return len(r.log) == 2
		})
		for i, l := range r.log {
			if !ctimeTab.MatchString(l) {
				t.Errorf("%s: flow log line %q lacks conntrackd's date and tab", bin, l)
			}
			r.log[i] = deltaTime.ReplaceAllString(ctimeTab.ReplaceAllString(l, "DATE\t"), "delta-time=N")
		}
		slices.Sort(r.log)
		r.after = ctd("-s")
		ctd("-k")
		nstest.WaitFor(t, bin+"'s lock file and socket removed", func() bool {
			_, e1 := os.Stat(filepath.Join(dir, "s.lock"))
			_, e2 := os.Stat(filepath.Join(dir, "s.sock"))
			return os.IsNotExist(e1) && os.IsNotExist(e2)
		})
		return r
	}
	want := runOne("conntrackd")
	got := runOne(link)
	if !slices.Equal(got.log, want.log) {
		t.Errorf("flow log:\n%s\nconntrackd's:\n%s", strings.Join(got.log, "\n"), strings.Join(want.log, "\n"))
	}
	if !slices.Equal(got.dump, want.dump) {
		t.Errorf("-i:\n%s\nconntrackd's:\n%s", strings.Join(got.dump, "\n"), strings.Join(want.dump, "\n"))
	}
	if got.stats != want.stats || got.after != want.after {
		t.Errorf("-s before and after:\n%s%s\nconntrackd's:\n%s%s", got.stats, got.after, want.stats, want.after)
	}
}
