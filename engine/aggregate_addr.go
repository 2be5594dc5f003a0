package engine

import (
	"encoding/binary"
	"net/netip"
	"slices"
	"sync"
)

// A grouping by one address (count by src) is the one a big table makes
// most groups of, one a client. Its accumulators live in the maps
// themselves, keyed by the address's bytes: an IPv4 address as a uint32,
// an IPv6 one as 16 bytes (keys the runtime hashes fastest, and nothing
// for the garbage collector to follow). An entry costs one map lookup
// and one store to the same slot, and no other memory; the groups are
// ordered as plain numbers, and only those listed are made Groups.

// addrKey is an address as plain numbers: its length in bits (0 for the
// invalid address) and its 16 bytes (an IPv4 address in the last 4).
type addrKey struct {
	hi, lo uint64
	bits   int32
}

// makeAddrKey is x as an addrKey, without its zone.
func makeAddrKey(x netip.Addr) addrKey {
	b := x.As16()
	return addrKey{hi: binary.BigEndian.Uint64(b[:8]), lo: binary.BigEndian.Uint64(b[8:]), bits: int32(x.BitLen())}
}

// addr is the address k holds.
func (k addrKey) addr() netip.Addr {
	switch k.bits {
	case 32:
		return netip.AddrFrom4([4]byte{byte(k.lo >> 24), byte(k.lo >> 16), byte(k.lo >> 8), byte(k.lo)})
	case 128:
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], k.hi)
		binary.BigEndian.PutUint64(b[8:], k.lo)
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

// addrMaps are the groups of a grouping by one address.
type addrMaps struct {
	v4   map[uint32]accumulator
	v6   map[[16]byte]accumulator
	rest map[netip.Addr]accumulator // a zone, or the invalid address
}

func newAddrMaps() *addrMaps {
	return &addrMaps{v4: map[uint32]accumulator{}, v6: map[[16]byte]accumulator{}, rest: map[netip.Addr]accumulator{}}
}

// len is the number of groups.
func (m *addrMaps) len() int { return len(m.v4) + len(m.v6) + len(m.rest) }

// zones reports whether a key has a zone.
func (m *addrMaps) zones() bool {
	for x := range m.rest {
		if x.Zone() != "" {
			return true
		}
	}
	return false
}

// each calls fn with the key and accumulator of every group, in no
// particular order.
func (m *addrMaps) each(fn func(x netip.Addr, acc accumulator)) {
	for k, acc := range m.v4 {
		fn(netip.AddrFrom4([4]byte{byte(k >> 24), byte(k >> 16), byte(k >> 8), byte(k)}), acc)
	}
	for k, acc := range m.v6 {
		fn(netip.AddrFrom16(k), acc)
	}
	for x, acc := range m.rest {
		fn(x, acc)
	}
}

// addAddr counts f into its group of a grouping by one address.
func (a *aggregator) addAddr(f *Flow) error {
	v, err := a.flowValue(f)
	if err != nil {
		return err
	}
	x, m := a.g.AddrKey(f), a.addrs
	switch {
	case x.Is4():
		b := x.As4()
		k := binary.BigEndian.Uint32(b[:])
		m.v4[k] = a.accumulate(m.v4[k], v)
	case x.Is6() && x.Zone() == "":
		k := x.As16()
		m.v6[k] = a.accumulate(m.v6[k], v)
	default:
		m.rest[x] = a.accumulate(m.rest[x], v)
	}
	return nil
}

// addrResult is result for a grouping by one address: the groups are
// ordered as flat keys straight from the maps, and only those listed are
// made Groups, on two cores where there are. ok is false, and the caller
// lists the groups, for a grouping with a key that has a zone (which
// only compareGroups orders).
func (a *aggregator) addrResult(limit int) (out []Group, ok bool) {
	m := a.addrs
	if m.zones() {
		return nil, false
	}
	keys := make([]flatKey, 0, m.len())
	m.each(func(x netip.Addr, acc accumulator) {
		keys = append(keys, flatKey{value: a.value(acc), tag: acc.n, addrKey: makeAddrKey(x)})
	})
	if limit >= 0 && limit < len(keys)/2 {
		keys = bestFlatKeys(keys, limit)
	} else {
		sortFlatKeys(keys)
		if limit >= 0 && len(keys) > limit {
			keys = keys[:limit]
		}
	}
	out = make([]Group, len(keys))
	boxed := make([]any, len(keys))
	inHalves(len(keys), func(from, to int) {
		for i := from; i < to; i++ {
			k := &keys[i]
			boxed[i] = k.addr()
			out[i] = Group{Keys: boxed[i : i+1 : i+1], Count: k.tag, Value: k.value}
		}
	})
	return out, true
}

// parallelMin is the least work (keys, groups) done in two halves at
// once: below it, starting a goroutine costs more than it saves.
const parallelMin = 1 << 14

// inHalves calls fn for [0, n), in two halves at once when n is at least
// parallelMin.
func inHalves(n int, fn func(from, to int)) {
	if n < parallelMin {
		fn(0, n)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { fn(0, n/2) })
	fn(n/2, n)
	wg.Wait()
}

// sortFlatKeys sorts keys in compareFlatKeys' order. A big slice is
// sorted in two halves at once, on two cores where there are, and the
// halves merged.
func sortFlatKeys(keys []flatKey) {
	if len(keys) < parallelMin {
		slices.SortFunc(keys, compareFlatKeys)
		return
	}
	mid := len(keys) / 2
	inHalves(len(keys), func(from, to int) { slices.SortFunc(keys[from:to], compareFlatKeys) })
	left := slices.Clone(keys[:mid])
	i, j, k := 0, mid, 0
	for i < len(left) && j < len(keys) {
		if compareFlatKeys(keys[j], left[i]) < 0 {
			keys[k] = keys[j]
			j++
		} else {
			keys[k] = left[i]
			i++
		}
		k++
	}
	copy(keys[k:], left[i:])
}
