//go:build linux

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctq/internal/nstest"
)

// TestStatsMatchesConntrack checks the acceptance of stats: conntrack -S's
// lines byte for byte, then entries (conntrack -C) and max; stats expect
// is conntrack -S expect; json carries the same numbers.
func TestStatsMatchesConntrack(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(60))

	got, stderr, rc := ctq(t, "--netns", ns.Name(), "-e", "stats")
	if rc != 0 {
		t.Fatalf("stats: exit %d: %s", rc, stderr)
	}
	want := ns.Run(t, "conntrack", "-S")
	count := strings.TrimSpace(ns.Run(t, "conntrack", "-C"))
	max := strings.TrimSpace(ns.Run(t, "sysctl", "-n", "net.netfilter.nf_conntrack_max"))
	if wantAll := want + "entries=" + count + " max=" + max + "\n"; got != wantAll {
		t.Errorf("stats:\n got %q\nwant %q", got, wantAll)
	}
	// Every name=value pair of conntrack -S is in ctq's output.
	for _, pair := range regexp.MustCompile(`\S+=\d+`).FindAllString(want, -1) {
		if !strings.Contains(got, pair) {
			t.Errorf("stats lacks %s", pair)
		}
	}

	got, stderr, rc = ctq(t, "--netns", ns.Name(), "-e", "stats expect")
	if want := ns.Run(t, "conntrack", "-S", "expect"); rc != 0 || got != want {
		t.Errorf("stats expect: exit %d (%s)\n got %q\nwant %q", rc, stderr, got, want)
	}

	got, stderr, rc = ctq(t, "--netns", ns.Name(), "-e", "stats as json")
	if rc != 0 {
		t.Fatalf("stats as json: exit %d: %s", rc, stderr)
	}
	lines := strings.Split(strings.TrimRight(got, "\n"), "\n")
	cpuLines := strings.Split(strings.TrimRight(want, "\n"), "\n")
	if len(lines) != len(cpuLines)+1 {
		t.Fatalf("stats as json: %d records for %d CPUs:\n%s", len(lines), len(cpuLines), got)
	}
	for i, line := range cpuLines {
		var rec map[string]uint64
		if err := json.Unmarshal([]byte(lines[i]), &rec); err != nil {
			t.Fatalf("record %d: %v: %s", i, err, lines[i])
		}
		fields := strings.Fields(line)
		if cpu := strings.TrimPrefix(fields[0], "cpu="); fmt.Sprint(rec["cpu"]) != cpu {
			t.Errorf("record %d: cpu %d, want %s", i, rec["cpu"], cpu)
		}
		for _, pair := range fields[1:] {
			name, val, _ := strings.Cut(pair, "=")
			if fmt.Sprint(rec[name]) != val {
				t.Errorf("record %d: %s=%d, conntrack -S says %s", i, name, rec[name], val)
			}
		}
	}
	if want := `{"entries":` + count + `,"max":` + max + `}`; lines[len(lines)-1] != want {
		t.Errorf("globals record %s, want %s", lines[len(lines)-1], want)
	}

	_, stderr, rc = ctq(t, "--netns", ns.Name(), "-e", "stats as xml")
	if rc != 1 || !strings.Contains(stderr, "stats prints as text, json, csv or table") {
		t.Errorf("stats as xml: exit %d, stderr %q", rc, stderr)
	}
}

// metricsServer runs ctq serve inside ns and returns the address it
// bound; the server is interrupted and checked in t.Cleanup.
func metricsServer(t *testing.T, ns *nstest.NS, stmt string) string {
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
	first, err := lines.ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(first), "ctq: serving metrics on http://")
	if err != nil || !ok {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("serve: first line of stderr %q (%v)", first, err)
	}
	t.Cleanup(func() {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Errorf("interrupt serve: %v", err)
		}
		rest, _ := io.ReadAll(lines)
		err := cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != 0 || len(rest) > 0 {
			t.Errorf("serve after an interrupt: exit %d (%v), stderr %q; want 0 (its normal end, as for watch) and nothing said", code, err, rest)
		}
	})
	return strings.TrimSuffix(addr, "/metrics")
}

