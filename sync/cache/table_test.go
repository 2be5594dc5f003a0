package cache

import "testing"

// TestSweep: after a kernel reading, the live entries it did not see are
// killed and returned (advertised), or with remove dropped silently; DEAD
// entries and seen entries are left alone.
func TestSweep(t *testing.T) {
	for _, remove := range []bool{false, true} {
		c := New("internal", 0, nil)
		seen, gone, dead := tcpFlow(1, 0), tcpFlow(2, 0), tcpFlow(3, 0)
		es, _ := c.Replace(&seen)
		eg, _ := c.Replace(&gone)
		c.Replace(&dead)
		ed := c.Kill(&dead)
		out := c.Sweep(func(e *Entry) bool { return e == es }, remove)
		switch {
		case remove && (len(out) != 0 || eg.InCache() || c.Len() != 2):
			t.Errorf("remove: returned %d, gone entry held %v, %d entries left", len(out), eg.InCache(), c.Len())
		case !remove && (len(out) != 1 || out[0] != eg || !eg.Dead() || c.Len() != 3):
			t.Errorf("kill: returned %v, gone entry %v, %d entries", out, eg.State, c.Len())
		}
		if es.Dead() || !es.InCache() || !ed.Dead() || !ed.InCache() {
			t.Errorf("remove %v: seen %v (held %v), dead %v (held %v)", remove, es.State, es.InCache(), ed.State, ed.InCache())
		}
		if st := c.Stats(); st.Active != 1 || st.DelOK != 2 {
			t.Errorf("remove %v: stats %+v, want 1 active, 2 deletions", remove, st)
		}
	}
}

// TestLive: Live lists the cache's own entries that are not DEAD.
func TestLive(t *testing.T) {
	c := New("external", 0, nil)
	a, b := tcpFlow(1, 7), tcpFlow(2, 0)
	c.Replace(&a)
	c.Replace(&b)
	c.Kill(&b)
	live := c.Live()
	if len(live) != 1 || live[0].Flow.Mark != 7 || live[0].Dead() {
		t.Fatalf("live %+v", live)
	}
	if e, _ := c.Get(live[0].Key); e != live[0] {
		t.Error("Live returned a copy, not the cache's entry")
	}
}
