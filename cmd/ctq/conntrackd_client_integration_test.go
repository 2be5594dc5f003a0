//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// activeSince ends a line of conntrackd's cache dumps.
var activeSince = regexp.MustCompile(`^udp +17 src=\S+ dst=\S+ sport=\d+ dport=53 \[UNREPLIED\] mark=0 \[active since \d+s\]$`)

// upstreamScript is conntrackd's failover script as Debian ships it.
const upstreamScript = "/usr/share/doc/conntrackd/examples/sync/primary-backup.sh"

// TestConntrackdClientDrivesCtq drives a ctq node with conntrackd's own
// client (conntrackd -C CONF -c ...), and runs conntrackd's upstream
// primary-backup.sh, unchanged but for its configuration path, against
// it: scripts written for conntrackd keep working with ctq as the daemon.
func TestConntrackdClientDrivesCtq(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "conntrackd")
	bin := buildCtq(t)
	a, b := nstest.Joined(t, "ctqa", "192.0.2.1", "ctqb", "192.0.2.2")
	const dst = "203.0.113.11"
	want := udpFlows(t, a, "198.51.100.1", dst, 1000, 1004)
	dir := t.TempDir()
	confA, confB := writeSyncConfs(t, dir, syncTestConf, syncTestConf, "192.0.2.1", "192.0.2.2")
	startSyncDaemon(t, bin, a, confA)
	db := startSyncDaemon(t, bin, b, confB)
	ctd := func(args ...string) string {
		t.Helper()
		return b.Run(t, "conntrackd", append([]string{"-C", confB}, args...)...)
	}
	nstest.WaitFor(t, "B answering conntrackd -s", func() bool {
		out, err := exec.Command("ip", "netns", "exec", b.Name(), "conntrackd", "-C", confB, "-s").CombinedOutput()
		return err == nil && strings.Contains(string(out), "cache external:")
	})
	nstest.WaitFor(t, "A's table in B (conntrackd -n, then -e)", func() bool {
		ctd("-n")
		return slices.Equal(syncTuples(ctd("-e"), dst), want)
	})
	if x := ctd("-e", "-x"); !strings.HasPrefix(x, "<flow>") || strings.Count(x, "<flow>") != len(want) {
		t.Errorf("conntrackd -e -x:\n%s", x)
	}
	for _, l := range strings.Split(strings.TrimSpace(ctd("-e")), "\n") {
		if !activeSince.MatchString(l) {
			t.Errorf("conntrackd -e line %q lacks conntrackd's [active since Ns]", l)
		}
	}
	// conntrackd's own -s pages.
	for _, tt := range []struct{ arg, prefix string }{
		{"", "cache internal:\ncurrent active connections:\t"},
		{"network", "network statistics:\n\trecv:\n\t\tMalformed messages:\t                   0\n"},
		{"cache", "cache:internal\tactive objects:\t\t"},
		{"link", "UDP traffic device=ctqb status=RUNNING role=ACTIVE:\n"},
		{"queue", "allocated queue nodes:\t\t"},
		{"runtime", "daemon uptime: 0 min\n"},
		{"rsqueue", "resent queue (len="},
	} {
		args := []string{"-s"}
		if tt.arg != "" {
			args = append(args, tt.arg)
		}
		if out := ctd(args...); !strings.HasPrefix(out, tt.prefix) {
			t.Errorf("conntrackd -s %s:\n%s", tt.arg, out)
		}
	}

	// -c expect commits no flows (the node syncs no expectations); -c ct
	// commits them.
	if out := ctd("-c", "expect"); out != "" {
		t.Errorf("conntrackd -c expect printed %q; conntrackd prints nothing", out)
	}
	if got := syncTuples(b.Run(t, "conntrack", "-L"), dst); len(got) != 0 {
		t.Errorf("B's kernel table after conntrackd -c expect: %q, want none of A's flows", got)
	}
	if out := ctd("-c", "ct"); out != "" {
		t.Errorf("conntrackd -c ct printed %q; conntrackd prints nothing", out)
	}
	if got := syncTuples(b.Run(t, "conntrack", "-L"), dst); !slices.Equal(got, want) {
		t.Errorf("B's kernel table after conntrackd -c ct: %q, want %q", got, want)
	}

	// primary-backup.sh primary on B: -c, -f, -R, -B.
	script := filepath.Join(dir, "primary-backup.sh")
	text, err := os.ReadFile(upstreamScript)
	if err != nil {
		t.Fatal(err)
	}
	text = []byte(strings.Replace(string(text), "CONNTRACKD_CONFIG=/etc/conntrackd/conntrackd.conf", "CONNTRACKD_CONFIG="+confB, 1))
	if err := os.WriteFile(script, text, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("ip", "netns", "exec", b.Name(), "sh", script, "primary").CombinedOutput(); err != nil {
		t.Fatalf("primary-backup.sh primary: %v: %s", err, out)
	}
	if got := syncTuples(b.Run(t, "conntrack", "-L"), dst); !slices.Equal(got, want) {
		t.Errorf("B's kernel table after primary-backup.sh primary: %q, want %q", got, want)
	}
	if got := syncTuples(ctd("-i"), dst); !slices.Equal(got, want) {
		t.Errorf("B's internal cache after -R: %q, want %q", got, want)
	}
	nstest.WaitFor(t, "B's bulk send in A's external cache", func() bool {
		return slices.Equal(syncTuples(syncCtl(t, `sync dump external "`+confA+`"`), dst), want)
	})

	// conntrackd's daemon answers these with nothing; so does ctq's node.
	for _, args := range [][]string{{"-F"}, {"-f"}, {"-f", "internal"}, {"-R"}, {"-B"}, {"-n"}, {"-t"}} {
		if out := ctd(args...); out != "" {
			t.Errorf("conntrackd %s printed %q; conntrackd prints nothing", strings.Join(args, " "), out)
		}
	}
	// -k stops the node.
	if out := ctd("-k"); out != "" {
		t.Errorf("conntrackd -k printed %q", out)
	}
	if err := db.wait(t); err != nil {
		t.Errorf("ctq node after conntrackd -k: %v", err)
	}
}

