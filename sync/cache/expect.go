package cache

import (
	"fmt"
	"net/netip"
	"time"

	"ctq/engine"
)

// ExpectKey identifies an expectation in an expectation cache: the
// master's original tuple, the expected tuple, its mask and the zone.
// conntrackd 1.4.7 hashes the master tuple and compares with nfexp_cmp,
// which also compares flags, helper, class, NAT tuple and function name
// (an attribute set on one side only matches anything); those do not
// change during an expectation's life, so they are left out of the key.
type ExpectKey struct {
	MasterSrc, MasterDst     netip.Addr
	MasterProto              uint8
	MasterSport, MasterDport uint16
	Src, Dst                 netip.Addr
	Proto                    uint8
	Sport, Dport             uint16
	MaskSrc, MaskDst         netip.Addr
	MaskSport, MaskDport     uint16
	Zone                     uint16
}

// ExpectKeyOf is the cache key of an expectation.
func ExpectKeyOf(e *engine.Expect) ExpectKey {
	return ExpectKey{
		MasterSrc: e.MasterSrc.Unmap(), MasterDst: e.MasterDst.Unmap(),
		MasterProto: uint8(e.MasterProtoNum),
		MasterSport: uint16(e.MasterSport), MasterDport: uint16(e.MasterDport),
		Src: e.Src.Unmap(), Dst: e.Dst.Unmap(), Proto: uint8(e.ProtoNum),
		Sport: uint16(e.Sport), Dport: uint16(e.Dport),
		MaskSrc: e.MaskSrc.Unmap(), MaskDst: e.MaskDst.Unmap(),
		MaskSport: uint16(e.MaskSport), MaskDport: uint16(e.MaskDport),
		Zone: uint16(e.Zone),
	}
}

// String formats the key for messages.
func (k ExpectKey) String() string {
	s := fmt.Sprintf("proto=%d src=%s dst=%s sport=%d dport=%d mask-src=%s mask-dst=%s sport=%d dport=%d master proto=%d src=%s dst=%s sport=%d dport=%d",
		k.Proto, k.Src, k.Dst, k.Sport, k.Dport, k.MaskSrc, k.MaskDst, k.MaskSport, k.MaskDport,
		k.MasterProto, k.MasterSrc, k.MasterDst, k.MasterSport, k.MasterDport)
	if k.Zone != 0 {
		s += fmt.Sprintf(" zone=%d", k.Zone)
	}
	return s
}

// ExpectEntry is one expectation in an ExpectCache; its fields change
// only through the ExpectCache methods.
type ExpectEntry struct {
	Key ExpectKey
	// Expect is the last state received, a copy owned by the cache.
	Expect engine.Expect
	// State, Created, Updated and Seq are as in Entry.
	State            State
	Created, Updated time.Time
	Seq              uint64
	inMap            bool
}

// InCache reports whether the entry is still held by its cache.
func (e *ExpectEntry) InCache() bool {
	return e.inMap
}

// CommitTimeout is the timeout, in seconds, a commit gives the
// expectation, as conntrackd's cache-exp commit computes it: commitTimeout
// when set (> 0); otherwise the received timeout less the whole seconds
// since the entry was last updated, or 60 when that is not positive or
// none was received.
func (e *ExpectEntry) CommitTimeout(now time.Time, commitTimeout time.Duration) int {
	if commitTimeout > 0 {
		return int(commitTimeout / time.Second)
	}
	if e.Expect.Has&engine.HasExpTimeout == 0 {
		return 60
	}
	left := e.Expect.Timeout - int(now.Sub(e.Updated)/time.Second)
	if left <= 0 {
		return 60
	}
	return left
}

// ExpectCache is a set of expectations keyed by ExpectKey, with the same
// states, operations and counters as Cache (conntrackd's expectation
// caches share its cache code). Like Cache it is not safe for concurrent
// use.
type ExpectCache struct {
	name  string
	limit int
	now   func() time.Time
	m     map[ExpectKey]*ExpectEntry
	stats Stats
}

// NewExpect returns an empty expectation cache; name, limit and now are
// as for New.
func NewExpect(name string, limit int, now func() time.Time) *ExpectCache {
	if now == nil {
		now = time.Now
	}
	return &ExpectCache{name: name, limit: limit, now: now, m: make(map[ExpectKey]*ExpectEntry)}
}

