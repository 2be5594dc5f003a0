package cache

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"ctq/engine"
)

// ftpExp is an ftp expectation for data port dport.
func ftpExp(dport int) engine.Expect {
	a := netip.MustParseAddr("192.0.2.1")
	b := netip.MustParseAddr("192.0.2.2")
	m := netip.MustParseAddr("255.255.255.255")
	e := engine.Expect{
		Family: "ipv4", ProtoNum: engine.ProtoTCP, Src: a, Dst: b, Dport: dport,
		MaskSrc: m, MaskDst: m, MaskDport: 0xffff,
		MasterProtoNum: engine.ProtoTCP, MasterSrc: a, MasterDst: b, MasterSport: 40000, MasterDport: 21,
		Timeout: 300, Helper: "ftp", Has: engine.HasExpTimeout | engine.HasExpHelper,
	}
	return e
}

func TestExpectKeyOf(t *testing.T) {
	a := ftpExp(50000)
	b := a
	b.Timeout, b.ID, b.Helper, b.Class = 5, 99, "other", 1 // not part of the key
	if ExpectKeyOf(&a) != ExpectKeyOf(&b) {
		t.Error("key depends on non-key fields")
	}
	diff := []func(e *engine.Expect){
		func(e *engine.Expect) { e.Dport++ },
		func(e *engine.Expect) { e.Sport = 1 },
		func(e *engine.Expect) { e.MasterSport++ },
		func(e *engine.Expect) { e.MasterDport++ },
		func(e *engine.Expect) { e.MasterSrc = netip.MustParseAddr("192.0.2.9") },
		func(e *engine.Expect) { e.Dst = netip.MustParseAddr("2001:db8::1") },
		func(e *engine.Expect) { e.MaskDport = 0 },
		func(e *engine.Expect) { e.Zone = 4 },
		func(e *engine.Expect) { e.ProtoNum = engine.ProtoUDP },
		func(e *engine.Expect) { e.MasterProtoNum = engine.ProtoUDP },
	}
	for i, d := range diff {
		c := a
		d(&c)
		if ExpectKeyOf(&a) == ExpectKeyOf(&c) {
			t.Errorf("change %d: same key", i)
		}
	}
	m := a
	m.Src = netip.AddrFrom16(a.Src.As16())
	if ExpectKeyOf(&m) != ExpectKeyOf(&a) {
		t.Error("mapped address gives another key")
	}
	want := "proto=6 src=192.0.2.1 dst=192.0.2.2 sport=0 dport=50000 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master proto=6 src=192.0.2.1 dst=192.0.2.2 sport=40000 dport=21"
	if got := ExpectKeyOf(&a).String(); got != want {
		t.Errorf("String %q", got)
	}
}

func TestExpectCacheLifecycle(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	c := NewExpect("internal", 0, clk.now)
	x := ftpExp(50000)
	e, err := c.Update(&x)
	if err != nil || e.State != StateNew || e.Seq != 1 || !e.InCache() {
		t.Fatalf("update of absent: %+v %v", e, err)
	}
	clk.t = clk.t.Add(time.Second)
	x.Timeout = 250
	if e2, _ := c.Update(&x); e2 != e || e.State != StateAlive || e.Expect.Timeout != 250 || e.Seq != 2 || !e.Updated.Equal(clk.t) {
		t.Fatalf("update: %+v", e)
	}
	if d := c.Kill(&x); d != e || e.State != StateDead || c.Len() != 1 {
		t.Fatalf("kill: %+v", d)
	}
	if c.Kill(&x) != nil {
		t.Error("second kill returned the entry")
	}
	if got, ok := c.Get(ExpectKeyOf(&x)); !ok || got != e {
		t.Error("DEAD entry not found")
	}
	e3, _ := c.Update(&x)
	if e3 == e || e3.State != StateNew || e.InCache() {
		t.Fatalf("update of dead: %+v", e3)
	}
	c.Release(e)
	c.Release(e3)
	if c.Len() != 1 {
		t.Fatal("release of a stale or live entry removed one")
	}
	c.Kill(&x)
	c.Release(e3)
	if c.Len() != 0 || e3.InCache() {
		t.Fatal("release of a dead entry kept it")
	}
	want := Stats{AddOK: 2, UpdOK: 1, DelOK: 2}
	if got := c.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	if c.Name() != "internal" {
		t.Error("name")
	}
}

func TestExpectCacheReplaceDeleteLimit(t *testing.T) {
	c := NewExpect("external", 2, nil)
	x := ftpExp(50000)
	e, _ := c.Replace(&x)
	x.Timeout = 7
	e2, _ := c.Replace(&x)
	if e2 == e || e2.State != StateNew || e2.Expect.Timeout != 7 || c.Len() != 1 || e.InCache() {
		t.Fatalf("replace: %+v", e2)
	}
	y := ftpExp(50001)
	if _, err := c.Replace(&y); err != nil {
		t.Fatal(err)
	}
	z := ftpExp(50002)
	if _, err := c.Replace(&z); !errors.Is(err, ErrFull) {
		t.Errorf("add beyond the limit: %v", err)
	}
	n := 0
	c.Range(func(*ExpectEntry) bool { n++; return false })
	if n != 1 {
		t.Errorf("range did not stop: %d", n)
	}
	if !c.Delete(&x) || c.Delete(&x) || c.Kill(&z) != nil {
		t.Fatal("delete")
	}
	c.Flush()
	st := c.Stats()
	want := Stats{AddOK: 3, AddFail: 1, AddFailFull: 1, DelOK: 3, DelFail: 2, DelFailNoEntry: 2}
	if c.Len() != 0 || st != want {
		t.Errorf("len %d stats %+v, want %+v", c.Len(), st, want)
	}
}

func TestExpectCommitTimeout(t *testing.T) {
	base := time.Unix(1000, 0)
	e := &ExpectEntry{Expect: ftpExp(1), Meta: Meta{Updated: base}}
	none := &ExpectEntry{Meta: Meta{Updated: base}}
	tests := []struct {
		e      *ExpectEntry
		after  time.Duration
		commit time.Duration
		want   int
	}{
		{e, 6 * time.Second, 0, 294},
		{e, 6 * time.Second, 30 * time.Second, 30},
		{e, 300 * time.Second, 0, 60},
		{none, 0, 0, 60},
	}
	for i, tt := range tests {
		if got := tt.e.CommitTimeout(base.Add(tt.after), tt.commit); got != tt.want {
			t.Errorf("%d: %d, want %d", i, got, tt.want)
		}
	}
}
