//go:build linux

package main

import (
	"os/exec"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// TestConntrackEventBufferNotice: conntrack -E -b N reports the buffer
// size the kernel set, quirks of 1.4.7's types included; ctq's front end
// prints the same line.
func TestConntrackEventBufferNotice(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "timeout")
	bin := buildCtq(t)
	ns := nstest.New(t)
	notice := func(argv ...string) string {
		t.Helper()
		cmd := append([]string{"netns", "exec", ns.Name(), "timeout", "-s", "INT", "0.5"}, argv...)
		out, _ := exec.Command("ip", cmd...).CombinedOutput() // ended by SIGINT
		first, _, _ := strings.Cut(string(out), "\n")
		return first
	}
	for _, b := range []string{"abc", "0", "16777216", "-5", "4294967296", "99999999999"} {
		want := notice("conntrack", "-E", "-b", b)
		if !strings.HasPrefix(want, "NOTICE: ") {
			t.Fatalf("conntrack -E -b %s: %q", b, want)
		}
		if got := notice(bin, "conntrack", "-E", "-b", b); got != want {
			t.Errorf("-E -b %s: ctq %q, conntrack %q", b, got, want)
		}
	}
}