// Name is the cache's name.
func (c *ExpectCache) Name() string {
	return c.name
}

// Len is the number of entries held, DEAD ones included.
func (c *ExpectCache) Len() int {
	return len(c.m)
}

// Stats returns the counters.
func (c *ExpectCache) Stats() Stats {
	return c.stats
}

// Get returns the entry of a key, DEAD or not.
func (c *ExpectCache) Get(k ExpectKey) (*ExpectEntry, bool) {
	e, ok := c.m[k]
	return e, ok
}

// Range calls fn for every entry, DEAD ones included, in no particular
// order, until fn returns false. fn must not add or remove entries.
func (c *ExpectCache) Range(fn func(e *ExpectEntry) bool) {
	for _, e := range c.m {
		if !fn(e) {
			return
		}
	}
}

// add inserts a NEW entry for x, which must not be in the map.
func (c *ExpectCache) add(k ExpectKey, x *engine.Expect) (*ExpectEntry, error) {
	if c.limit > 0 && len(c.m) >= c.limit {
		c.stats.AddFail++
		c.stats.AddFailFull++
		return nil, ErrFull
	}
	now := c.now()
	e := &ExpectEntry{Key: k, Expect: *x, State: StateNew, Created: now, Updated: now, Seq: 1, inMap: true}
	c.m[k] = e
	c.stats.AddOK++
	c.stats.Active++
	c.stats.Objects++
	return e, nil
}

// drop takes an entry out of the map, counting a deletion unless it was
// already DEAD.
func (c *ExpectCache) drop(e *ExpectEntry) {
	if e.State != StateDead {
		c.stats.DelOK++
		c.stats.Active--
	}
	delete(c.m, e.Key)
	e.inMap = false
	c.stats.Objects--
}

// Replace adds x as a NEW entry, first removing any entry with its key
// (kernel NEW event, received EXP NEW).
func (c *ExpectCache) Replace(x *engine.Expect) (*ExpectEntry, error) {
	k := ExpectKeyOf(x)
	if e, ok := c.m[k]; ok {
		c.drop(e)
	}
	return c.add(k, x)
}

// Update stores x: an entry held and not DEAD becomes ALIVE with x's
// state; otherwise a NEW entry replaces it (kernel dump, received EXP
// UPD).
func (c *ExpectCache) Update(x *engine.Expect) (*ExpectEntry, error) {
	k := ExpectKeyOf(x)
	if e, ok := c.m[k]; ok {
		if e.State != StateDead {
			e.Expect = *x
			e.State = StateAlive
			e.Updated = c.now()
			e.Seq++
			c.stats.UpdOK++
			return e, nil
		}
		c.drop(e)
	}
	return c.add(k, x)
}

// Kill marks the entry of x's key DEAD, storing x as its last state, and
// returns it; nil when the key is absent or already DEAD (kernel DESTROY
// event). The entry stays held until Release.
func (c *ExpectCache) Kill(x *engine.Expect) *ExpectEntry {
	e, ok := c.m[ExpectKeyOf(x)]
	if !ok {
		c.stats.DelFail++
		c.stats.DelFailNoEntry++
		return nil
	}
	if e.State == StateDead {
		return nil
	}
	e.Expect = *x
	e.State = StateDead
	e.Updated = c.now()
	e.Seq++
	c.stats.DelOK++
	c.stats.Active--
	return e
}

// Release removes a DEAD entry once its destroy has been sent (and, in
// FTFW, acknowledged); it does nothing for an entry that is not DEAD or no
// longer held.
func (c *ExpectCache) Release(e *ExpectEntry) {
	if e.State != StateDead || !e.inMap || c.m[e.Key] != e {
		return
	}
	c.drop(e)
}

// Delete removes the entry of x's key at once (received EXP DEL) and
// reports whether there was one.
func (c *ExpectCache) Delete(x *engine.Expect) bool {
	e, ok := c.m[ExpectKeyOf(x)]
	if !ok {
		c.stats.DelFail++
		c.stats.DelFailNoEntry++
		return false
	}
	c.drop(e)
	return true
}

// Flush removes every entry.
func (c *ExpectCache) Flush() {
	for _, e := range c.m {
		c.drop(e)
	}
}
