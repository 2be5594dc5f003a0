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
	if err := Run(context.Background(), Config{ConfigPath: conf}); err == nil || !strings.Contains(err.Error(), "OpenLive is nil") {
		t.Errorf("Run without OpenLive: %v", err)
	}
	if _, err := Start(context.Background(), Config{ConfigPath: conf}); err == nil || !strings.Contains(err.Error(), "OpenLive is nil") {
		t.Errorf("Start without OpenLive: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lock")); !os.IsNotExist(err) {
		t.Errorf("lock file after a failed start: %v", err)
	}
}
