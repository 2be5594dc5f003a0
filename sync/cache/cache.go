package cache

import (
	"errors"
	"time"

	"ctq/engine"
)

// ErrFull is returned when an add would exceed the cache's limit
// (HashLimit), conntrackd's "no space left in cache".
var ErrFull = errors.New("cache full")

// State is the state of a cache entry (conntrackd's C_OBJ_*).
type State uint8

// Entry states.
const (
	StateNew   State = iota // C_OBJ_NEW: added, not updated since
	StateAlive              // C_OBJ_ALIVE: updated at least once
	StateDead               // C_OBJ_DEAD: destroyed, kept until released
)

// String names the state as conntrackd's sources do.
func (s State) String() string {
	switch s {
	case StateNew:
		return "NEW"
	case StateAlive:
		return "ALIVE"
	case StateDead:
		return "DEAD"
	}
	return "unknown"
}

// Entry is one flow in a cache. Its fields may be read by the cache's
// owner; they change only through the Cache methods.
type Entry struct {
	Key Key
	// Flow is the last state received, a copy owned by the cache.
	Flow engine.Flow
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

// InCache reports whether the entry is still held by its cache.
func (e *Entry) InCache() bool {
	return e.inMap
}

// Stats are the counters conntrackd shows in `conntrackd -s` and
// `-s cache`.
type Stats struct {
	// Active counts entries not DEAD; Objects counts all entries held,
	// DEAD ones included.
	Active, Objects int
	// Adds, updates and deletions that succeeded or failed; AddFailFull
	// counts adds refused for the limit, UpdFailNoEntry and
	// DelFailNoEntry operations on keys not in the cache.
	AddOK, AddFail, AddFailFull    uint64
	UpdOK, UpdFail, UpdFailNoEntry uint64
	DelOK, DelFail, DelFailNoEntry uint64
}

// Cache is a set of flows keyed by Key.
type Cache struct {
	name  string
	limit int
	now   func() time.Time
	m     map[Key]*Entry
	stats Stats
}

// New returns an empty cache named name ("internal", "external"); limit
// caps the number of entries held (0: no limit); now is the clock (nil:
// time.Now).
func New(name string, limit int, now func() time.Time) *Cache {
	if now == nil {
		now = time.Now
	}
	return &Cache{name: name, limit: limit, now: now, m: make(map[Key]*Entry)}
}

// Name is the cache's name.
func (c *Cache) Name() string {
	return c.name
}

// Len is the number of entries held, DEAD ones included.
func (c *Cache) Len() int {
	return len(c.m)
}

// Stats returns the counters.
func (c *Cache) Stats() Stats {
	return c.stats
}

// Get returns the entry of a key, DEAD or not.
func (c *Cache) Get(k Key) (*Entry, bool) {
	e, ok := c.m[k]
	return e, ok
}

// Range calls fn for every entry, DEAD ones included, in no particular
// order, until fn returns false. fn must not add or remove entries.
func (c *Cache) Range(fn func(e *Entry) bool) {
	for _, e := range c.m {
		if !fn(e) {
			return
		}
	}
}

// add inserts a NEW entry for f, which must not be in the map.
func (c *Cache) add(k Key, f *engine.Flow) (*Entry, error) {
	if c.limit > 0 && len(c.m) >= c.limit {
		c.stats.AddFail++
		c.stats.AddFailFull++
		return nil, ErrFull
	}
	now := c.now()
	e := &Entry{Key: k, Flow: *f, State: StateNew, Created: now, Updated: now, Seq: 1, inMap: true}
	c.m[k] = e
	c.stats.AddOK++
	c.stats.Active++
	c.stats.Objects++
	return e, nil
}

// drop takes an entry out of the map, counting a deletion unless it was
// already DEAD.
func (c *Cache) drop(e *Entry) {
	if e.State != StateDead {
		c.stats.DelOK++
		c.stats.Active--
	}
	delete(c.m, e.Key)
	e.inMap = false
	c.stats.Objects--
}

// Replace adds f as a NEW entry, first removing any entry with its key:
// what conntrackd does with a kernel NEW event (internal cache) and a
// received CT NEW (external cache).
func (c *Cache) Replace(f *engine.Flow) (*Entry, error) {
	k := KeyOf(f)
	if e, ok := c.m[k]; ok {
		c.drop(e)
	}
	return c.add(k, f)
}

// Update stores f: an entry held and not DEAD becomes ALIVE with f's
// state; otherwise (absent, or DEAD) a NEW entry replaces it. This is
// conntrackd's cache_update_force, used for kernel UPDATE events, dumps
// and received CT UPD.
func (c *Cache) Update(f *engine.Flow) (*Entry, error) {
	k := KeyOf(f)
	if e, ok := c.m[k]; ok {
		if e.State != StateDead {
			e.Flow = *f
			e.State = StateAlive
			e.Updated = c.now()
			e.Seq++
			c.stats.UpdOK++
			return e, nil
		}
		c.drop(e)
	}
	return c.add(k, f)
}

// Kill marks the entry of f's key DEAD, storing f as its last state (a
// destroy event carries the final counters and state), and returns it; the
// entry stays held until Release. It returns nil when the key is absent or
// already DEAD (nothing to advertise): conntrackd's internal-cache destroy.
func (c *Cache) Kill(f *engine.Flow) *Entry {
	e, ok := c.m[KeyOf(f)]
	if !ok {
		c.stats.DelFail++
		c.stats.DelFailNoEntry++
		return nil
	}
	if e.State == StateDead {
		return nil
	}
	e.Flow = *f
	e.State = StateDead
	e.Updated = c.now()
	e.Seq++
	c.stats.DelOK++
	c.stats.Active--
	return e
}

// Release removes a DEAD entry once its destroy has been sent (and, in
// FTFW, acknowledged). It does nothing for an entry that is not DEAD or no
// longer held.
func (c *Cache) Release(e *Entry) {
	if e.State != StateDead || !e.inMap || c.m[e.Key] != e {
		return
	}
	c.drop(e)
}

// Delete removes the entry of f's key at once, as a received CT DEL does
// to the external cache. It reports whether there was one.
func (c *Cache) Delete(f *engine.Flow) bool {
	e, ok := c.m[KeyOf(f)]
	if !ok {
		c.stats.DelFail++
		c.stats.DelFailNoEntry++
		return false
	}
	c.drop(e)
	return true
}

// Flush removes every entry.
func (c *Cache) Flush() {
	for _, e := range c.m {
		c.drop(e)
	}
}

// CommitTimeout is the timeout, in seconds, a commit gives the entry's flow
// in the kernel, as conntrackd computes it: commitTimeout when set (> 0);
// otherwise the received timeout less the whole seconds since the entry
// was last updated, or 60 when that is not positive or none was received.
func (e *Entry) CommitTimeout(now time.Time, commitTimeout time.Duration) int {
	if commitTimeout > 0 {
		return int(commitTimeout / time.Second)
	}
	if e.Flow.Has&engine.HasTimeout == 0 {
		return 60
	}
	left := e.Flow.Timeout - int(now.Sub(e.Updated)/time.Second)
	if left <= 0 {
		return 60
	}
	return left
}
