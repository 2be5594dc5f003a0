package lang

import (
	"errors"
	"testing"
	"time"

	"ctq/engine"
)

func TestWatchCount(t *testing.T) {
	p := compileOne(t, "watch new count by dport every 1s", nil)
	if p.Action != engine.ActWatch || p.Events != engine.EventNew || p.Every != time.Second || p.Group == nil ||
		p.Group.Agg != engine.AggCount || len(p.Group.By) != 1 || p.Limit != -1 {
		t.Fatalf("plan %+v", *p)
	}
	if k, err := p.Group.By[0](ssh()); err != nil || k != 22 {
		t.Errorf("key of ssh = %v, %v; want 22", k, err)
	}

	// The where clause ends at count; count( is still expr's function.
	p = compileOne(t, `watch where proto == tcp count by src, dport every 2s for 1m limit 3`, nil)
	if p.Every != 2*time.Second || p.For != time.Minute || p.Limit != 3 || len(p.Group.By) != 2 {
		t.Fatalf("plan %+v", *p)
	}
	if ok, err := p.Match(ssh()); !ok || err != nil {
		t.Errorf("Match(ssh) = %v, %v", ok, err)
	}
	p = compileOne(t, `watch where count(["a"], # == "a") == 1 every 1s`, nil)
	if p.Group == nil || len(p.Group.By) != 0 {
		t.Fatalf("plan %+v", *p)
	}

	// A plain watch has no grouping.
	if p = compileOne(t, "watch new", nil); p.Group != nil || p.Every != 0 {
		t.Errorf("plain watch plan %+v", *p)
	}

	for _, tc := range []struct{ src, want string }{
		{"watch new count by dport", "1:11: `count` in a watch needs `every DURATION` (e.g. `watch new count by dport every 1s`)"},
		{"watch new every 0s", "1:17: the duration of `every` must be positive"},
		{"watch expect count every 1s", "1:1: expectation events cannot be counted by group: count conntrack events"},
		{"watch count by dprt every 1s", "1:16: unknown field `dprt` (did you mean `dport`?)"},
	} {
		_, err := CompileScript(tc.src, nil)
		var le *Error
		if !errors.As(err, &le) || le.Error()[:len(tc.want)] != tc.want {
			t.Errorf("%q: error %v, want %q", tc.src, err, tc.want)
		}
	}
}
