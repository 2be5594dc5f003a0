package lang

import (
	"errors"
	"strings"
	"testing"
	"time"

	"ctq/engine"
)

func TestCompileStatsAndServe(t *testing.T) {
	tests := []struct {
		name, in string
		check    func(t *testing.T, st Step)
	}{
		{"stats", "stats", func(t *testing.T, st Step) {
			s := st.(*StatsStep)
			if s.Table != engine.TableConntrack || s.Format != "" || s.At.Line != 1 {
				t.Errorf("got %+v", s)
			}
		}},
		{"stats expect as json", "stats expect as json", func(t *testing.T, st Step) {
			s := st.(*StatsStep)
			if s.Table != engine.TableExpect || s.Format != "json" {
				t.Errorf("got %+v", s)
			}
		}},
		{"serve plain", `serve "127.0.0.1:9100"`, func(t *testing.T, st Step) {
			s := st.(*ServeStep)
			if s.Addr != "127.0.0.1:9100" || s.Textfile != "" || s.Series != nil || s.For != 0 {
				t.Errorf("got %+v", s)
			}
		}},
		{"serve series", `serve "[::1]:0" where proto == tcp by zone, dport every 10s for 5s`, func(t *testing.T, st Step) {
			s := st.(*ServeStep)
			if s.Addr != "[::1]:0" || s.For != 5*time.Second || s.Resync != 10*time.Second || s.Series == nil {
				t.Fatalf("got %+v", s)
			}
			p, err := s.Series.Plan(nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.Action != engine.ActGroup || len(p.Group.By) != 2 || p.Match == nil {
				t.Errorf("series plan %+v", p)
			}
			if want := []string{"zone", "dport", "count"}; len(s.Series.Columns) != 3 || s.Series.Columns[0] != want[0] || s.Series.Columns[1] != want[1] {
				t.Errorf("columns %q, want %q", s.Series.Columns, want)
			}
		}},
		{"serve where only", `serve "127.0.0.1:1" where dport == 22`, func(t *testing.T, st Step) {
			s := st.(*ServeStep)
			p, err := s.Series.Plan(nil)
			if err != nil {
				t.Fatal(err)
			}
			if p.Action != engine.ActCount || p.Match == nil {
				t.Errorf("series plan %+v", p)
			}
		}},
		{"serve textfile", `serve textfile "/tmp/ctq.prom" by state`, func(t *testing.T, st Step) {
			s := st.(*ServeStep)
			if s.Textfile != "/tmp/ctq.prom" || s.Addr != "" || s.Series == nil {
				t.Errorf("got %+v", s)
			}
		}},
		{"serve sync", `serve "127.0.0.1:9466" where proto == tcp sync "/etc/ctq/sync.conf" for 1m`, func(t *testing.T, st Step) {
			s := st.(*ServeStep)
			if !s.Sync || s.SyncConfig != "/etc/ctq/sync.conf" || s.Series == nil || s.For != time.Minute {
				t.Errorf("got %+v", s)
			}
		}},
		{"serve textfile sync default", `serve textfile "x.prom" sync`, func(t *testing.T, st Step) {
			s := st.(*ServeStep)
			if !s.Sync || s.SyncConfig != "" {
				t.Errorf("got %+v", s)
			}
		}},
		{"account", `account "/var/log/ctq.log" where proto == tcp every 5s for 1m as json`, func(t *testing.T, st Step) {
			s := st.(*AccountStep)
			if s.Resync != 5*time.Second {
				t.Errorf("resync %v, want 5s", s.Resync)
			}
			p, err := s.Watch.Plan(nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Path != "/var/log/ctq.log" || p.Action != engine.ActWatch || p.Events != engine.EventDestroy ||
				p.Table != engine.TableConntrack || p.For != time.Minute || s.Watch.Format != "json" || p.Match == nil || p.Limit != -1 {
				t.Errorf("got %+v, plan %+v", s, p)
			}
		}},
		{"account bare", `account "a.log"`, func(t *testing.T, st Step) {
			s := st.(*AccountStep)
			p, err := s.Watch.Plan(nil)
			if err != nil {
				t.Fatal(err)
			}
			if s.Watch.Format != "" || p.Match != nil || p.For != 0 {
				t.Errorf("plan %+v", p)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prog, err := CompileProgram("", tt.in, &Options{Formats: []string{"text", "json"}})
			if err != nil {
				t.Fatal(err)
			}
			if len(prog.Steps) != 1 {
				t.Fatalf("%d steps, want 1", len(prog.Steps))
			}
			tt.check(t, prog.Steps[0])
		})
	}
}

func TestCompileStatsAndServeErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"stats dying", "stats dying", "1:7: the kernel keeps statistics for the conntrack and expect tables only, not dying"},
		{"stats bad table", "stats conntrak", "1:7: unknown table `conntrak` (did you mean `conntrack`?)"},
		{"stats where", "stats where dport == 1", "1:7: `where` does not belong in a `stats` statement"},
		{"stats bad format", "stats as yaml", "1:10: unknown format `yaml` (formats: text, json)"},
		{"serve no address", "serve", "1:6: expected a listen address (\"127.0.0.1:9100\") in quotes after `serve`, found end of input"},
		{"serve bare address", "serve 127.0.0.1", "1:7: expected a listen address (\"127.0.0.1:9100\") in quotes after `serve`, found `127.0`"},
		{"serve empty", `serve ""`, "1:7: `serve` needs a listen address (\"127.0.0.1:9100\"), not an empty string"},
		{"serve host name", `serve "localhost:9466"`, "1:7: `serve` needs a literal IP address, not \"localhost\" (names are not resolved)"},
		{"serve no host", `serve ":9466"`, "1:7: `serve` needs an address before the port: \"127.0.0.1:9466\" for this host only, \"0.0.0.0:9466\" or \"[::]:9466\" for every address"},
		{"serve no host port 0", `serve ":0"`, "1:7: `serve` needs an address before the port: \"127.0.0.1:0\" for this host only"},
		{"serve no port", `serve "127.0.0.1"`, "1:7: `serve` needs an IP address and a port (\"127.0.0.1:9466\", \"[::1]:9466\"), not \"127.0.0.1\""},
		{"serve v6 without brackets", `serve "::1:9466"`, "1:7: `serve` needs an IP address and a port"},
		{"serve bad port", `serve "127.0.0.1:99999"`, "1:7: `serve`: invalid port \"99999\" (0 to 65535)"},
		{"serve named port", `serve "127.0.0.1:http"`, "1:7: `serve`: invalid port \"http\" (0 to 65535)"},
		{"serve control bytes", "serve \"\x1bc:1\"", "1:7: `serve` needs a literal IP address, not \"\\x1bc\""},
		{"textfile no file", "serve textfile", "1:15: expected a file name in quotes after `textfile`, found end of input"},
		{"textfile for", `serve textfile "x.prom" for 5s`, "1:25: `for` does not belong in a `serve` statement"},
		{"serve bad where", `serve "127.0.0.1:1" where nosuch == 1`, "1:27: unknown field `nosuch`"},
		{"serve bad duration", `serve "127.0.0.1:1" for -5s`, "1:25: `for` needs a duration (e.g. 20s, 5m, 1h30m), found `-`"},
		{"textfile every", `serve textfile "x.prom" every 5s`, "1:25: `every` does not belong in a `serve` statement"},
		{"serve limit", `serve "127.0.0.1:1" limit 3`, "1:21: `limit` does not belong in a `serve` statement"},
		{"serve sync empty", `serve "127.0.0.1:1" sync ""`, "1:26: `sync` needs a configuration path, not an empty string (leave it out for the default)"},
		{"serve sync twice", `serve "127.0.0.1:1" sync sync`, "1:26: duplicate `sync` clause"},
		{"account no file", "account where true", "1:9: expected a file name in quotes after `account`, found `where`"},
		{"account empty", `account ""`, "1:9: `account` needs a file name, not an empty string"},
		{"account by", `account "x" by dport`, "1:13: `by` does not belong in a `account` statement"},
		{"account bad where", `account "x" where dport == "a"`, "1:25: invalid operation: == (mismatched types int and string)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileProgram("", tt.in, &Options{Formats: []string{"text", "json"}})
			if err == nil {
				t.Fatalf("no error, want %q", tt.want)
			}
			if got := err.Error(); !containsLine(got, tt.want) {
				t.Errorf("error\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

// containsLine reports whether the first line of msg contains want.
func containsLine(msg, want string) bool {
	first, _, _ := strings.Cut(msg, "\n")
	return strings.Contains(first, want)
}

// FuzzMetricsStatements checks that stats, serve and account statements
// of any shape parse and compile without panicking, and that every error
// is an *Error placed inside the input.
func FuzzMetricsStatements(f *testing.F) {
	for _, s := range []string{
		"stats", "stats expect as json", "stats dying", "stats as csv,table",
		`serve "127.0.0.1:9100"`, `serve "[::1]:0" where proto == tcp by zone, dport for 5s`,
		`serve textfile "/tmp/x.prom" by bitand(mark, 0xff)`, `serve textfile`, `serve "a" for`,
		`account "/var/log/ctq.log"`, `account "x" where proto == udp for 1m as json`, `account "" as`,
		"let p = 22\nserve \"127.0.0.1:1\" where dport == p",
	} {
		f.Add(s)
	}
	opts := &Options{Formats: []string{"text", "json", "extended"}}
	f.Fuzz(func(t *testing.T, src string) {
		lines := strings.Count(src, "\n") + 1
		prog, err := CompileProgram("", src, opts)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if e.File == "" && (e.Line < 1 || e.Line > lines || e.Col < 1) {
				t.Fatalf("error %d:%d outside the input: %v", e.Line, e.Col, e)
			}
			return
		}
		for _, st := range prog.Steps {
			var ps *PlanStep
			switch s := st.(type) {
			case *ServeStep:
				ps = s.Series
			case *AccountStep:
				ps = s.Watch
			}
			if ps != nil {
				if _, err := ps.Plan(map[string]any{"p": 22}); err != nil {
					var e *Error
					if !errors.As(err, &e) {
						t.Fatalf("plan error %v (%T) is not an *Error", err, err)
					}
				}
			}
		}
	})
}

func TestServeAcceptsLiteralAddresses(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:9466", "[::1]:9466", "0.0.0.0:9466", "[::]:9466", "127.0.0.1:0", "[fe80::1%eth0]:9466", "192.0.2.1:65535"} {
		prog, err := CompileProgram("", `serve "`+addr+`"`, nil)
		if err != nil {
			t.Errorf("serve %q: %v", addr, err)
			continue
		}
		if got := prog.Steps[0].(*ServeStep).Addr; got != addr {
			t.Errorf("serve %q: Addr %q", addr, got)
		}
	}
}
