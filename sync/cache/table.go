package cache

import "time"

// Meta is the bookkeeping every cache entry carries, flow or expectation.
type Meta struct {
	// State is NEW, ALIVE or DEAD.
	State State
	// Created is when the entry was added, Updated when it last changed.
	Created time.Time
	Updated time.Time
	// Seq counts the changes of the entry (1 when added); a mode can
	// compare it to the value it saw when it queued the entry.
	Seq uint64
	// inMap is false once the entry left the cache.
	inMap bool
}

// Dead reports whether the entry is DEAD: its flow or expectation was
// destroyed, and the cache keeps it until it is released.
func (m *Meta) Dead() bool {
	return m.State == StateDead
}

// InCache reports whether the entry is still held by its cache.
func (m *Meta) InCache() bool {
	return m.inMap
}

// commitTimeout is the timeout, in seconds, a commit gives an entry, as
// conntrackd computes it: commitTimeout when set (> 0); otherwise the
// received timeout (when has) less the whole seconds since the entry was
// last updated, or 60 when that is not positive or none was received.
func (m *Meta) commitTimeout(now time.Time, commitTimeout time.Duration, has bool, timeout int) int {
	if commitTimeout > 0 {
		return int(commitTimeout / time.Second)
	}
	if !has {
		return 60
	}
	left := timeout - int(now.Sub(m.Updated)/time.Second)
	if left <= 0 {
		return 60
	}
	return left
}

// item is what a table needs of its entry type E (through *E): the
// bookkeeping, and setting its key and value V.
type item[K comparable, V any, E any] interface {
	*E
	meta() *Meta
	key() K
	init(k K, v *V)
	set(v *V)
}

// table is the cache mechanism both Cache and ExpectCache are made of
// (conntrackd's expectation caches share its cache code): entries of
// type E holding values V, keyed by K, with conntrackd's states and
// counters. It is not safe for concurrent use.
type table[K comparable, V any, E any, P item[K, V, E]] struct {
	name  string
	limit int
	now   func() time.Time
	keyOf func(*V) K
	m     map[K]P
	stats Stats
}

// newTable returns an empty table; limit caps the number of entries held
// (0: no limit); now is the clock (nil: time.Now).
func newTable[K comparable, V any, E any, P item[K, V, E]](name string, limit int, now func() time.Time, keyOf func(*V) K) table[K, V, E, P] {
	if now == nil {
		now = time.Now
	}
	return table[K, V, E, P]{name: name, limit: limit, now: now, keyOf: keyOf, m: make(map[K]P)}
}

// Name is the cache's name ("internal", "external").
func (c *table[K, V, E, P]) Name() string {
	return c.name
}

// Len is the number of entries held, DEAD ones included.
func (c *table[K, V, E, P]) Len() int {
	return len(c.m)
}

// Stats returns the counters.
func (c *table[K, V, E, P]) Stats() Stats {
	return c.stats
}

// Get returns the entry of a key, DEAD or not.
func (c *table[K, V, E, P]) Get(k K) (P, bool) {
	e, ok := c.m[k]
	return e, ok
}

// Live lists the entries that are not DEAD, in no particular order. They
// are the cache's own: read them where the cache may be read.
func (c *table[K, V, E, P]) Live() []P {
	out := make([]P, 0, c.stats.Active)
	for _, e := range c.m {
		if e.meta().State != StateDead {
			out = append(out, e)
		}
	}
	return out
}

// Range calls fn for every entry, DEAD ones included, in no particular
// order, until fn returns false. fn must not add or remove entries.
func (c *table[K, V, E, P]) Range(fn func(e P) bool) {
	for _, e := range c.m {
		if !fn(e) {
			return
		}
	}
}

// add inserts a NEW entry for v, whose key k must not be in the map.
func (c *table[K, V, E, P]) add(k K, v *V) (P, error) {
	if c.limit > 0 && len(c.m) >= c.limit {
		c.stats.AddFail++
		c.stats.AddFailFull++
		return nil, ErrFull
	}
	now := c.now()
	e := P(new(E))
	e.init(k, v)
	*e.meta() = Meta{State: StateNew, Created: now, Updated: now, Seq: 1, inMap: true}
	c.m[k] = e
	c.stats.AddOK++
	c.stats.Active++
	c.stats.Objects++
	return e, nil
}

