//go:build linux

package main

import (
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// clashFlows inserts into ns, for each flow of udpFlows(src, dst, from,
// to), an entry of another source with the same reply tuple: the kernel
// then refuses to create the flow (EEXIST on its reply tuple, and the
// delete of its original tuple finds nothing), as a commit into a full
// table fails. nf_conntrack_max is not writable in a namespace on every
// kernel (it is global), so a full table cannot be made for a test alone.
func clashFlows(t *testing.T, ns *nstest.NS, src, dst string, from, to int, del bool) {
	t.Helper()
	op := "-I"
	if del {
		op = "-D"
	}
	for port := from; port < to; port++ {
		p := strconv.Itoa(port)
		args := []string{op, "-p", "udp", "-s", "10.99.0.1", "-d", dst, "--sport", p, "--dport", "53"}
		if !del {
			args = append(args, "-t", "600", "--reply-src", dst, "--reply-dst", src, "--reply-port-src", "53", "--reply-port-dst", p)
		}
		ns.Run(t, "conntrack", args...)
	}
}

// runExit runs a command and returns its combined output and exit code.
func runExit(t *testing.T, name string, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &ee):
		return string(out), ee.ExitCode()
	}
	t.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	return "", 0
}

// TestSyncCommitFailed: a commit the kernel refuses entries of fails:
// ctq's sync commit exits 1 with its summary and the error; conntrackd's
// client (conntrackd -c) prints an ERROR line; the notify script's MASTER
// branch keeps the external cache it could not commit (no flush) and
// exits 1. Once the kernel takes the entries, conntrackd -c commits them
// and prints nothing, as against conntrackd.
func TestSyncCommitFailed(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "conntrackd")
	bin := buildCtq(t)
	a, b := nstest.Joined(t, "ctqa", "192.0.2.1", "ctqb", "192.0.2.2")
	const src, dst = "198.51.100.4", "203.0.113.12"
	want := udpFlows(t, a, src, dst, 4000, 4004)
	confA, confB := writeSyncConfs(t, t.TempDir(), syncTestConf, syncTestConf, "192.0.2.1", "192.0.2.2")
	startSyncDaemon(t, bin, a, confA)
	startSyncDaemon(t, bin, b, confB)
	waitControl(t, confA, confB)
	external := func() []string { return syncTuples(syncCtl(t, `sync dump external "`+confB+`"`), dst) }
	nstest.WaitFor(t, "A's table in B's external cache", func() bool {
		syncCtl(t, `sync resync "`+confB+`"`)
		return slices.Equal(external(), want)
	})
	clashFlows(t, b, src, dst, 4000, 4004, false)

	out, errOut, rc := ctq(t, "-e", `sync commit "`+confB+`"`)
	if rc != 1 {
		t.Errorf("sync commit refused by the kernel: exit %d, want 1", rc)
	}
	if !strings.HasPrefix(out, fmt.Sprintf("%d entries committed (0 created, 0 replaced, %d failed)\n", len(want), len(want))) {
		t.Errorf("sync commit's summary: %q", out)
	}
	if !strings.Contains(errOut, fmt.Sprintf("commit failed: the kernel refused %d of %d entries", len(want), len(want))) {
		t.Errorf("sync commit's error: %q", errOut)
	}

	// conntrackd's client prints what the node sends; it exits 0 whatever
	// that is (it fails only when it cannot connect), as against conntrackd.
	out, rc = runExit(t, "ip", "netns", "exec", b.Name(), "conntrackd", "-C", confB, "-c")
	if !strings.HasPrefix(out, "ERROR: commit failed: the kernel refused") {
		t.Errorf("conntrackd -c refused by the kernel: exit %d, %q", rc, out)
	}
	t.Logf("conntrackd -c of a failed commit: exit %d (conntrackd's client ignores the answer)", rc)

	log, rc := notify(t, bin, confB, "MASTER")
	if rc != 1 || !strings.Contains(log, "sync commit failed") || !strings.Contains(log, "external cache kept") {
		t.Errorf("notify MASTER with a failed commit: exit %d: %s", rc, log)
	}
	if got := external(); !slices.Equal(got, want) {
		t.Errorf("B's external cache after a failed MASTER: %q, want %q (flushed?)", got, want)
	}

	// The kernel takes them now: conntrackd -c commits and prints nothing.
	clashFlows(t, b, src, dst, 4000, 4004, true)
	if out, rc := runExit(t, "ip", "netns", "exec", b.Name(), "conntrackd", "-C", confB, "-c"); rc != 0 || out != "" {
		t.Errorf("conntrackd -c: exit %d, %q; want nothing, as conntrackd prints", rc, out)
	}
	if got := syncTuples(b.Run(t, "conntrack", "-L"), dst); !slices.Equal(got, want) {
		t.Errorf("B's kernel table after conntrackd -c: %q, want %q", got, want)
	}
}
