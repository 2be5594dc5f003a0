//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"
)

// waitLimit bounds every wait for an event in these tests; they end as
// soon as what they wait for arrives.
const waitLimit = 20 * time.Second

// expectTimeout is the remaining timeout, the first field of an expect
// line.
var expectTimeout = regexp.MustCompile(`(?m)^\d+ `)

// listExpect is `conntrack -L expect` in ns with the timeouts masked.
func listExpect(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	return expectTimeout.ReplaceAllString(ns.Run(t, "conntrack", "-L", "expect"), "T ")
}

// ctqExpect runs a statement in ns and returns its output, failing the
// test unless it exits 0; timeouts at line starts are masked.
func ctqExpect(t *testing.T, ns *nstest.NS, stmt string) string {
	t.Helper()
	out, stderr, rc := ctq(t, "--netns", ns.Name(), "-e", stmt)
	if rc != 0 {
		t.Fatalf("ctq %q: exit %d: %s", stmt, rc, stderr)
	}
	return expectTimeout.ReplaceAllString(out, "T ")
}

func TestExpectMatchesConntrack(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "nft")
	t.Parallel()
	ns := nstest.New(t)
	passive, active := ns.FTPExpectation(t, true), ns.FTPExpectation(t, false)
	want := listExpect(t, ns)
	if n := strings.Count(want, "\n"); n != 2 {
		t.Fatalf("conntrack lists %d expectations after two FTP sessions, want 2:\n%s", n, want)
	}
	if got := ctqExpect(t, ns, "list expect"); got != want {
		t.Errorf("list expect:\n%s\nconntrack -L expect:\n%s", got, want)
	}
	if got := ctqExpect(t, ns, "count expect"); got != "2\n" {
		t.Errorf("count expect = %q, want 2", got)
	}
	for _, f := range []nstest.FTP{passive, active} {
		var line string
		for _, l := range strings.SplitAfter(want, "\n") {
			if strings.Contains(l, fmt.Sprintf(" dport=%d ", f.DataPort)) {
				line = l
			}
		}
		if line == "" {
			t.Fatalf("conntrack lists no expectation for port %d:\n%s", f.DataPort, want)
		}
		stmt := fmt.Sprintf("list expect where dport == %d", f.DataPort)
		if got := ctqExpect(t, ns, stmt); got != line {
			t.Errorf("%s:\n%s\nconntrack:\n%s", stmt, got, line)
		}
		stmt = fmt.Sprintf("list expect where master_sport == %d", f.Client.Port())
		if got := ctqExpect(t, ns, stmt); got != line {
			t.Errorf("%s:\n%s\nconntrack:\n%s", stmt, got, line)
		}
	}

	ctqExpect(t, ns, `delete expect where helper == "ftp"`)
	if left := listExpect(t, ns); left != "" {
		t.Errorf("conntrack lists after delete expect:\n%s", left)
	}
	if got := ctqExpect(t, ns, "count expect"); got != "0\n" {
		t.Errorf("count expect after the delete = %q, want 0", got)
	}

	ns.FTPExpectation(t, true)
	ns.FTPExpectation(t, false)
	ctqExpect(t, ns, "flush expect ipv6")
	if n := strings.Count(listExpect(t, ns), "\n"); n != 2 {
		t.Errorf("flush expect ipv6 left %d of 2 IPv4 expectations", n)
	}
	ctqExpect(t, ns, "flush expect")
	if left := listExpect(t, ns); left != "" {
		t.Errorf("conntrack lists after flush expect:\n%s", left)
	}
}

