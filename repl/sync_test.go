package repl

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// syncConf is a NOTRACK configuration over UDP on interface d0; %[1]s is
// the scratch directory (d0 is one end of a veth pair whose other end,
// d1, has no address: what the node sends goes nowhere).
const syncConf = `Sync {
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

func TestSyncErrors(t *testing.T) {
	dir := t.TempDir()
	noUnix := filepath.Join(dir, "nounix.conf")
	os.WriteFile(noUnix, []byte("Sync {\n\tMode NOTRACK {\n\t}\n}\nGeneral {\n\tHashSize 1024\n}\n"), 0o600)
	conf := filepath.Join(dir, "a.conf")
	os.WriteFile(conf, fmt.Appendf(nil, syncConf, dir), 0o600)
	stats := filepath.Join(dir, "stats.conf")
	os.WriteFile(stats, []byte("General {\n\tHashSize 1024\n}\nStats {\n\tLogFile on\n}\n"), 0o600)
	noSync := filepath.Join(dir, "nosync.conf")
	os.WriteFile(noSync, []byte("General {\n\tHashSize 1024\n}\n"), 0o600)
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("Sync {\n\tMode FOO {\n\t}\n}\n"), 0o600)
	tests := []struct {
		name, script, want string
		code               int
	}{
		{"missing file", `sync status "` + dir + `/nope.conf"`, "nope.conf", ExitRuntime},
		{"no control socket", `sync status "` + noUnix + `"`, "has no control socket", ExitRuntime},
		{"nothing running", `sync status "` + conf + `"`, "is it running?", ExitRuntime},
		{"dump nothing running", `sync dump external "` + conf + `"`, "sync dump external: connect", ExitRuntime},
		{"bad configuration", `sync run "` + bad + `"`, bad + `:2: Mode: bad value "FOO"`, ExitUsage},
		{"stats mode", `sync run "` + stats + `"`, stats + ":4: Stats is conntrackd's statistics mode, not sync: ctq logs ended flows with `account", ExitUsage},
		{"no sync section", `sync run "` + noSync + `"`, noSync + ": no Sync section", ExitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			s := NewSession(Config{Stdout: &out, Stderr: &errb, From: ""})
			defer s.Close()
			err := s.Run(context.Background(), "-e", tt.script)
			if err == nil || !strings.Contains(err.Error(), tt.want) || ExitCode(err) != tt.code {
				t.Errorf("error %v (exit code %d), want it to contain %q (exit code %d)", err, ExitCode(err), tt.want, tt.code)
			}
			if strings.Contains(errb.String(), "Stats") {
				t.Errorf("a warning about Stats besides the error: %s", errb.String())
			}
		})
	}
}