// drop takes an entry out of the map, counting a deletion unless it was
// already DEAD.
func (c *table[K, V, E, P]) drop(e P) {
	m := e.meta()
	if m.State != StateDead {
		c.stats.DelOK++
		c.stats.Active--
	}
	delete(c.m, e.key())
	m.inMap = false
	c.stats.Objects--
}

// Replace adds v as a NEW entry, first removing any entry with its key:
// what conntrackd does with a kernel NEW event (internal cache) and a
// received NEW message (external cache).
func (c *table[K, V, E, P]) Replace(v *V) (P, error) {
	k := c.keyOf(v)
	if e, ok := c.m[k]; ok {
		c.drop(e)
	}
	return c.add(k, v)
}

// Update stores v: an entry held and not DEAD becomes ALIVE with v's
// state; otherwise (absent, or DEAD) a NEW entry replaces it. This is
// conntrackd's cache_update_force, used for kernel UPDATE events, dumps
// and received UPD messages.
func (c *table[K, V, E, P]) Update(v *V) (P, error) {
	k := c.keyOf(v)
	if e, ok := c.m[k]; ok {
		if m := e.meta(); m.State != StateDead {
			e.set(v)
			m.State = StateAlive
			m.Updated = c.now()
			m.Seq++
			c.stats.UpdOK++
			return e, nil
		}
		c.drop(e)
	}
	return c.add(k, v)
}

// Kill marks the entry of v's key DEAD, storing v as its last state (a
// destroy event carries the final counters and state), and returns it; the
// entry stays held until Release. It returns nil when the key is absent or
// already DEAD (nothing to advertise): conntrackd's internal-cache destroy.
func (c *table[K, V, E, P]) Kill(v *V) P {
	e, ok := c.m[c.keyOf(v)]
	if !ok {
		c.stats.DelFail++
		c.stats.DelFailNoEntry++
		return nil
	}
	if e.meta().State == StateDead {
		return nil
	}
	e.set(v)
	c.kill(e)
	return e
}

// kill marks a held entry that is not DEAD as DEAD.
func (c *table[K, V, E, P]) kill(e P) {
	m := e.meta()
	m.State = StateDead
	m.Updated = c.now()
	m.Seq++
	c.stats.DelOK++
	c.stats.Active--
}

// Sweep ends a reading of the kernel table into the cache: every entry
// that is not DEAD and that seen does not report (the kernel no longer
// has it) is marked DEAD and returned, to be advertised as conntrackd's
// resync does; with remove such entries leave the cache silently instead
// and nothing is returned.
func (c *table[K, V, E, P]) Sweep(seen func(P) bool, remove bool) []P {
	var gone []P
	for _, e := range c.m {
		if e.meta().State != StateDead && !seen(e) {
			gone = append(gone, e)
		}
	}
	for _, e := range gone {
		if remove {
			c.drop(e)
		} else {
			c.kill(e)
		}
	}
	if remove {
		return nil
	}
	return gone
}

// Release removes a DEAD entry once its destroy has been sent (and, in
// FTFW, acknowledged). It does nothing for an entry that is not DEAD or no
// longer held.
func (c *table[K, V, E, P]) Release(e P) {
	if m := e.meta(); m.State != StateDead || !m.inMap || c.m[e.key()] != e {
		return
	}
	c.drop(e)
}

// Delete removes the entry of v's key at once, as a received DEL message
// does to the external cache. It reports whether there was one.
func (c *table[K, V, E, P]) Delete(v *V) bool {
	e, ok := c.m[c.keyOf(v)]
	if !ok {
		c.stats.DelFail++
		c.stats.DelFailNoEntry++
		return false
	}
	c.drop(e)
	return true
}

// Flush removes every entry.
func (c *table[K, V, E, P]) Flush() {
	for _, e := range c.m {
		c.drop(e)
	}
}
