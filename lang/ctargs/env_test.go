package ctargs

import (
	"ctq/engine"
	"os"
	"strings"
	"testing"
)

func TestSystemEnv(t *testing.T) {
	if _, err := os.Stat("/etc/protocols"); err != nil {
		t.Skip("no /etc/protocols")
	}
	env := SystemEnv()
	if n, ok := env.ProtoByName("tcp"); !ok || n != 6 {
		t.Errorf("tcp: %d %v", n, ok)
	}
	if name, ok := env.ProtoByNumber(17); !ok || name != "udp" {
		t.Errorf("17: %q %v", name, ok)
	}
	if _, err := os.Stat(ConnlabelPath); os.IsNotExist(err) {
		c, err := Parse(strings.Fields("-L -o labels"), env)
		if err != nil || len(c.Warnings) != 1 || c.Warnings[0] != "nfct_labelmap_new: No such file or directory" {
			t.Errorf("-o labels: %v %+v", err, c)
		}
	}
}

func TestNilEnv(t *testing.T) {
	if _, err := Parse(strings.Fields("-L -p esp"), nil); err == nil || err.Error() != "`esp' unsupported protocol" {
		t.Errorf("-p esp without /etc/protocols: %v", err)
	}
	c, err := Parse(strings.Fields("-L -p 50"), nil)
	if err != nil || c.Plan.Filter.Orig.Proto != 50 {
		t.Errorf("-p 50: %v", err)
	}
	_, err = Parse(strings.Fields("-L -l x"), nil)
	if e, ok := err.(*Error); !ok || e.Msg != "unknown label 'x'" || len(e.Warnings) != 1 {
		t.Errorf("-l x: %#v", err)
	}
}

func TestParseLabelMap(t *testing.T) {
	// The file of the recorded runs: "x y" is one name, 200 a bit,
	// "bad line" and the second "5 web" are skipped.
	m, err := ParseLabelMap(strings.NewReader("# comment\n0 zero\n1 web\n  3   db  \n70 vip\n5 web\n6 x y\n200 big\nbad line\n 0x10 hex\n1024 toobig\n7 a;b\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"zero": 0, "web": 1, "db": 3, "vip": 70, "x y": 6, "big": 200, "hex": 16}
	if len(m) != len(want) {
		t.Errorf("%v", m)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%q: %d, want %d (%v)", k, m[k], v, m)
		}
	}
	if _, err := ParseLabelMap(strings.NewReader("# nothing\n")); err != ErrNoLabels {
		t.Errorf("empty: %v", err)
	}
	env := testEnv()
	env.LabelMap = func() (map[string]int, error) { return nil, ErrNoLabels }
	c, err := Parse(strings.Fields("-L -o labels"), env)
	if err != nil || len(c.Warnings) != 1 || c.Warnings[0] != "nfct_labelmap_new: Success" {
		t.Errorf("%v %+v", err, c)
	}
	env.LabelMap = func() (map[string]int, error) { return m, nil }
	for _, tc := range []struct{ line, err string }{
		{"-L -l web", ""}, {"-L -l big", ""}, {"-L -l x", "unknown label 'x'"}, {"-L -l db ", ""},
		{"-L -l web,nope", "unknown label 'nope'"},
	} {
		c, err := Parse(strings.Fields(tc.line), env)
		if (err == nil) != (tc.err == "") || (err != nil && err.Error() != tc.err) {
			t.Errorf("%s: %v", tc.line, err)
		}
		if err == nil && len(c.Warnings) != 0 {
			t.Errorf("%s: warnings %q", tc.line, c.Warnings)
		}
	}
	c, _ = Parse(strings.Fields("-L -l big"), env)
	f := flow(6, "1.1.1.1", 1, "2.2.2.2", 2)
	f.Labels.Set(1)
	f.Has |= engine.HasLabels
	if ok, _ := c.Plan.Match(f); ok {
		t.Error("-l big (bit 200) matches")
	}
}
