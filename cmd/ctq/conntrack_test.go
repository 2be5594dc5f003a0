package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestConntrackSubcommand: `ctq conntrack ARGS` is conntrack's front end,
// and --help lists it.
func TestConntrackSubcommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	rc := run([]string{"conntrack", "-V"}, strings.NewReader(""), &stdout, &stderr)
	if rc != 0 || stdout.String() != "conntrack v1.4.7 (conntrack-tools)\n" || stderr.Len() != 0 {
		t.Errorf("ctq conntrack -V: rc %d, stdout %q, stderr %q", rc, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if rc := run([]string{"--help"}, strings.NewReader(""), &stdout, &stderr); rc != 0 || !strings.Contains(stdout.String(), "\n  conntrack ARGS...") {
		t.Errorf("ctq --help does not list the conntrack subcommand:\n%s", stdout.String())
	}
}
