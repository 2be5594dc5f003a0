package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
