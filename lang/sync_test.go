package lang

import (
	"strings"
	"testing"
)

func TestCompileSync(t *testing.T) {
	tests := []struct {
		in, action, config string
	}{
		{`sync run`, "run", ""},
		{`sync run "/etc/ctq/a.conf"`, "run", "/etc/ctq/a.conf"},
		{`sync start "a.conf"`, "start", "a.conf"},
		{`sync stop`, "stop", ""},
		{`sync status "b.conf"`, "status", "b.conf"},
		{`sync commit`, "commit", ""},
		{`sync commit conntrack`, "commit conntrack", ""},
		{`sync commit expect "c"`, "commit expect", "c"},
		{`sync refresh expect`, "refresh expect", ""},
		{`sync flush kernel conntrack "k"`, "flush kernel conntrack", "k"},
		{`sync flush kernel expect`, "flush kernel expect", ""},
		{`sync flush`, "flush", ""},
		{`sync flush kernel`, "flush kernel", ""},
		{`sync flush internal "c"`, "flush internal", "c"},
		{`sync flush external`, "flush external", ""},
		{`sync refresh`, "refresh", ""},
		{`sync bulk "b.conf"`, "bulk", "b.conf"},
		{`sync purge`, "purge", ""},
		{`sync resync "x"`, "resync", "x"},
		{`sync dump internal`, "dump internal", ""},
		{`sync dump internal expect`, "dump internal expect", ""},
		{`sync dump external expect "e.conf"`, "dump external expect", "e.conf"},
		{`sync dump external "/tmp/b.conf"`, "dump external", "/tmp/b.conf"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			prog, err := CompileProgram("", tt.in, &Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(prog.Steps) != 1 {
				t.Fatalf("%d steps", len(prog.Steps))
			}
			s, ok := prog.Steps[0].(*SyncStep)
			if !ok {
				t.Fatalf("step %T", prog.Steps[0])
			}
			if s.Action != tt.action || s.Config != tt.config || s.At.Line != 1 {
				t.Errorf("got %+v, want action %q config %q", s, tt.action, tt.config)
			}
		})
	}
}

func TestSyncErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no action", `sync`, "1:5: expected a sync action"},
		{"typo", `sync stauts`, "did you mean `status`?"},
		{"dump without cache", `sync dump`, "expected `internal` or `external` after `sync dump`"},
		{"dump typo", `sync dump extrenal`, "did you mean `external`?"},
		{"flush typo", `sync flush kernal`, "did you mean `kernel`?"},
		{"dump expect typo", `sync dump internal expcet`, "did you mean `expect`?"},
		{"commit table typo", `sync commit conntarck`, "1:13: expected `conntrack`, `expect`, a configuration path in quotes or the end after `sync commit`, found `conntarck` (did you mean `conntrack`?)"},
		{"flush internal table", `sync flush internal expect`, "expected the configuration path in quotes or the end of `sync flush internal`"},
		{"status table", `sync status expect`, "expected the configuration path in quotes or the end of `sync status`"},
		{"bare path", `sync run /etc/x`, "expected the configuration path in quotes"},
		{"empty path", `sync run ""`, "not an empty string"},
		{"two paths", `sync run "a" "b"`, "unexpected `\"b\"` after the `sync` statement"},
		{"uppercase", `SYNC run`, "keywords are lowercase: `sync`"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileProgram("", tt.in, &Options{})
			if err == nil {
				t.Fatalf("%q compiled", tt.in)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