func TestInsertFoundByConntrack(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	tests := []struct {
		name, stmt string
		get        []string // conntrack -G arguments
		want       []string // in the one line conntrack -G prints
	}{
		{
			"tcp",
			`insert {proto: tcp, src: "192.0.2.9", dst: "198.51.100.9", sport: 40000, dport: 22, timeout: 100, state: "ESTABLISHED"}`,
			[]string{"-p", "tcp", "-s", "192.0.2.9", "-d", "198.51.100.9", "--sport", "40000", "--dport", "22"},
			[]string{"tcp      6 ", " ESTABLISHED src=192.0.2.9 dst=198.51.100.9 sport=40000 dport=22 ",
				" [UNREPLIED] src=198.51.100.9 dst=192.0.2.9 sport=22 dport=40000 "},
		},
		{
			"udp ipv6",
			`insert {proto: udp, src: "2001:db8::9", dst: "2001:db8:1::9", sport: 5353, dport: 53, timeout: 100}`,
			[]string{"-p", "udp", "-s", "2001:db8::9", "-d", "2001:db8:1::9", "--sport", "5353", "--dport", "53"},
			[]string{"udp      17 ", " src=2001:db8::9 dst=2001:db8:1::9 sport=5353 dport=53 ",
				" [UNREPLIED] src=2001:db8:1::9 dst=2001:db8::9 sport=53 dport=5353 "},
		},
		{
			"nat",
			`insert {proto: tcp, src: "192.0.2.10", dst: "198.51.100.10", sport: 40001, dport: 80, timeout: 100, ` +
				`state: "ESTABLISHED", reply_src: "192.0.2.80", reply_sport: 8080}`,
			[]string{"-p", "tcp", "-s", "192.0.2.10", "-d", "198.51.100.10", "--sport", "40001", "--dport", "80"},
			[]string{" ESTABLISHED src=192.0.2.10 dst=198.51.100.10 sport=40001 dport=80 ",
				" [UNREPLIED] src=192.0.2.80 dst=192.0.2.10 sport=8080 dport=40001 "},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ctqExpect(t, ns, tt.stmt); got != "inserted 1 entry\n" {
				t.Errorf("ctq printed %q", got)
			}
			// ns.Run fails the test unless conntrack -G exits 0.
			out := ns.Run(t, "conntrack", append([]string{"-G"}, tt.get...)...)
			if strings.Count(out, "\n") != 1 {
				t.Fatalf("conntrack -G %v printed %q, want one line", tt.get, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("conntrack -G %v: %q lacks %q", tt.get, out, w)
				}
			}
		})
	}
	// conntrack selects the NAT'd entry by its reply source, and only it.
	nat := ns.Run(t, "conntrack", "-L", "-p", "tcp", "--reply-src", "192.0.2.80")
	if strings.Count(nat, "\n") != 1 || !strings.Contains(nat, " sport=40001 dport=80 ") {
		t.Errorf("conntrack -L --reply-src 192.0.2.80: %q, want the NAT'd entry", nat)
	}
}

// waitSubscribed waits until n netfilter netlink sockets of ns belong
// to multicast groups, i.e. until n event listeners are subscribed.
func waitSubscribed(t *testing.T, ns *nstest.NS, n int) {
	t.Helper()
	start := time.Now()
	for {
		// /proc/net/netlink: sk Eth Pid Groups ..., Eth 12 is
		// NETLINK_NETFILTER, Groups the first 32 groups in hex.
		subscribed := 0
		for _, l := range strings.Split(ns.Run(t, "cat", "/proc/net/netlink"), "\n") {
			f := strings.Fields(l)
			if len(f) > 3 && f[1] == strconv.Itoa(unix.NETLINK_NETFILTER) && strings.Trim(f[3], "0") != "" {
				subscribed++
			}
		}
		if subscribed >= n {
			return
		}
		if time.Since(start) > waitLimit {
			t.Fatalf("%d of %d event listeners subscribed after %v", subscribed, n, waitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// startCtq starts the ctq binary with args; its stdout goes to out.
func startCtq(t *testing.T, bin string, out io.Writer, args ...string) (wait func() (string, error)) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stderr strings.Builder
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ctq: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
	})
	return func() (string, error) {
		select {
		case err := <-done:
			done <- err
			return stderr.String(), err
		case <-time.After(waitLimit):
			return "", fmt.Errorf("ctq %v did not end within %v", args, waitLimit)
		}
	}
}

// insertHeld runs conntrack -I args in ns and keeps the process alive,
// holding its netlink socket, until the test ends: its stderr is a pipe
// filled to capacity, so its closing message blocks. Event listeners can
// then find its name by its port ID.
func insertHeld(t *testing.T, ns *nstest.NS, args ...string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	size, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatalf("F_GETPIPE_SZ: %v", err)
	}
	if _, err := w.Write(make([]byte, size)); err != nil {
		t.Fatalf("fill the pipe: %v", err)
	}
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.Name(), "conntrack", "-I"}, args...)...)
	cmd.Stderr = w
	if err := cmd.Start(); err != nil {
		t.Fatalf("conntrack -I: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		msg, _ := io.ReadAll(r)
		r.Close()
		if err := cmd.Wait(); err != nil {
			t.Errorf("conntrack -I %v: %v: %s", args, err, bytes.Trim(msg, "\x00\n"))
		}
	})
}

