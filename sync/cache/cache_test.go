package cache

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"ctq/engine"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func tcpFlow(sport, mark int) engine.Flow {
	var f engine.Flow
	f.Family = "ipv4"
	f.SetProto(engine.ProtoTCP)
	f.Src, f.Dst = netip.MustParseAddr("198.51.100.10"), netip.MustParseAddr("198.51.100.20")
	f.Sport, f.Dport = sport, 22
	f.Mark = mark
	f.Timeout = 600
	f.Has |= engine.HasTimeout | engine.HasMark
	return f
}

func TestKeyOf(t *testing.T) {
	a := tcpFlow(40000, 0)
	b := a
	b.Mark, b.ID, b.ReplySport = 9, 77, 1 // not part of the key
	if KeyOf(&a) != KeyOf(&b) {
		t.Error("key depends on non-tuple fields")
	}
	diff := []func(f *engine.Flow){
		func(f *engine.Flow) { f.Sport++ },
		func(f *engine.Flow) { f.Dport++ },
		func(f *engine.Flow) { f.Zone = 5 },
		func(f *engine.Flow) { f.SetProto(engine.ProtoUDP) },
		func(f *engine.Flow) { f.Src = netip.MustParseAddr("198.51.100.11") },
		func(f *engine.Flow) { f.Dst = netip.MustParseAddr("2001:db8::1") },
	}
	for i, d := range diff {
		c := a
		d(&c)
		if KeyOf(&a) == KeyOf(&c) {
			t.Errorf("change %d: same key", i)
		}
	}
	var icmp engine.Flow
	icmp.SetProto(engine.ProtoICMP)
	icmp.Src, icmp.Dst = a.Src, a.Dst
	icmp.ICMPType, icmp.ICMPID = 8, 0x1234
	icmp2 := icmp
	icmp2.ICMPID = 0x1235
	if KeyOf(&icmp) == KeyOf(&icmp2) {
		t.Error("ICMP id not in key")
	}
	// IPv4-mapped IPv6 addresses are the same flow as plain IPv4.
	m := a
	m.Src = netip.AddrFrom16(a.Src.As16())
	if KeyOf(&m) != KeyOf(&a) {
		t.Error("mapped address gives another key")
	}
	if got := KeyOf(&a).String(); got != "proto=6 src=198.51.100.10 dst=198.51.100.20 sport=40000 dport=22" {
		t.Errorf("String %q", got)
	}
}

func TestCacheLifecycle(t *testing.T) {
	clk := &clock{t: time.Unix(1000, 0)}
	c := New("internal", 0, clk.now)
	f := tcpFlow(40000, 1)

	e, err := c.Update(&f) // absent: added as NEW
	if err != nil || e.State != StateNew || e.Seq != 1 || !e.InCache() {
		t.Fatalf("update of absent: %+v %v", e, err)
	}
	clk.t = clk.t.Add(2 * time.Second)
	f.Mark = 2
	e2, _ := c.Update(&f)
	if e2 != e || e.State != StateAlive || e.Flow.Mark != 2 || e.Seq != 2 || !e.Updated.Equal(clk.t) || e.Created.Equal(clk.t) {
		t.Fatalf("update: %+v", e)
	}
	d := c.Kill(&f)
	if d != e || e.State != StateDead || c.Len() != 1 {
		t.Fatalf("kill: %+v len %d", d, c.Len())
	}
	if c.Kill(&f) != nil {
		t.Error("second kill returned the entry")
	}
	if got, ok := c.Get(KeyOf(&f)); !ok || got != e {
		t.Error("DEAD entry not found by key")
	}
	// An update of a DEAD entry replaces it with a NEW one.
	e3, _ := c.Update(&f)
	if e3 == e || e3.State != StateNew || e.InCache() {
		t.Fatalf("update of dead: %+v old in cache %v", e3, e.InCache())
	}
	c.Release(e) // stale: no effect on the new entry
	if c.Len() != 1 {
		t.Fatal("release of a replaced entry removed the new one")
	}
	c.Release(e3) // not DEAD: no effect
	if c.Len() != 1 {
		t.Fatal("release of a live entry removed it")
	}
	c.Kill(&f)
	c.Release(e3)
	if c.Len() != 0 || e3.InCache() {
		t.Fatal("release of a dead entry kept it")
	}
	want := Stats{AddOK: 2, UpdOK: 1, DelOK: 2, DelFail: 0}
	if got := c.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestCacheReplaceDelete(t *testing.T) {
	c := New("external", 0, nil)
	f := tcpFlow(40000, 1)
	e, _ := c.Replace(&f)
	c.Update(&f)
	f.Mark = 5
	e2, _ := c.Replace(&f)
	if e2 == e || e2.State != StateNew || e2.Flow.Mark != 5 || c.Len() != 1 {
		t.Fatalf("replace: %+v", e2)
	}
	if !c.Delete(&f) || c.Len() != 0 {
		t.Fatal("delete")
	}
	if c.Delete(&f) {
		t.Fatal("delete of absent")
	}
	g := tcpFlow(1, 0)
	if c.Kill(&g) != nil {
		t.Fatal("kill of absent")
	}
	want := Stats{AddOK: 2, UpdOK: 1, DelOK: 2, DelFail: 2, DelFailNoEntry: 2}
	if got := c.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

func TestCacheLimitAndFlush(t *testing.T) {
	c := New("external", 2, nil)
	for i := range 3 {
		f := tcpFlow(1000+i, 0)
		_, err := c.Replace(&f)
		if (i < 2) != (err == nil) || (err != nil && !errors.Is(err, ErrFull)) {
			t.Errorf("add %d: %v", i, err)
		}
	}
	f := tcpFlow(1000, 0)
	c.Kill(&f)
	n := 0
	c.Range(func(e *Entry) bool { n++; return true })
	stopped := 0
	c.Range(func(e *Entry) bool { stopped++; return false })
	if n != 2 || stopped != 1 {
		t.Errorf("range visited %d, stopped after %d", n, stopped)
	}
	c.Flush()
	st := c.Stats()
	if c.Len() != 0 || st.Active != 0 || st.Objects != 0 || st.DelOK != 2 || st.AddFail != 1 || st.AddFailFull != 1 {
		t.Errorf("after flush len %d stats %+v", c.Len(), st)
	}
	if c.Name() != "external" {
		t.Error("name")
	}
}

func TestCommitTimeout(t *testing.T) {
	base := time.Unix(1000, 0)
	f := tcpFlow(1, 0)
	e := &Entry{Flow: f, Meta: Meta{Updated: base}}
	noTimeout := &Entry{Flow: engine.Flow{}, Meta: Meta{Updated: base}}
	tests := []struct {
		e      *Entry
		after  time.Duration
		commit time.Duration
		want   int
	}{
		{e, 6 * time.Second, 0, 594}, // reference: 600 → 594 after 6 s
		{e, 6 * time.Second, 1800 * time.Second, 1800},
		{e, 700 * time.Second, 0, 60},
		{e, 600 * time.Second, 0, 60},
		{noTimeout, 0, 0, 60},
	}
	for i, tt := range tests {
		if got := tt.e.CommitTimeout(base.Add(tt.after), tt.commit); got != tt.want {
			t.Errorf("%d: %d, want %d", i, got, tt.want)
		}
	}
}
