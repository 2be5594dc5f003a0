package engine

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
)

// AggFunc is what an ActGroup plan computes over each group.
type AggFunc uint8

// The aggregate functions.
const (
	// AggCount counts the entries of a group.
	AggCount AggFunc = iota
	// AggSum adds up Grouping.Value over a group.
	AggSum
	// AggMin is the least Grouping.Value of a group.
	AggMin
	// AggMax is the greatest Grouping.Value of a group.
	AggMax
	// AggAvg is the mean of Grouping.Value over a group.
	AggAvg
)

// String is the function's name: count, sum, min, max or avg.
func (a AggFunc) String() string {
	switch a {
	case AggSum:
		return "sum"
	case AggMin:
		return "min"
	case AggMax:
		return "max"
	case AggAvg:
		return "avg"
	}
	return "count"
}

// MaxGroupKeys is the most keys a Grouping may have.
const MaxGroupKeys = 4

// Group is one group of an aggregation: its keys (in the order of
// Grouping.By), the number of entries in it and the computed value (the
// count again for AggCount).
type Group struct {
	Keys  []any
	Count int
	Value float64
}

// groupKey is the map key of a group: comparable key values.
type groupKey [MaxGroupKeys]any

// accumulator gathers one group.
type accumulator struct {
	n   int
	val float64
}

// aggregate runs an ActGroup plan: it streams the table through the
// predicate and keeps one accumulator per group, so memory grows with the
// number of groups, never with the table. The groups come largest value
// first, ties by their keys in ascending order, at most p.Limit of them
// (negative: all).
func aggregate(ctx context.Context, src Source, p *Plan) ([]Group, Result, error) {
	g := p.Group
	if g == nil {
		return nil, Result{}, errors.New("aggregate: the plan has no grouping")
	}
	if len(g.By) > MaxGroupKeys {
		return nil, Result{}, fmt.Errorf("aggregate: at most %d group keys", MaxGroupKeys)
	}
	if g.Agg != AggCount && g.Value == nil {
		return nil, Result{}, fmt.Errorf("aggregate: %s needs a value", g.Agg)
	}
	agg := newAggregator(g)
	scan := &Plan{Table: p.Table, Filter: p.Filter, Match: p.Match, Limit: -1}
	res, err := execScan(ctx, src, scan, agg.add)
	if err != nil {
		return nil, res, err
	}
	agg.dropIndex()
	out, err := agg.result(p.Limit)
	if err != nil {
		return nil, res, err
	}
	res.Count = len(out)
	return out, res, nil
}

// aggregator keeps one accumulator per group of a Grouping. The maps hold
// the group's index in accs and keys: the accumulators sit in one slice,
// without a pointer (nothing for the garbage collector to follow) and
// without an allocation a group, and the keys of group i are
// keys[i*len(g.By):], so the groups are listed in one sequential walk,
// without the maps. A grouping by one key maps the key itself, not an
// array of four, and an address or an int in a map of its type (the key
// inline, not behind an interface).
type aggregator struct {
	g *Grouping
	// One key: addrs, ints, or one for keys of other types.
	addrs map[netip.Addr]int32
	ints  map[int]int32
	one   map[any]int32
	many  map[groupKey]int32 // len(g.By) != 1
	n     int                // groups
	// The accumulators and keys in chunks of groupChunk groups: growing
	// never copies them.
	accs [][]accumulator
	keys [][]any
}

// groupChunk is how many groups' accumulators and keys are allocated at
// once.
const groupChunk = 4096

// acc is the accumulator of group i.
func (a *aggregator) acc(i int32) *accumulator {
	return &a.accs[i/groupChunk][i%groupChunk]
}

func newAggregator(g *Grouping) *aggregator {
	a := &aggregator{g: g}
	if len(g.By) == 1 {
		a.addrs, a.ints, a.one = map[netip.Addr]int32{}, map[int]int32{}, map[any]int32{}
	} else {
		a.many = map[groupKey]int32{}
	}
	return a
}

// lookup finds the group of keys k.
func (a *aggregator) lookup(k *groupKey) (int32, bool) {
	if a.many != nil {
		i, ok := a.many[*k]
		return i, ok
	}
	switch x := k[0].(type) {
	case netip.Addr:
		i, ok := a.addrs[x]
		return i, ok
	case int:
		i, ok := a.ints[x]
		return i, ok
	}
	i, ok := a.one[k[0]]
	return i, ok
}

// insert makes i the group of keys k.
func (a *aggregator) insert(k *groupKey, i int32) {
	if a.many != nil {
		a.many[*k] = i
		return
	}
	switch x := k[0].(type) {
	case netip.Addr:
		a.addrs[x] = i
	case int:
		a.ints[x] = i
	default:
		a.one[k[0]] = i
	}
}

