package main

import (
	"os/exec"
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	tests := []struct {
		name string
		info debug.BuildInfo
		want string
	}{
		{"go install @version", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"checkout", debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: vcs("vcs.revision", "0123456789abcdef0123", "vcs.time", "2026-12-07T06:00:00Z", "vcs.modified", "false")},
			"devel-0123456789ab (2026-12-07T06:00:00Z)"},
		{"dirty checkout", debug.BuildInfo{Settings: vcs("vcs.revision", "abc", "vcs.modified", "true")}, "devel-abc+dirty"},
		{"nothing known", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel"},
	}
	for _, tt := range tests {
		if got := fromBuildInfo(&tt.info); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestVersionStamped builds ctq with -ldflags -X and checks ctq -V.
func TestVersionStamped(t *testing.T) {
	bin := buildCtq(t, "-ldflags", "-X main.stampedVersion=9.8.7-test")
	out, err := exec.Command(bin, "-V").CombinedOutput()
	if err != nil || string(out) != "ctq 9.8.7-test\n" {
		t.Errorf("ctq -V: %q, %v; want \"ctq 9.8.7-test\"", out, err)
	}
}