// scrape fetches /metrics from addr inside ns (HTTP/1.0 on a socket of
// the namespace) and returns its samples by series.
func scrape(t *testing.T, ns *nstest.NS, addr string) map[string]float64 {
	t.Helper()
	var body []byte
	err := ns.Do(func() error {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
			return err
		}
		if _, err := io.WriteString(c, "GET /metrics HTTP/1.0\r\nHost: "+addr+"\r\n\r\n"); err != nil {
			return err
		}
		body, err = io.ReadAll(c)
		return err
	})
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	head, text, ok := strings.Cut(string(body), "\r\n\r\n")
	if !ok || !strings.HasPrefix(head, "HTTP/1.0 200") {
		t.Fatalf("scrape %s: %q", addr, body)
	}
	out := map[string]float64{}
	for _, line := range strings.Split(text, "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("scrape: sample %q: %v", line, err)
		}
		out[line[:i]] = v
	}
	return out
}

// tcpStates counts conntrack -L's tcp entries per state, as the series
// names of ctq_conntrack_entries_by_state.
func tcpStates(t *testing.T, ns *nstest.NS) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, line := range strings.Split(strings.TrimSpace(ns.Run(t, "conntrack", "-L", "-p", "tcp")), "\n") {
		if f := strings.Fields(line); len(f) > 3 {
			out[`ctq_conntrack_entries_by_state{proto="tcp",state="`+f[3]+`"}`]++
		}
	}
	return out
}

// scrapedTCPStates are the tcp series of a scrape.
func scrapedTCPStates(m map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		if strings.HasPrefix(k, `ctq_conntrack_entries_by_state{proto="tcp",`) {
			out[k] = v
		}
	}
	return out
}

