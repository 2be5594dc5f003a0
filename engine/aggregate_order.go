package engine

import (
	"cmp"
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
func compareFlatKeys(x, y flatKey) int { return compareFlatKeyPtrs(&x, &y) }

// compareFlatKeyPtrs is compareFlatKeys for keys where they lie.
func compareFlatKeyPtrs(x, y *flatKey) int {
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
// sorted, reusing keys' array: the kept ones are written only where keys
// were already read.
func bestFlatKeys(keys []flatKey, n int) []flatKey {
	b := newBest(min(n, len(keys)), compareFlatKeyPtrs, keys)
	for _, k := range keys {
		b.offer(k)
	}
	return b.sorted()
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
