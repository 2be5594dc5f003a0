package lang

import (
	"strings"
	"testing"

	"ctq/engine"
)

// TestMasks: non-contiguous masks with mask(ADDR, MASK) (conntrack's
// --mask-src / --mask-dst), and masks in cidr().
func TestMasks(t *testing.T) {
	// ssh: 192.0.2.1 -> 198.51.100.7; dns: 2001:db8::1 -> 2001:db8:53::53
	for _, tt := range []struct {
		cond string
		want [2]bool // on ssh, dns
	}{
		{`mask(src, "255.0.255.0") == "192.0.2.0"`, [2]bool{true, false}},
		{`mask(src, "255.0.255.0") == "192.0.3.0"`, [2]bool{false, false}},
		{`"192.0.2.0" == mask(src, "255.0.255.0")`, [2]bool{true, false}},
		{`mask(src, "255.0.255.0") != "192.0.2.0"`, [2]bool{false, true}},
		{`mask(dst, "0.0.0.255") == "0.0.0.7"`, [2]bool{true, false}},
		{`mask(src, "ffff::ffff") == "2001::1"`, [2]bool{false, true}},
		{`mask(src, "255.255.255.255") == src`, [2]bool{true, false}},
		{`src in cidr("192.0.2.0/255.255.255.0")`, [2]bool{true, false}},
		{`src in cidr("192.0.0.0/255.255.0.0")`, [2]bool{true, false}},
		{`src in cidr("2001:db8::/ffff:ffff::")`, [2]bool{false, true}},
	} {
		p := compileOne(t, "list where "+tt.cond, nil)
		for i, f := range []*engine.Flow{ssh(), dns()} {
			if got, err := p.Match(f); err != nil || got != tt.want[i] {
				t.Errorf("%s on flow %d: %v, %v; want %v", tt.cond, i, got, err, tt.want[i])
			}
		}
	}
	// A mask from a variable is parsed when the statement runs.
	p := compileOne(t, `list where mask(src, m) == "192.0.2.0"`, &Options{Vars: map[string]any{"m": "255.0.255.0"}})
	if ok, err := p.Match(ssh()); !ok || err != nil {
		t.Errorf("mask from a variable: %v, %v", ok, err)
	}
	for _, tt := range []struct{ src, want string }{
		{`list where mask(src, "255.0.x") == "192.0.2.0"`, `1:22: invalid mask "255.0.x"`},
		{`list where mask(src, "255.0.255.0") == "192.0.2"`, `1:40: invalid address "192.0.2"`},
		{`list where src in cidr("192.0.2.0/255.0.255.0")`, "1:24: 255.0.255.0 is not a contiguous mask: for any mask write mask(src, \"255.0.255.0\") == \"192.0.2.0\""},
		{`list where src in cidr("192.0.2.0/ffff::")`, `1:24: invalid CIDR "192.0.2.0/ffff::"`},
		{`list where mask(sport, "255.0.0.0") == "1.0.0.0"`, "1:17: cannot use int as argument (type netip.Addr) to call mask"},
		{`list where masc(src, "255.0.0.0") == "1.0.0.0"`, "1:12: unknown function `masc` (did you mean `mask`?)"},
	} {
		_, err := CompileScript(tt.src, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %s", tt.src, err, tt.want)
		}
	}
}
