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
	Meta
}

func (e *Entry) meta() *Meta                { return &e.Meta }
func (e *Entry) key() Key                   { return e.Key }
func (e *Entry) init(k Key, f *engine.Flow) { e.Key, e.Flow = k, *f }
func (e *Entry) set(f *engine.Flow)         { e.Flow = *f }

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

// Cache is a set of flows keyed by Key (see table for its operations).
type Cache struct {
	table[Key, engine.Flow, Entry, *Entry]
}

// New returns an empty cache named name ("internal", "external"); limit
// caps the number of entries held (0: no limit); now is the clock (nil:
// time.Now).
func New(name string, limit int, now func() time.Time) *Cache {
	return &Cache{newTable[Key, engine.Flow, Entry](name, limit, now, KeyOf)}
}

// CommitTimeout is the timeout, in seconds, a commit gives the entry's flow
// in the kernel, as conntrackd computes it: commitTimeout when set (> 0);
// otherwise the received timeout less the whole seconds since the entry
// was last updated, or 60 when that is not positive or none was received.
func (e *Entry) CommitTimeout(now time.Time, commitTimeout time.Duration) int {
	return e.commitTimeout(now, commitTimeout, e.Flow.Has&engine.HasTimeout != 0, e.Flow.Timeout)
}
