package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
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

// aggregator keeps one accumulator per group of a Grouping.
//
// A grouping by one address read by Grouping.AddrKey keeps its
// accumulators in maps keyed by the address's bytes (see
// aggregate_addr.go). Any other grouping maps its keys to the group's
// index: the key itself for one key (an address or an int in a map of its
// type), an array for several. Its accumulators sit in chunks without a
// pointer (nothing for the garbage collector to follow, no allocation a
// group), and so do its keys, so the groups are listed in one sequential
// walk, without the maps.
type aggregator struct {
	g     *Grouping
	addrs *addrMaps // one key, read by Grouping.AddrKey
	// One other key: addresses (computed, not read by AddrKey), ints, or
	// one for keys of other types.
	addrIdx map[netip.Addr]int32
	ints    map[int]int32
	one     map[any]int32
	many    map[groupKey]int32 // len(g.By) != 1
	keys    [][]any            // the keys of the groups of all three
	n       int                // groups
	// The accumulators in chunks of groupChunk groups: growing never
	// copies them.
	accs [][]accumulator
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
	switch {
	case len(g.By) == 1 && g.AddrKey != nil:
		a.addrs = newAddrMaps()
	case len(g.By) == 1:
		a.addrIdx, a.ints, a.one = map[netip.Addr]int32{}, map[int]int32{}, map[any]int32{}
	default:
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
		i, ok := a.addrIdx[x]
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
		a.addrIdx[x] = i
	case int:
		a.ints[x] = i
	default:
		a.one[k[0]] = i
	}
}

// add counts f into its group.
func (a *aggregator) add(f *Flow) error {
	if a.addrs != nil {
		return a.addAddr(f)
	}
	g := a.g
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
	i, err := a.newGroup(f)
	if err != nil {
		return err
	}
	if i%groupChunk == 0 {
		a.keys = append(a.keys, make([]any, 0, groupChunk*len(g.By)))
	}
	c := len(a.keys) - 1
	a.keys[c] = append(a.keys[c], k[:len(g.By)]...)
	a.insert(&k, i)
	return nil
}

// newGroup makes a group of f alone and returns its index; the caller
// files its keys.
func (a *aggregator) newGroup(f *Flow) (int32, error) {
	v, err := a.flowValue(f)
	if err != nil {
		return 0, err
	}
	if a.n == math.MaxInt32 {
		return 0, errors.New("aggregate: too many groups")
	}
	if a.n%groupChunk == 0 {
		a.accs = append(a.accs, make([]accumulator, 0, groupChunk))
	}
	c := len(a.accs) - 1
	a.accs[c] = append(a.accs[c], accumulator{n: 1, val: v})
	a.n++
	return int32(a.n - 1), nil
}

// update counts f into group i.
func (a *aggregator) update(i int32, f *Flow) error {
	v, err := a.flowValue(f)
	if err != nil {
		return err
	}
	acc := a.acc(i)
	*acc = a.accumulate(*acc, v)
	return nil
}

// accumulate is acc with one more entry, of value v (the zero
// accumulator: a new group).
func (a *aggregator) accumulate(acc accumulator, v float64) accumulator {
	if acc.n == 0 {
		return accumulator{n: 1, val: v}
	}
	switch a.g.Agg {
	case AggSum, AggAvg:
		acc.val += v
	case AggMin:
		acc.val = min(acc.val, v)
	case AggMax:
		acc.val = max(acc.val, v)
	}
	acc.n++
	return acc
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

// each calls fn with the keys and accumulator of every group: in the
// order the groups were made, or for a grouping by one address in no
// particular order, each key in an interface of its own.
func (a *aggregator) each(fn func(keys []any, acc accumulator)) {
	if a.addrs != nil {
		a.addrs.each(func(x netip.Addr, acc accumulator) { fn([]any{x}, acc) })
		return
	}
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
	if a.addrs != nil {
		if out, ok := a.addrResult(limit); ok {
			return out, nil
		}
		n = a.addrs.len()
	}
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
		b := newBest(limit, order, make([]Group, 0, limit))
		a.each(func(keys []any, acc accumulator) {
			b.offer(Group{Keys: keys, Count: acc.n, Value: a.value(acc)})
		})
		if cmpErr != nil {
			return nil, cmpErr
		}
		out = b.kept
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

// dropIndex lets the maps of indices go once no entry will be added:
// listing the groups needs only the accumulators and keys, and the
// garbage collector can hand the maps' memory to the listing instead of
// the system handing out fresh pages. (The maps of a grouping by one
// address hold the accumulators.)
func (a *aggregator) dropIndex() {
	a.addrIdx, a.ints, a.one, a.many = nil, nil, nil, nil
}

// reset empties every group.
func (a *aggregator) reset() {
	if a.addrs != nil {
		clear(a.addrs.v4)
		clear(a.addrs.v6)
		clear(a.addrs.rest)
	}
	clear(a.addrIdx)
	clear(a.ints)
	clear(a.one)
	clear(a.many)
	// Not reused: the groups listed last share the keys.
	a.n, a.accs, a.keys = 0, nil, nil
}
