package engine

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
)

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
// compareGroups gives: the value (largest first, NaN last), then the key
// (an address by its length in bits, then its bits; an int as lo, offset
// so that unsigned order is signed order). tag is what the sorter needs
// back: the group's index, or its count.
type flatKey struct {
	value float64
	tag   int
	addrKey
}

// compareFlatKeys orders flat keys as compareGroups orders their groups.
func compareFlatKeys(x, y flatKey) int {
	if c := cmp.Compare(y.value, x.value); c != 0 {
		return c
	}
	if c := cmp.Compare(x.bits, y.bits); c != 0 {
		return c
	}
	if c := cmp.Compare(x.hi, y.hi); c != 0 {
		return c
	}
	return cmp.Compare(x.lo, y.lo)
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
		k.value, k.tag = groups[i].Value, i
		switch x := groups[i].Keys[0].(type) {
		case int:
			if !isInt {
				return nil, false
			}
			k.lo = uint64(x) ^ 1<<63 // signed order
		case netip.Addr:
			if isInt || x.Zone() != "" {
				return nil, false
			}
			k.addrKey = makeAddrKey(x)
		default:
			return nil, false
		}
	}
	slices.SortFunc(keys, compareFlatKeys)
	idx = make([]int32, len(keys))
	for i := range keys {
		idx[i] = int32(keys[i].tag)
	}
	return idx, true
}

// bestFlatKeys returns the first n of keys in compareFlatKeys' order,
// sorted, reusing keys' array: the best so far are kept in a heap with
// the worst on top, the rest compared with that one only.
func bestFlatKeys(keys []flatKey, n int) []flatKey {
	n = min(n, len(keys))
	h := flatHeap(keys[:0:n])
	for _, k := range keys {
		if len(h) < n {
			heap.Push(&h, k)
			continue
		}
		if n > 0 && compareFlatKeys(k, h[0]) < 0 {
			h[0] = k
			heap.Fix(&h, 0)
		}
	}
	slices.SortFunc(h, compareFlatKeys)
	return h
}

// flatHeap is a heap of flat keys with the worst on top.
type flatHeap []flatKey

func (h flatHeap) Len() int           { return len(h) }
func (h flatHeap) Less(i, j int) bool { return compareFlatKeys(h[i], h[j]) > 0 }
func (h flatHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *flatHeap) Push(x any)        { *h = append(*h, x.(flatKey)) }
func (h *flatHeap) Pop() any {
	x := (*h)[len(*h)-1]
	*h = (*h)[:len(*h)-1]
	return x
}

// compareGroups orders groups largest value first (NaN after every
// number), ties by their keys in ascending order.
func compareGroups(x, y *Group) (int, error) {
	if c := cmp.Compare(y.Value, x.Value); c != 0 {
		return c, nil
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
