package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// The HA examples, relative to this package.
const (
	notifyScript = "../../examples/keepalived-notify.sh"
	syncUnit     = "../../examples/ctq-sync.service"
)

// TestSyncExamplesSyntax checks the notify script with bash -n and the
// systemd unit with systemd-analyze verify (with its ctq path pointed at a
// built binary), when systemd-analyze is installed.
func TestSyncExamplesSyntax(t *testing.T) {
	if out, err := exec.Command("bash", "-n", notifyScript).CombinedOutput(); err != nil {
		t.Errorf("bash -n %s: %v\n%s", notifyScript, err, out)
	}
	unit, err := os.ReadFile(syncUnit)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(unit), `ExecStart=/usr/local/bin/ctq -e 'sync run "/etc/ctq/sync.conf"'`) {
		t.Errorf("%s does not run sync run on /etc/ctq/sync.conf:\n%s", syncUnit, unit)
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Logf("systemd-analyze not installed: %s not verified", syncUnit)
		return
	}
	// verify wants the executables to exist.
	bin := buildCtq(t)
	path := filepath.Join(t.TempDir(), "ctq-sync.service")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/ctq", bin)), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", path).CombinedOutput(); err != nil || len(out) != 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", syncUnit, err, out)
	}
}

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