// TestConntrackdClientExpect: with ExpectationSync, conntrackd's client
// reads a ctq node's expectation caches as conntrackd prints them.
func TestConntrackdClientExpect(t *testing.T) {
	nstest.RequireCommand(t, "conntrackd", "nft")
	bin := buildCtq(t)
	a, b := nstest.Joined(t, "ctqa", "203.0.113.1", "ctqb", "203.0.113.2")
	text := strings.Replace(syncTestConf, "\t\tACKWindowSize 300\n\t}", "\t\tACKWindowSize 300\n\t}\n\tOptions {\n\t\tExpectationSync on\n\t}", 1)
	confA, confB := writeSyncConfs(t, t.TempDir(), text, text, "203.0.113.1", "203.0.113.2")
	startSyncDaemon(t, bin, a, confA)
	startSyncDaemon(t, bin, b, confB)
	waitControl(t, confA, confB)
	ftp := a.FTPExpectation(t, true)
	want := regexp.MustCompile(fmt.Sprintf(`^proto=6 src=\S+ dst=\S+ sport=0 dport=%d .* helper=ftp \[active since \d+s\]$`, ftp.DataPort))
	nstest.WaitFor(t, "A's expectation in B (conntrackd -e expect)", func() bool {
		out := strings.TrimSpace(b.Run(t, "conntrackd", "-C", confB, "-e", "expect"))
		return want.MatchString(out)
	})
	if x := a.Run(t, "conntrackd", "-C", confA, "-i", "expect", "-x"); !strings.HasPrefix(x, "<flow><layer3 ") || !strings.Contains(x, "<helper-name>ftp</helper-name>") {
		t.Errorf("conntrackd -i expect -x:\n%s", x)
	}
}
