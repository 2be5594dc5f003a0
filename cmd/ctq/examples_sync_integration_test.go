//go:build linux

package main

import (
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// notify runs the notify script as keepalived does (TYPE NAME STATE
// PRIORITY) and returns its standard error and exit code.
func notify(t *testing.T, bin, conf, state string) (string, int) {
	t.Helper()
	cmd := exec.Command("bash", notifyScript, "INSTANCE", "VI_1", state, "100")
	cmd.Env = append(os.Environ(), "CTQ="+bin, "CTQ_SYNC_CONF="+conf, "CTQ_SYNC_LOG=-")
	out, err := cmd.CombinedOutput()
	if err == nil {
		return string(out), 0
	}
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	t.Fatalf("run %s: %v", notifyScript, err)
	return "", 0
}

// TestKeepalivedNotifyMaster runs a ctq sync pair and the notify script's
// MASTER branch on the backup: the flows replicated from the primary end up
// in the backup's kernel table, its internal cache, and back in the
// primary's external cache.
func TestKeepalivedNotifyMaster(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	bin := buildCtq(t)
	a, b := nstest.Joined(t, "ctqa", "192.0.2.1", "ctqb", "192.0.2.2")

	const dst = "203.0.113.9"
	want := udpFlows(t, a, "198.51.100.3", dst, 3000, 3004)

	confA, confB := writeSyncConfs(t, t.TempDir(), syncTestConf, syncTestConf, "192.0.2.1", "192.0.2.2")
	startSyncDaemon(t, bin, a, confA)
	startSyncDaemon(t, bin, b, confB)
	waitControl(t, confA, confB)
	nstest.WaitFor(t, "A's table in B's external cache", func() bool {
		syncCtl(t, `sync resync "`+confB+`"`)
		return slices.Equal(syncTuples(syncCtl(t, `sync dump external "`+confB+`"`), dst), want)
	})
	if got := syncTuples(b.Run(t, "conntrack", "-L"), dst); len(got) != 0 {
		t.Fatalf("B's kernel table before MASTER: %q", got)
	}

	out, rc := notify(t, bin, confB, "MASTER")
	if rc != 0 {
		t.Fatalf("notify MASTER: exit %d: %s", rc, out)
	}
	if !strings.Contains(out, fmt.Sprintf("sync commit: %d entries committed", len(want))) {
		t.Errorf("notify MASTER log: %q", out)
	}
	if got := syncTuples(b.Run(t, "conntrack", "-L"), dst); !slices.Equal(got, want) {
		t.Errorf("B's kernel table after MASTER: %q, want %q", got, want)
	}
	// The new master reread its table (refresh) and sent it whole (bulk):
	// A's external cache holds the committed flows.
	nstest.WaitFor(t, "B's table in A's external cache", func() bool {
		return slices.Equal(syncTuples(syncCtl(t, `sync dump external "`+confA+`"`), dst), want)
	})
	if got := syncTuples(syncCtl(t, `sync dump internal "`+confB+`"`), dst); !slices.Equal(got, want) {
		t.Errorf("B's internal cache after MASTER: %q, want %q", got, want)
	}

	// The old master becomes backup: a purge is scheduled, a resync asked.
	if out, rc := notify(t, bin, confA, "BACKUP"); rc != 0 || strings.Contains(out, "failed") {
		t.Errorf("notify BACKUP: exit %d: %q", rc, out)
	}
	if out, rc := notify(t, bin, confB, "BOGUS"); rc != 2 || !strings.Contains(out, "unknown state 'BOGUS'") {
		t.Errorf("notify BOGUS: exit %d: %q", rc, out)
	}
}
