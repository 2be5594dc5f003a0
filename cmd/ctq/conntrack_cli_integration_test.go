//go:build linux

package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// These tests run the ctq binary under the name conntrack (a symbolic
// link) and conntrack(8) with the same command lines, in one namespace
// for commands that change nothing and in twin namespaces for those that
// do, and compare everything they print and return.

// conntrackLink builds ctq and returns a symbolic link to it named
// conntrack.
func conntrackLink(t *testing.T) string {
	t.Helper()
	bin := buildCtq(t)
	link := filepath.Join(filepath.Dir(bin), "conntrack")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	return link
}

// runIn runs prog with args in ns (TZ=UTC) and returns what it printed
// and its exit code.
func runIn(t *testing.T, ns *nstest.NS, stdin, prog string, args ...string) ctRun {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.Name(), "env", "TZ=UTC", prog}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("%s %s: %v", prog, strings.Join(args, " "), err)
	}
	return ctRun{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

func TestConntrackCLIReadsMatch(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	link := conntrackLink(t)
	ns := nstest.New(t)
	ns.Load(t, mixedTable(300))
	for _, args := range [][]string{
		{"-L"}, {"-L", "-o", "extended"}, {"-L", "-o", "id"}, {"-L", "-o", "extended,id,ktimestamp"},
		{"-L", "-o", "save"}, {"-L", "-o", "xml"}, {"-L", "-p", "udp", "-o", "xml,ktimestamp"},
		{"-L", "-p", "tcp", "--dport", "22"}, {"-L", "-f", "ipv6"}, {"-L", "-m", "3"}, {"-L", "-s", "198.18.0.0/24"},
		{"-L", "-u", "ASSURED"}, {"-L", "-u", "UNREPLIED"}, {"-L", "-g"}, {"-L", "-w", "2"},
		{"-L", "-p", "tcp", "--state", "TIME_WAIT"}, {"-L", "-p", "icmp"}, {"-L", "-d", "203.0.113.3", "-p", "tcp", "--dport", "443"},
		{"-L", "-p", "tcp", "--dport", "1"}, {"-L", "-p", "tcp", "--dport", "1", "-o", "xml"},
		{"-L", "expect"}, {"-L", "dying"}, {"-L", "unconfirmed"},
		{"-G", "-s", "198.18.0.3", "-d", "203.0.113.3", "-p", "tcp", "--sport", "1026", "--dport", "22"},
		{"-G", "-s", "198.18.0.3", "-d", "203.0.113.3", "-p", "tcp", "--sport", "1026", "--dport", "22", "-o", "xml"},
		{"-G", "-s", "198.18.0.3", "-d", "203.0.113.3", "-p", "tcp", "--sport", "1", "--dport", "22"},
		{"-C"}, {"-C", "expect"}, {"-S"}, {"-V"}, {"-h"}, {},
		{"-L", "-p", "foo"}, {"-L", "-s", "999.1.1.1"}, {"-L", "-D"}, {"-X"},
	} {
		want := runIn(t, ns, "", "conntrack", args...)
		got := runIn(t, ns, "", link, args...)
		what := "conntrack " + strings.Join(args, " ")
		if len(args) > 0 && args[0] == "-h" {
			// ctq adds its list of differences after the usage.
			if !strings.HasPrefix(got.stdout, want.stdout) || got.stderr != want.stderr || got.rc != want.rc {
				t.Errorf("%s: ctq's help does not start with conntrack's", what)
			}
			continue
		}
		want.stdout, got.stdout = sctpXMLState(want.stdout), sctpXMLState(got.stdout)
		sameRun(t, what, got, want, false)
	}
}

func TestConntrackCLIChangesMatch(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	link := conntrackLink(t)
	a, b := nstest.New(t), nstest.New(t)
	// 1.4.7 cannot update entries of a zone (ENOENT): the twins have none.
	var table []string
	for _, l := range mixedTable(300) {
		if !strings.Contains(l, " -w ") && !strings.Contains(l, "-zone ") {
			table = append(table, l)
		}
	}
	a.Load(t, table)
	b.Load(t, table)
	// The -U line is last: 1.4.7 takes the mark of every -U line from the
	// last line (a difference ctargs lists).
	load := "-I -t 50 -s 192.0.2.50 -d 198.51.100.50 -p udp --sport 50 --dport 51\n" +
		"-D -p gre\n" +
		"-U -f ipv4 -s 198.18.0.2 -m 77\n"
	for _, c := range []struct {
		args  []string
		stdin string
	}{
		{[]string{"-D", "-p", "tcp", "--dport", "22", "--state", "FIN_WAIT"}, ""},
		{[]string{"-D", "-p", "tcp", "--dport", "22", "--state", "FIN_WAIT"}, ""},
		{[]string{"-D", "-p", "udp", "-o", "save"}, ""},
		{[]string{"-D", "-s", "2001:db8::/64", "-p", "sctp"}, ""},
		{[]string{"-U", "-f", "ipv4", "-p", "tcp", "--dport", "443", "-m", "9"}, ""},
		{[]string{"-U", "-f", "ipv4", "-p", "tcp", "--dport", "443", "-m", "9"}, ""},
		{[]string{"-U", "-f", "ipv4", "-p", "tcp", "--dport", "80", "-u", "ASSURED"}, ""},
		{[]string{"-I", "-s", "192.0.2.9", "-d", "198.51.100.9", "-p", "tcp", "--sport", "9", "--dport", "10", "--state", "ESTABLISHED", "-t", "100"}, ""},
		{[]string{"-I", "-s", "192.0.2.9", "-d", "198.51.100.9", "-p", "tcp", "--sport", "9", "--dport", "10", "--state", "ESTABLISHED", "-t", "100"}, ""},
		{[]string{"-A", "-s", "192.0.2.9", "-d", "198.51.100.9", "-p", "tcp", "--sport", "9", "--dport", "10", "--state", "ESTABLISHED", "-t", "100"}, ""},
		{[]string{"-A", "-s", "192.0.2.10", "-d", "198.51.100.9", "-p", "udp", "--sport", "9", "--dport", "10", "-t", "100"}, ""},
		{[]string{"-R", "-"}, load},
		{[]string{"-R", "-"}, "-I -t 50 -s 192.0.2.50 -d 198.51.100.50 -p udp --sport 50 --dport 51\n"},
		{[]string{"-F"}, ""},
		{[]string{"-D"}, ""},
	} {
		want := runIn(t, a, c.stdin, "conntrack", c.args...)
		got := runIn(t, b, c.stdin, link, c.args...)
		what := "conntrack " + strings.Join(c.args, " ")
		if len(c.args) > 0 && c.args[0] == "-U" {
			// 1.4.7 loses lines of -U when it updates several entries:
			// compare the lines it printed with ctq's.
			if gl, wl := sortedMasked(got.stdout), sortedMasked(want.stdout); !subset(wl, gl) {
				t.Errorf("%s: conntrack printed lines ctq did not", what)
			}
			want.stdout, got.stdout = "", ""
		}
		sameRun(t, what, got, want, true)
		sameTables(t, "after "+what, a, b)
	}
}

func TestConntrackCLIExpectMatch(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "nft")
	t.Parallel()
	link := conntrackLink(t)
	ns := nstest.New(t)
	first, second := ns.FTPExpectation(t, true), ns.FTPExpectation(t, true)
	// The expected tuple of a passive session: to FTPAddr's data port from
	// any port (conntrack's -G expect wants reply ports it ignores).
	tuple := func(f nstest.FTP) []string {
		return []string{"-s", nstest.FTPAddr, "-d", nstest.FTPAddr, "-p", "tcp", "--sport", "0", "--dport", strconv.Itoa(f.DataPort),
			"--reply-port-src", "1", "--reply-port-dst", "1"}
	}
	// The remaining timeout of an expectation is its first field.
	timeout := regexp.MustCompile(`(?m)^\d+ `)
	for _, c := range []struct {
		args []string
		// which side runs first: a delete runs on both only for a missing one.
	}{
		{[]string{"-L", "expect"}},
		{[]string{"-L", "expect", "-o", "xml"}},
		{[]string{"-C", "expect"}},
		{append([]string{"-G", "expect"}, tuple(first)...)},
		{append([]string{"-G", "expect"}, tuple(nstest.FTP{DataPort: 1})...)},
		{append([]string{"-D", "expect"}, tuple(nstest.FTP{DataPort: 1})...)},
	} {
		want := runIn(t, ns, "", "conntrack", c.args...)
		got := runIn(t, ns, "", link, c.args...)
		want.stdout, got.stdout = timeout.ReplaceAllString(want.stdout, "T "), timeout.ReplaceAllString(got.stdout, "T ")
		sameRun(t, "conntrack "+strings.Join(c.args, " "), got, want, false)
	}
	// Each deletes one of the two expectations.
	want := runIn(t, ns, "", "conntrack", append([]string{"-D", "expect"}, tuple(first)...)...)
	got := runIn(t, ns, "", link, append([]string{"-D", "expect"}, tuple(second)...)...)
	sameRun(t, "conntrack -D expect", got, want, false)
	if left := runIn(t, ns, "", "conntrack", "-L", "expect"); left.stdout != "" {
		t.Errorf("expectations left after both deletes:\n%s", left.stdout)
	}
}
