package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ctq/sync/config"
)

// nodeConf is a NOTRACK configuration over UDP on interface d0; %[1]s is
// the scratch directory of its lock file, log and control socket.
const nodeConf = `Sync {
	Mode NOTRACK {
		DisableExternalCache off
	}
	UDP Default {
		IPv4_address 192.0.2.1
		IPv4_Destination_Address 192.0.2.2
		Port 3780
		Interface d0
		Checksum on
	}
}
General {
	HashSize 1024
	HashLimit 4096
	LockFile %[1]s/lock
	LogFile %[1]s/log
	UNIX {
		Path %[1]s/ctl.sock
	}
}
`

// writeConf writes text to name in dir and returns its path.
func writeConf(t *testing.T, dir, name, text string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	good := writeConf(t, dir, "a.conf", fmt.Sprintf(nodeConf, dir))
	cfg, err := LoadConfig(good)
	if err != nil || cfg.General.UnixPath != dir+"/ctl.sock" || cfg.File != good {
		t.Fatalf("LoadConfig: %v (%+v)", err, cfg)
	}
	noUnix := writeConf(t, dir, "nounix.conf", "Sync {\n\tMode NOTRACK {\n\t}\n}\nGeneral {\n\tHashSize 1024\n}\n")
	stats := writeConf(t, dir, "stats.conf", "General {\n\tHashSize 1024\n}\nStats {\n\tLogFile on\n}\n")
	noSync := writeConf(t, dir, "nosync.conf", "General {\n\tHashSize 1024\n}\n")
	bad := writeConf(t, dir, "bad.conf", "Sync {\n\tMode FOO {\n\t}\n}\n")
	tests := []struct {
		name, path, want string
		configError      bool
	}{
		{"missing file", dir + "/nope.conf", "nope.conf", false},
		{"no control socket", noUnix, noUnix + " has no control socket", false},
		{"bad configuration", bad, bad + `:2: Mode: bad value "FOO"`, true},
		{"stats mode", stats, stats + ":4: Stats is conntrackd's statistics mode, not sync: ctq logs ended flows with `account", true},
		{"no sync section", noSync, noSync + ": no Sync section", true},
	}
	for _, tt := range tests {
		_, err := LoadConfig(tt.path)
		var ce *config.Error
		if err == nil || !strings.Contains(err.Error(), tt.want) || errors.As(err, &ce) != tt.configError {
			t.Errorf("%s: %v, want an error with %q (a *config.Error: %v)", tt.name, err, tt.want, tt.configError)
		}
	}
}

func TestConfigPath(t *testing.T) {
	if p, err := configPath("/x/y.conf"); err != nil || p != "/x/y.conf" {
		t.Errorf("given path: %q, %v", p, err)
	}
	p, err := configPath("")
	exists := false
	for _, d := range DefaultConfigPaths() {
		if _, serr := os.Stat(d); serr == nil {
			exists = true
			if p != d || err != nil {
				t.Errorf("default: %q, %v, want %q", p, err, d)
			}
			break
		}
	}
	if !exists && (err == nil || !strings.Contains(err.Error(), "none of")) {
		t.Errorf("no default file: %q, %v", p, err)
	}
}