// add counts f into its group.
func (a *aggregator) add(f *Flow) error {
	g := a.g
	if g.AddrKey != nil && a.addrs != nil {
		// The common case, an existing group, without boxing the key.
		if i, ok := a.addrs[g.AddrKey(f)]; ok {
			return a.update(i, f)
		}
	}
	var k groupKey
	for i, by := range g.By {
		v, err := by(f)
		if err != nil {
			return fmt.Errorf("group key: %w", err)
		}
		k[i] = v
	}
	if i, ok := a.lookup(&k); ok {
		return a.update(i, f)
	}
	v, err := a.flowValue(f)
	if err != nil {
		return err
	}
	if a.n == math.MaxInt32 {
		return errors.New("aggregate: too many groups")
	}
	if a.n%groupChunk == 0 {
		a.accs = append(a.accs, make([]accumulator, 0, groupChunk))
		a.keys = append(a.keys, make([]any, 0, groupChunk*len(g.By)))
	}
	c := len(a.accs) - 1
	a.accs[c] = append(a.accs[c], accumulator{n: 1, val: v})
	a.keys[c] = append(a.keys[c], k[:len(g.By)]...)
	a.insert(&k, int32(a.n))
	a.n++
	return nil
}

// update counts f into group i.
func (a *aggregator) update(i int32, f *Flow) error {
	v, err := a.flowValue(f)
	if err != nil {
		return err
	}
	acc := a.acc(i)
	switch a.g.Agg {
	case AggSum, AggAvg:
		acc.val += v
	case AggMin:
		acc.val = min(acc.val, v)
	case AggMax:
		acc.val = max(acc.val, v)
	}
	acc.n++
	return nil
}

// flowValue is the number f contributes to its group (0 for a count).
func (a *aggregator) flowValue(f *Flow) (float64, error) {
	if a.g.Value == nil {
		return 0, nil
	}
	v, err := a.g.Value(f)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", a.g.Agg, err)
	}
	return v, nil
}

// value is what a group's accumulator amounts to.
func (a *aggregator) value(acc accumulator) float64 {
	switch a.g.Agg {
	case AggCount:
		return float64(acc.n)
	case AggAvg:
		return acc.val / float64(acc.n)
	}
	return acc.val
}

// each calls fn with the keys and accumulator of every group, in the
// order the groups were made.
func (a *aggregator) each(fn func(keys []any, acc accumulator)) {
	nk := len(a.g.By)
	for c, chunk := range a.accs {
		keys := a.keys[c]
		for j, acc := range chunk {
			fn(keys[j*nk:(j+1)*nk:(j+1)*nk], acc)
		}
	}
}

