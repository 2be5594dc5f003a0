package ctargs

import (
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

func TestLabelNames(t *testing.T) {
	m := LabelNames(map[int]string{1: "a", 5: "b", 3: "a"})
	if m["a"] != 1 || m["b"] != 5 || len(m) != 2 {
		t.Errorf("%v", m)
	}
}
