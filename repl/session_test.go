package repl

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"ctq/engine"
)

// offline returns a session on the test snapshot with a fixed clock.
func offline(out, errb *bytes.Buffer) *Session {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	return NewSession(Config{Stdout: out, Stderr: errb, From: "testdata/table.save", Now: func() time.Time { return now }})
}

func TestSessionRun(t *testing.T) {
	tests := []struct {
		name, script, want string
	}{
		{"count", "count", "4\n"},
		{"count where", "count where proto == tcp and dport == 22", "2\n"},
		{"count json", "count where state == \"SYN_SENT\" as json", ""},
		{"several statements", "count where proto == udp; count where family == ipv6\n# a comment\ncount where dport == 22", "1\n1\n2\n"},
		{"list as save", `list where src == "192.0.2.2" as save`,
			"-A -t 60 -u UNSET -s 192.0.2.2 -d 198.51.100.7 -r 198.51.100.7 -q 192.0.2.2 -p tcp --sport 40001 --dport 22 --reply-port-src 22 --reply-port-dst 40001 --state SYN_SENT\n"},
		{"list order limit", "list where family == ipv4 order by timeout limit 1",
			"udp      17 29 src=192.0.2.1 dst=203.0.113.53 sport=5353 dport=53 src=203.0.113.53 dst=192.0.2.1 sport=53 dport=5353\n"},
		{"list json", `list where proto == udp as json`, `"proto":"udp"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			s := offline(&out, &errb)
			defer s.Close()
			err := s.Run(context.Background(), "test", tt.script)
			if tt.name == "count json" {
				// count takes no "as": a parse error, and nothing ran.
				if ExitCode(err) != ExitUsage || out.Len() != 0 {
					t.Fatalf("got %v (exit %d), output %q", err, ExitCode(err), out.String())
				}
				return
			}
			if err != nil {
				t.Fatalf("Run: %v (stderr %s)", err, errb.String())
			}
			if strings.HasPrefix(tt.want, `"`) {
				if !strings.Contains(out.String(), tt.want) {
					t.Errorf("output %q lacks %q", out.String(), tt.want)
				}
				return
			}
			if out.String() != tt.want {
				t.Errorf("output\n%q\nwant\n%q", out.String(), tt.want)
			}
		})
	}
}

func TestSessionErrors(t *testing.T) {
	var out, errb bytes.Buffer
	s := offline(&out, &errb)
	defer s.Close()

	// A typo on line 2 stops everything before line 1 runs.
	err := s.Run(context.Background(), "script.ctq", "count\nlist where dprt == 22\n")
	var se *SourceError
	if !errors.As(err, &se) || ExitCode(err) != ExitUsage {
		t.Fatalf("typo: got %v", err)
	}
	if !strings.HasPrefix(err.Error(), "script.ctq:2:12: ") || out.Len() != 0 {
		t.Errorf("typo: message %q, output %q", err, out.String())
	}

	// A missing snapshot is a runtime error.
	s2 := NewSession(Config{Stdout: &out, Stderr: &errb, From: "testdata/missing.save"})
	defer s2.Close()
	if err := s2.Run(context.Background(), "", "count"); ExitCode(err) != ExitRuntime {
		t.Errorf("missing snapshot: got %v (exit %d)", err, ExitCode(err))
	}

	// Without a live opener (ctq off Linux) a live statement says why.
	s3 := NewSession(Config{Stdout: &out, Stderr: &errb})
	defer s3.Close()
	if err := s3.Run(context.Background(), "", "count"); !errors.Is(err, engine.ErrUnsupported) || ExitCode(err) != ExitRuntime {
		t.Errorf("no live opener: got %v (exit %d), want engine.ErrUnsupported", err, ExitCode(err))
	}

	// A cancelled run exits 130.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx, "", "list"); ExitCode(err) != ExitInterrupted {
		t.Errorf("cancelled: got %v (exit %d)", err, ExitCode(err))
	}
}
