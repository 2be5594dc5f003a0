package lang

import (
	"strings"
	"testing"

	"ctq/engine"
)

// TestListZero: "list ... zero" sets Plan.Zero (conntrack -L -z), and only
// where the dump reads exactly the entries listed.
func TestListZero(t *testing.T) {
	for _, tt := range []struct {
		src  string
		zero bool
	}{
		{"list", false},
		{"list zero", true},
		{"list conntrack zero as json", true},
		{"list where family == ipv4 and proto == tcp and dport == 22 zero", true},
		{`list where src == "192.0.2.1" and proto == tcp zero`, true},
		{"list zero where mark == 1", true},
	} {
		p := compileOne(t, tt.src, nil)
		if p.Action != engine.ActList || p.Zero != tt.zero {
			t.Errorf("%s: action %v zero %v, want list zero %v", tt.src, p.Action, p.Zero, tt.zero)
		}
	}
	prog, err := CompileProgram("", "list where mark == 1 zero as extended", &Options{Formats: []string{"text", "extended"}})
	if err != nil {
		t.Fatal(err)
	}
	if ps := prog.Steps[0].(*PlanStep); ps.Format != "extended" || !ps.plan.Zero {
		t.Errorf("format %q zero %v", ps.Format, ps.plan.Zero)
	}
}

// TestEcho: an as clause on delete and update prints what they touch
// (Plan.Echo) in that format (the PlanStep's Format).
func TestEcho(t *testing.T) {
	opts := &Options{Formats: []string{"text", "save", "json", "extended", "id"}}
	for _, tt := range []struct {
		src    string
		action engine.Action
		echo   bool
		format string
	}{
		{"delete where mark == 1", engine.ActDelete, false, ""},
		{"delete where mark == 1 as save", engine.ActDelete, true, "save"},
		{"delete as json where mark == 1", engine.ActDelete, true, "json"},
		{"update set mark = 2 where mark == 1", engine.ActUpdate, false, ""},
		{"update set mark = 2 where mark == 1 as extended,id", engine.ActUpdate, true, "extended,id"},
	} {
		prog, err := CompileProgram("", tt.src, opts)
		if err != nil {
			t.Errorf("%s: %v", tt.src, err)
			continue
		}
		ps := prog.Steps[0].(*PlanStep)
		if p := ps.plan; p.Action != tt.action || p.Echo != tt.echo || ps.Format != tt.format {
			t.Errorf("%s: action %v echo %v format %q, want %v %v %q", tt.src, p.Action, p.Echo, ps.Format, tt.action, tt.echo, tt.format)
		}
	}
}

func TestClauseErrors(t *testing.T) {
	opts := &Options{Formats: []string{"text", "save", "json"}}
	for _, tt := range []struct{ src, want string }{
		{"list expect zero", "1:13: `zero` zeroes the counters of conntrack entries; the `expect` table has none to zero"},
		{"list dying zero", "1:12: `zero` zeroes the counters of conntrack entries; the `dying` table has none to zero"},
		{"list zero order by bytes", "1:6: `zero` lists in the kernel's order: it cannot be combined with `order by`"},
		{"list limit 3 zero", "1:14: `zero` zeroes every entry the dump reads, also those past the limit: it cannot be combined with `limit`"},
		{`list where helper == "ftp" zero`, "1:12: with `zero` the kernel must apply the whole condition"},
		{"list where dport in 1..2 zero", "1:12: with `zero` the kernel must apply the whole condition"},
		{"list zero zero", "1:11: duplicate `zero` clause"},
		{"list where proto == tcp and dport == 22 zero", "1:12: with `zero` the kernel must apply the whole condition, and its tuple filter needs a family: add `family == ipv4` (or ipv6)"},
		{`list where src == "2001:db8::1" zero`, "1:12: with `zero` the kernel must apply the whole condition, and it cannot match IPv6 addresses"},
		{"count zero", "1:7: `zero` does not belong in a `count` statement"},
		{"delete where mark == 1 dry as save", "1:31: `dry` touches nothing, so there is nothing to print: to see the entries write `list where ... as save`"},
		{"delete expect where true as text", "1:29: deleted expectations are not printed: `as` works on conntrack entries"},
		{"delete where true as nosuch", "1:22: unknown format `nosuch`"},
		{"update set mark = 1 where true as", "1:34: expected a format name after `as`"},
	} {
		_, err := CompileProgram("", tt.src, opts)
		if err == nil {
			t.Errorf("%s: compiled", tt.src)
			continue
		}
		if got := err.Error(); len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.src, got, tt.want)
		}
	}
}

// TestInsertIfAbsent: "insert if absent" sets Plan.IfAbsent (conntrack -A).
func TestInsertIfAbsent(t *testing.T) {
	const rec = `{proto: tcp, src: "192.0.2.1", dst: "192.0.2.2", sport: 1, dport: 2, timeout: 60, state: "ESTABLISHED"}`
	for _, tt := range []struct {
		src      string
		ifAbsent bool
		n        int
	}{
		{"insert " + rec, false, 1},
		{"insert if absent " + rec, true, 1},
		{"insert conntrack if absent " + rec, true, 1},
		{"insert if absent [" + rec + ", " + rec + "]", true, 2},
	} {
		p := compileOne(t, tt.src, nil)
		if p.Action != engine.ActInsert || p.IfAbsent != tt.ifAbsent || len(p.Create) != tt.n {
			t.Errorf("%s: action %v ifAbsent %v %d entries, want insert %v %d", tt.src, p.Action, p.IfAbsent, len(p.Create), tt.ifAbsent, tt.n)
		}
	}
	for _, tt := range []struct{ src, want string }{
		{"insert if {}", "1:11: expected `absent` after `if`, found `{`"},
		{"insert if absent", "1:17: expected `{` after `absent`, found end of input"},
		{`insert expect if absent {}`, "1:15: `if absent` inserts conntrack entries (conntrack -A)"},
	} {
		_, err := CompileProgram("", tt.src, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %s", tt.src, err, tt.want)
		}
	}
}

// TestHiddenFormats: a hidden format word (timestamp, conntrack's -o
// timestamp) is accepted by as, but not suggested.
func TestHiddenFormats(t *testing.T) {
	opts := &Options{Formats: []string{"text", "extended", "ktimestamp"}, HiddenFormats: []string{"timestamp"}}
	for _, src := range []string{"list as timestamp", "list as extended,timestamp", "watch as timestamp", "delete where mark == 1 as timestamp"} {
		if _, err := CompileProgram("", src, opts); err != nil {
			t.Errorf("%s: %v", src, err)
		}
	}
	_, err := CompileProgram("", "list as timestamps", opts)
	if err == nil || !strings.Contains(err.Error(), "unknown format `timestamps` (did you mean `ktimestamp`?)") {
		t.Errorf("list as timestamps: %v", err)
	}
}
