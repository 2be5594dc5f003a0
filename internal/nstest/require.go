package nstest

import (
	"os"
	"os/exec"
	"testing"
)

// EnvIntegration names the environment variable that decides what an
// integration test does when it cannot run: unset (or anything else), it
// skips with a message; "require", it fails. CI sets it, so a runner that
// lost root or ip(8) cannot pass by skipping every kernel test.
const EnvIntegration = "CTQ_INTEGRATION"

// Require skips t (or fails it under CTQ_INTEGRATION=require) unless this
// process can make network namespaces: root and ip(8) on the PATH.
// Integration tests call it first; New calls it too.
func Require(t testing.TB) {
	t.Helper()
	why := ""
	switch {
	case os.Geteuid() != 0:
		why = "needs root (network namespaces and the conntrack table)"
	default:
		if _, err := exec.LookPath("ip"); err != nil {
			why = "needs ip(8) from iproute2"
		}
	}
	if why == "" {
		return
	}
	if os.Getenv(EnvIntegration) == "require" {
		t.Fatalf("integration test %s: %s, and %s=require", t.Name(), why, EnvIntegration)
	}
	t.Skipf("integration test: %s; skipped (set %s=require to make this a failure)", why, EnvIntegration)
}

// RequireCommand is Require plus the named programs (conntrack,
// conntrackd, nft, ...) on the PATH.
func RequireCommand(t testing.TB, names ...string) {
	t.Helper()
	Require(t)
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv(EnvIntegration) == "require" {
				t.Fatalf("integration test %s: needs %s on the PATH, and %s=require", t.Name(), name, EnvIntegration)
			}
			t.Skipf("integration test: needs %s on the PATH; skipped (set %s=require to make this a failure)", name, EnvIntegration)
		}
	}
}
