package daemon

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPrepareErrors(t *testing.T) {
	dir := t.TempDir()
	conf := writeConf(t, dir, "a.conf", fmt.Sprintf(nodeConf, dir))
	cfg := Config{ConfigPath: conf, NetNS: "ctq-no-such-namespace"}
	if err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Run in a missing namespace: %v", err)
	}
	if _, err := Start(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Start in a missing namespace: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lock")); !os.IsNotExist(err) {
		t.Errorf("lock file after a failed start: %v", err)
	}
}