// TestServeMatchesConntrack checks the acceptance of serve: entries equal
// conntrack -C, the ESTABLISHED gauge the count of conntrack -L -p tcp
// --state ESTABLISHED; then that the per-state gauges follow events
// (entries added by conntrack -I and a real TCP exchange over loopback)
// without a full dump, and that the user series counts per dport.
func TestServeMatchesConntrack(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "nft")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(200))
	addr := metricsServer(t, ns, `serve "127.0.0.1:0" where proto == tcp by dport`)

	m := scrape(t, ns, addr)
	// The first full dump runs as the server starts.
	for i := 0; i < 100 && m["ctq_conntrack_resyncs_total"] < 1; i++ {
		time.Sleep(50 * time.Millisecond)
		m = scrape(t, ns, addr)
	}
	count, _ := strconv.ParseFloat(strings.TrimSpace(ns.Run(t, "conntrack", "-C")), 64)
	if m["ctq_conntrack_entries"] != count {
		t.Errorf("ctq_conntrack_entries = %v, conntrack -C says %v", m["ctq_conntrack_entries"], count)
	}
	est := float64(strings.Count(ns.Run(t, "conntrack", "-L", "-p", "tcp", "--state", "ESTABLISHED"), "\n"))
	if got := m[`ctq_conntrack_entries_by_state{proto="tcp",state="ESTABLISHED"}`]; got != est || est == 0 {
		t.Errorf("ESTABLISHED gauge = %v, conntrack -L -p tcp --state ESTABLISHED lists %v", got, est)
	}
	if want := tcpStates(t, ns); !maps.Equal(scrapedTCPStates(m), want) {
		t.Errorf("tcp states %v, conntrack -L says %v", scrapedTCPStates(m), want)
	}
	ssh := float64(strings.Count(ns.Run(t, "conntrack", "-L", "-p", "tcp", "--dport", "22"), "\n"))
	if got := m[`ctq_conntrack_series_entries{dport="22"}`]; got != ssh || ssh == 0 {
		t.Errorf("series dport=22 = %v, conntrack -L -p tcp --dport 22 lists %v", got, ssh)
	}
	for _, name := range []string{"ctq_conntrack_entries_limit", "ctq_conntrack_stat_insert_total", "ctq_expect_stat_new_total"} {
		if _, ok := m[name]; !ok {
			t.Errorf("/metrics lacks %s", name)
		}
	}

	// Changes arrive as events: the next full dump is a minute away. (With
	// nf_conntrack_events=2, entries created before the server subscribed
	// report no events: the changes are to entries made after it.) The
	// scrapes themselves stay untracked.
	ns.Load(t, []string{
		"-A -t 100 -u SEEN_REPLY,ASSURED -s 198.18.9.1 -d 203.0.113.9 -p tcp --sport 5000 --dport 22 --state ESTABLISHED",
		"-A -t 100 -u SEEN_REPLY,ASSURED -s 198.18.9.2 -d 203.0.113.9 -p tcp --sport 5001 --dport 22 --state ESTABLISHED",
		"-A -t 100 -u UNSET -s 198.18.9.3 -d 203.0.113.9 -p tcp --sport 5002 --dport 80 --state SYN_SENT",
	})
	ns.Run(t, "conntrack", "-D", "-s", "198.18.9.2")
	ns.Run(t, "conntrack", "-U", "-s", "198.18.9.3", "-p", "tcp", "--state", "SYN_SENT", "-m", "1")
	_, port, _ := net.SplitHostPort(addr)
	ns.Run(t, "nft", "add table inet ctqserve; "+
		"add chain inet ctqserve raw { type filter hook output priority -300; }; "+
		"add rule inet ctqserve raw tcp dport "+port+" notrack; add rule inet ctqserve raw tcp sport "+port+" notrack; "+
		"add chain inet ctqserve out { type filter hook output priority 0; }; "+
		"add rule inet ctqserve out ct state new counter")
	ns.TCPExchange(t)
	want := tcpStates(t, ns)
	deadline := time.Now().Add(10 * time.Second)
	for {
		m = scrape(t, ns, addr)
		if maps.Equal(scrapedTCPStates(m), want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := scrapedTCPStates(m); !maps.Equal(got, want) {
		keys := slices.Sorted(maps.Keys(want))
		t.Errorf("after events: tcp states %v, conntrack -L says %v (%v)", got, want, keys)
	}
	if m["ctq_conntrack_resyncs_total"] != 1 {
		t.Errorf("resyncs = %v: the states must have come from events", m["ctq_conntrack_resyncs_total"])
	}
	if m[`ctq_conntrack_events_total{type="new"}`] < 3 || m[`ctq_conntrack_events_total{type="destroy"}`] < 1 {
		t.Errorf("event counters: new %v, destroy %v", m[`ctq_conntrack_events_total{type="new"}`], m[`ctq_conntrack_events_total{type="destroy"}`])
	}
}

// TestServeTextfile checks the one-shot form against conntrack -C.
func TestServeTextfile(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(40))
	path := t.TempDir() + "/ctq.prom"
	_, stderr, rc := ctq(t, "--netns", ns.Name(), "-e", `serve textfile "`+path+`" by proto`)
	if rc != 0 {
		t.Fatalf("serve textfile: exit %d: %s", rc, stderr)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	count := strings.TrimSpace(ns.Run(t, "conntrack", "-C"))
	udp := strings.Count(ns.Run(t, "conntrack", "-L", "-p", "udp"), "\n")
	for _, want := range []string{
		"\nctq_conntrack_entries " + count + "\n",
		fmt.Sprintf("\nctq_conntrack_series_entries{proto=\"udp\"} %d\n", udp),
		"# TYPE ctq_conntrack_stat_found_total counter\n",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("textfile lacks %q:\n%s", want, b)
		}
	}
	saved := t.TempDir() + "/saved.txt"
	if err := os.WriteFile(saved, []byte(ns.Run(t, "conntrack", "-L")), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, rc = ctq(t, "--from", saved, "-e", `serve "127.0.0.1:0"`)
	if rc != 1 || !strings.Contains(stderr, "metrics come from the live kernel") {
		t.Errorf("serve from a saved table: exit %d, stderr %q", rc, stderr)
	}
}

// TestServeResyncCorrectsSilentChanges deletes entries made before the
// server started: with nf_conntrack_events=2 they send no destroy event
// unless some ctnetlink listener existed when they were made (tests run in
// parallel), and the periodic full dump (every 1s here) corrects the
// gauges either way.
func TestServeResyncCorrectsSilentChanges(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(60))
	addr := metricsServer(t, ns, `serve "127.0.0.1:0" every 1s`)
	m := scrape(t, ns, addr)
	for i := 0; i < 100 && m["ctq_conntrack_resyncs_total"] < 1; i++ {
		time.Sleep(50 * time.Millisecond)
		m = scrape(t, ns, addr)
	}
	if est := m[`ctq_conntrack_entries_by_state{proto="tcp",state="ESTABLISHED"}`]; est == 0 {
		t.Fatalf("no ESTABLISHED entries before the deletion: %v", m)
	}
	ns.Run(t, "conntrack", "-D", "-p", "tcp", "--state", "ESTABLISHED")
	want := tcpStates(t, ns)
	deadline := time.Now().Add(10 * time.Second)
	for (!maps.Equal(scrapedTCPStates(m), want) || m["ctq_conntrack_resyncs_total"] < 2) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		m = scrape(t, ns, addr)
	}
	if got := scrapedTCPStates(m); !maps.Equal(got, want) {
		t.Errorf("tcp states %v, conntrack -L says %v", got, want)
	}
	if m["ctq_conntrack_resyncs_total"] < 2 {
		t.Errorf("resyncs = %v, want at least 2", m["ctq_conntrack_resyncs_total"])
	}
}
