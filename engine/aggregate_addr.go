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
		return ipv4(uint32(k.lo))
	case 128:
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], k.hi)
		binary.BigEndian.PutUint64(b[8:], k.lo)
		return netip.AddrFrom16(b)
	}
	return netip.Addr{}
}

// ipv4 is the IPv4 address of number k.
func ipv4(k uint32) netip.Addr {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], k)
	return netip.AddrFrom4(b)
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
		fn(ipv4(k), acc)
	}
	for k, acc := range m.v6 {
		fn(netip.AddrFrom16(k), acc)
	}
	for x, acc := range m.rest {
		fn(x, acc)
	}
}

// flatKeys lists the groups as flat keys, value computing each one's
// value: the IPv4 map and the others at once, on two cores where there
// are (into two parts of the one array).
func (m *addrMaps) flatKeys(value func(accumulator) float64) []flatKey {
	keys := make([]flatKey, m.len())
	v4, rest := keys[:len(m.v4)], keys[len(m.v4):]
	fill4 := func() {
		i := 0
		for k, acc := range m.v4 {
			v4[i] = flatKey{value: value(acc), tag: acc.n, addrKey: makeAddrKey(ipv4(k))}
			i++
		}
	}
	fill6 := func() {
		i := 0
		for k, acc := range m.v6 {
			rest[i] = flatKey{value: value(acc), tag: acc.n, addrKey: makeAddrKey(netip.AddrFrom16(k))}
			i++
		}
		for x, acc := range m.rest {
			rest[i] = flatKey{value: value(acc), tag: acc.n, addrKey: makeAddrKey(x)}
			i++
		}
	}
	if len(keys) < parallelMin {
		fill4()
		fill6()
		return keys
	}
	var wg sync.WaitGroup
	wg.Go(fill4)
	fill6()
	wg.Wait()
	return keys
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
	keys := m.flatKeys(a.value)
	n := len(keys)
	if limit >= 0 {
		n = min(n, limit)
	}
	out = make([]Group, n)
	boxed := make([]any, n)
	put := func(i int, k *flatKey) {
		boxed[i] = k.addr()
		out[i] = Group{Keys: boxed[i : i+1 : i+1], Count: k.tag, Value: k.value}
	}
	if n < len(keys)/2 {
		for i, k := range bestFlatKeys(keys, n) {
			put(i, &k)
		}
		return out, true
	}
	eachSorted(keys, n, put)
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

// eachSorted calls put(i, k) with the first n of keys in
// compareFlatKeys' order, k the i-th. A big slice is sorted in two halves
// at once, on two cores where there are, and the halves merged as put
// is called; all of them from both ends at once, the first half of the
// order from the fronts of the halves and the second from their backs.
// keys is reordered.
func eachSorted(keys []flatKey, n int, put func(i int, k *flatKey)) {
	if len(keys) < parallelMin {
		slices.SortFunc(keys, compareFlatKeys)
		for i := range n {
			put(i, &keys[i])
		}
		return
	}
	inHalves(len(keys), func(from, to int) { slices.SortFunc(keys[from:to], compareFlatKeys) })
	x, y := keys[:len(keys)/2], keys[len(keys)/2:]
	if n < len(keys) {
		mergeFront(x, y, n, put)
		return
	}
	var wg sync.WaitGroup
	wg.Go(func() { mergeFront(x, y, n/2, put) })
	mergeBack(x, y, n/2, put)
	wg.Wait()
}

// mergeFront calls put with the first n keys of the merge of the sorted x
// and y, a stable merge (x first among equal keys).
func mergeFront(x, y []flatKey, n int, put func(i int, k *flatKey)) {
	i, j := 0, 0
	for at := range n {
		if j == len(y) || (i < len(x) && compareFlatKeys(y[j], x[i]) >= 0) {
			put(at, &x[i])
			i++
		} else {
			put(at, &y[j])
			j++
		}
	}
}

// mergeBack calls put with the keys of the same merge from the last down
// to the one at from.
func mergeBack(x, y []flatKey, from int, put func(i int, k *flatKey)) {
	i, j := len(x)-1, len(y)-1
	for at := len(x) + len(y) - 1; at >= from; at-- {
		if i < 0 || (j >= 0 && compareFlatKeys(y[j], x[i]) >= 0) {
			put(at, &y[j])
			j--
		} else {
			put(at, &x[i])
			i--
		}
	}
}