func TestWatchMatchesConntrackE(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	bin := buildCtq(t)
	ns := nstest.New(t)
	const flow = " src=198.51.100.20 dst=198.51.100.21 sport=3000 dport=443 "
	ce, _ := ns.ConntrackE(t, 1, func(l string) bool { return strings.Contains(l, flow) }, true, "-e", "NEW")
	var out strings.Builder
	wait := startCtq(t, bin, &out, "--netns", ns.Name(), "-e", "watch new limit 1")
	waitSubscribed(t, ns, 2)
	insertHeld(t, ns, "-t", "100", "-s", "198.51.100.20", "-d", "198.51.100.21", "-p", "tcp",
		"--sport", "3000", "--dport", "443", "--state", "ESTABLISHED", "-m", "7")
	stderr, err := wait()
	if err != nil {
		t.Fatalf("ctq watch: %v: %s", err, stderr)
	}
	want := ce.WaitLine(flow, waitLimit)
	if want == "" {
		t.Fatal("conntrack -E did not show the inserted entry")
	}
	if !strings.Contains(want, " [USERSPACE] portid=") || !strings.HasSuffix(want, " progname=conntrack") {
		t.Errorf("conntrack -E line lacks the inserting process: %s", want)
	}
	if got := strings.TrimSuffix(out.String(), "\n"); got != want {
		t.Errorf("ctq watch printed\n%q\nconntrack -E\n%q", got, want)
	}
	t.Logf("ctq and conntrack -E printed:\n%s", want)
}

// burstLine is conntrack -R line i of the burst: UDP flows from
// 198.18.0.0/15, two source ports per address.
func burstLine(i int) string {
	a := i / 2
	return fmt.Sprintf("-I -t 300 -s 198.%d.%d.%d -d 198.51.100.53 -p udp --sport %d --dport 53",
		18+a>>16, a>>8&0xff, a&0xff, 1024+i%2)
}

// burstEvent matches a json line of ctq watch for a flow of the burst
// and captures its source address and port.
var burstEvent = regexp.MustCompile(`^\{"event":"new",.*"src":"([0-9.]+)","dst":"198\.51\.100\.53","sport":(\d+),`)

func TestWatchBurst(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	const n = 200000
	// nf_conntrack_max is global but the kernel compares it with each
	// namespace's own count: the burst needs room in its namespace only.
	// The initial namespace's count is logged, not changed.
	ctMax := readInt(t, "/proc/sys/net/netfilter/nf_conntrack_max")
	initCount := readInt(t, "/proc/sys/net/netfilter/nf_conntrack_count")
	t.Logf("nf_conntrack_max %d, %d entries in the initial namespace", ctMax, initCount)
	if ctMax < n+1000 {
		t.Fatalf("nf_conntrack_max %d is too small for a burst of %d in one namespace", ctMax, n)
	}
	bin := buildCtq(t)
	ns := nstest.New(t)
	burst := func(l string) bool { return strings.Contains(l, " dst=198.51.100.53 ") }
	ce, _ := ns.ConntrackE(t, 1, burst, false, "-e", "NEW")

	// ctq's output goes to a file, not through this process: a reader here
	// that falls behind (as under -race) would block ctq's writes, and the
	// kernel would drop the events ctq then cannot read in time. Once ctq
	// ends, all lines are counted, and the distinct burst flows among them.
	out, err := os.Create(filepath.Join(t.TempDir(), "watch.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	wait := startCtq(t, bin, out, "--netns", ns.Name(), "-e", fmt.Sprintf("watch new limit %d", n), "-o", "json")
	waitSubscribed(t, ns, 2)

	load := make([]string, n)
	for i := range load {
		load[i] = burstLine(i)
	}
	ns.Load(t, load)
	stderr, err := wait()
	if err != nil {
		t.Errorf("ctq watch: %v: %s", err, stderr)
	}
	if _, err := out.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	got, distinct := 0, map[string]bool{}
	for sc.Scan() {
		got++
		if m := burstEvent.FindStringSubmatch(sc.Text()); m != nil {
			distinct[m[1]+":"+m[2]] = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read ctq's output: %v", err)
	}
	flows := len(distinct)
	if got != n || flows != n {
		t.Errorf("ctq printed %d lines for %d distinct flows of the burst; want %d of each", got, flows, n)
	}
	_, ceGot, _ := ce.Stop(t)
	t.Logf("ctq printed %d events of the burst of %d; conntrack -E -e NEW printed %d of them", flows, n, ceGot)
}

// readInt reads a number from a file such as a sysctl.
func readInt(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}
