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
	Meta
}

func (e *ExpectEntry) meta() *Meta                        { return &e.Meta }
func (e *ExpectEntry) key() ExpectKey                     { return e.Key }
func (e *ExpectEntry) init(k ExpectKey, x *engine.Expect) { e.Key, e.Expect = k, *x }
func (e *ExpectEntry) set(x *engine.Expect)               { e.Expect = *x }

// CommitTimeout is the timeout, in seconds, a commit gives the
// expectation, as conntrackd's cache-exp commit computes it (see
// Entry.CommitTimeout).
func (e *ExpectEntry) CommitTimeout(now time.Time, commitTimeout time.Duration) int {
	return e.commitTimeout(now, commitTimeout, e.Expect.Has&engine.HasExpTimeout != 0, e.Expect.Timeout)
}

// ExpectCache is a set of expectations keyed by ExpectKey, with the same
// states, operations and counters as Cache (conntrackd's expectation
// caches share its cache code).
type ExpectCache struct {
	table[ExpectKey, engine.Expect, ExpectEntry, *ExpectEntry]
}

// NewExpect returns an empty expectation cache; name, limit and now are
// as for New.
func NewExpect(name string, limit int, now func() time.Time) *ExpectCache {
	return &ExpectCache{newTable[ExpectKey, engine.Expect, ExpectEntry](name, limit, now, ExpectKeyOf)}
}