// result lists the groups, largest value first, ties by their keys in
// ascending order, at most limit of them (negative: all). A limit well
// below the number of groups keeps the best ones in a heap while the
// groups are walked, instead of sorting them all.
func (a *aggregator) result(limit int) ([]Group, error) {
	n := a.n
	var cmpErr error
	order := func(x, y *Group) int {
		c, err := compareGroups(x, y)
		if err != nil && cmpErr == nil {
			cmpErr = err
		}
		return c
	}
	var out []Group
	if limit >= 0 && limit < n/2 {
		h := &groupHeap{g: make([]Group, 0, limit), cmp: order}
		a.each(func(keys []any, acc accumulator) {
			grp := Group{Keys: keys, Count: acc.n, Value: a.value(acc)}
			if len(h.g) == limit {
				if limit == 0 || order(&grp, &h.g[0]) >= 0 {
					return
				}
				h.g[0] = grp
				heap.Fix(h, 0)
				return
			}
			heap.Push(h, grp)
		})
		if cmpErr != nil {
			return nil, cmpErr
		}
		out = h.g
	} else {
		// The groups share the aggregator's array of keys.
		out = make([]Group, 0, n)
		a.each(func(keys []any, acc accumulator) {
			out = append(out, Group{Keys: keys, Count: acc.n, Value: a.value(acc)})
		})
	}
	if err := sortGroups(out); err != nil {
		return nil, err
	}
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// sortGroups sorts groups as compareGroups orders them. It sorts their
// indices (a swap moves 4 bytes, not a Group), then puts the groups in
// that order in place, cycle by cycle.
func sortGroups(groups []Group) error {
	if len(groups) > math.MaxInt32 {
		return errors.New("aggregate: too many groups")
	}
	idx, ok := sortByFlatKey(groups)
	if !ok {
		idx = make([]int32, len(groups))
		for i := range idx {
			idx[i] = int32(i)
		}
		var cmpErr error
		slices.SortFunc(idx, func(i, j int32) int {
			c, err := compareGroups(&groups[i], &groups[j])
			if err != nil && cmpErr == nil {
				cmpErr = err
			}
			return c
		})
		if cmpErr != nil {
			return cmpErr
		}
	}
	// Position i takes the group at idx[i]; a placed position is marked -1.
	for i := range idx {
		if idx[i] < 0 || int(idx[i]) == i {
			continue
		}
		first := groups[i]
		j := i
		for {
			k := int(idx[j])
			idx[j] = -1
			if k == i {
				groups[j] = first
				break
			}
			groups[j] = groups[k]
			j = k
		}
	}
	return nil
}

// flatKey is a group of one key as plain numbers, in the order
// compareGroups gives: the value (largest first), then the key (an address
// by its length in bits, then its bits; an int by itself).
type flatKey struct {
	value  float64
	bits   int32
	idx    int32
	hi, lo uint64
}

// sortByFlatKey sorts groups of one key that is, in every group, an int
// or in every group an address without a zone, as compareGroups would,
// without an interface in sight; it returns the groups' indices in order.
// ok is false, and nothing is sorted, for any other keys.
func sortByFlatKey(groups []Group) (idx []int32, ok bool) {
	if len(groups) == 0 || len(groups[0].Keys) != 1 {
		return nil, false
	}
	_, isInt := groups[0].Keys[0].(int)
	keys := make([]flatKey, len(groups))
	for i := range groups {
		k := &keys[i]
		k.value, k.idx = groups[i].Value, int32(i)
		if math.IsNaN(k.value) {
			return nil, false
		}
		switch x := groups[i].Keys[0].(type) {
		case int:
			if !isInt {
				return nil, false
			}
			k.hi = uint64(x) ^ 1<<63 // signed order
		case netip.Addr:
			if isInt || x.Zone() != "" {
				return nil, false
			}
			b := x.As16()
			k.bits = int32(x.BitLen())
			k.hi, k.lo = binary.BigEndian.Uint64(b[:8]), binary.BigEndian.Uint64(b[8:])
		default:
			return nil, false
		}
	}
	slices.SortFunc(keys, func(x, y flatKey) int {
		switch {
		case x.value > y.value:
			return -1
		case x.value < y.value:
			return 1
		}
		if c := cmp.Compare(x.bits, y.bits); c != 0 {
			return c
		}
		if c := cmp.Compare(x.hi, y.hi); c != 0 {
			return c
		}
		return cmp.Compare(x.lo, y.lo)
	})
	idx = make([]int32, len(keys))
	for i := range keys {
		idx[i] = keys[i].idx
	}
	return idx, true
}

// compareGroups orders groups largest value first, ties by their keys in
// ascending order.
func compareGroups(x, y *Group) (int, error) {
	if x.Value != y.Value {
		if x.Value > y.Value {
			return -1, nil
		}
		return 1, nil
	}
	for i := range x.Keys {
		c, err := compareKeys(x.Keys[i], y.Keys[i])
		if err != nil {
			return 0, fmt.Errorf("group key: %w", err)
		}
		if c != 0 {
			return c, nil
		}
	}
	return 0, nil
}

// compareKeys is compareValues with the common key types first.
func compareKeys(x, y any) (int, error) {
	switch a := x.(type) {
	case netip.Addr:
		if b, ok := y.(netip.Addr); ok {
			return a.Compare(b), nil
		}
	case int:
		if b, ok := y.(int); ok {
			return cmp.Compare(a, b), nil
		}
	case string:
		if b, ok := y.(string); ok {
			return cmp.Compare(a, b), nil
		}
	}
	return compareValues(x, y)
}

// groupHeap holds the best groups seen so far with the worst on top.
type groupHeap struct {
	g   []Group
	cmp func(x, y *Group) int
}

func (h *groupHeap) Len() int           { return len(h.g) }
func (h *groupHeap) Less(i, j int) bool { return h.cmp(&h.g[i], &h.g[j]) > 0 }
func (h *groupHeap) Swap(i, j int)      { h.g[i], h.g[j] = h.g[j], h.g[i] }
func (h *groupHeap) Push(x any)         { h.g = append(h.g, x.(Group)) }
func (h *groupHeap) Pop() any {
	x := h.g[len(h.g)-1]
	h.g = h.g[:len(h.g)-1]
	return x
}

// dropIndex lets the maps go once no entry will be added: listing the
// groups needs only the accumulators and keys, and the garbage collector
// can hand the maps' memory to the listing instead of the system handing
// out fresh pages.
func (a *aggregator) dropIndex() {
	a.addrs, a.ints, a.one, a.many = nil, nil, nil, nil
}

// reset empties every group.
func (a *aggregator) reset() {
	clear(a.addrs)
	clear(a.ints)
	clear(a.one)
	clear(a.many)
	// Not reused: the groups listed last share the keys.
	a.n, a.accs, a.keys = 0, nil, nil
}
