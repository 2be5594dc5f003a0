package engine

import (
	"context"
	"math"
	"math/rand/v2"
	"net/netip"
	"reflect"
	"slices"
	"testing"
)

// TestAddrKey checks that an address survives makeAddrKey and addr, and
// that addrKeys order as netip.Addr.Compare orders addresses without a
// zone.
func TestAddrKey(t *testing.T) {
	addrs := []netip.Addr{
		{},
		netip.MustParseAddr("0.0.0.0"),
		netip.MustParseAddr("192.0.2.1"),
		netip.MustParseAddr("255.255.255.255"),
		netip.MustParseAddr("::"),
		netip.MustParseAddr("::ffff:192.0.2.1"),
		netip.MustParseAddr("2001:db8::1"),
		netip.MustParseAddr("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
	}
	for _, x := range addrs {
		if got := makeAddrKey(x).addr(); got != x {
			t.Errorf("%v came back as %v", x, got)
		}
	}
	for _, x := range addrs {
		for _, y := range addrs {
			kx, ky := flatKey{addrKey: makeAddrKey(x)}, flatKey{addrKey: makeAddrKey(y)}
			if got, want := compareFlatKeys(kx, ky), x.Compare(y); got != want {
				t.Errorf("%v vs %v: %d, want %d", x, y, got, want)
			}
		}
	}
}

// randomKeys is n flat keys with few distinct values (many ties) and
// addresses of both families.
func randomKeys(r *rand.Rand, n int) []flatKey {
	keys := make([]flatKey, n)
	for i := range keys {
		x := netip.AddrFrom4([4]byte{198, 18, byte(r.IntN(256)), byte(r.IntN(256))})
		if r.IntN(3) == 0 {
			x = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(r.IntN(256)), 15: byte(r.IntN(256))})
		}
		keys[i] = flatKey{value: float64(r.IntN(8)), tag: i, addrKey: makeAddrKey(x)}
	}
	return keys
}

// TestSortFlatKeys checks the sort in two halves merged from both ends,
// and the heap of the best few, against one plain sort.
func TestSortFlatKeys(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 100, parallelMin - 1, parallelMin, 3*parallelMin + 7} {
		keys := randomKeys(r, n)
		want := slices.Clone(keys)
		slices.SortStableFunc(want, compareFlatKeys)
		for _, first := range []int{n, n - 1, n / 2, n / 3} {
			if first < 0 {
				continue
			}
			got := make([]flatKey, first)
			puts := make([]int, first)
			eachSorted(slices.Clone(keys), first, func(i int, k *flatKey) {
				got[i] = *k
				puts[i]++
			})
			if !equalOrder(got, want[:first]) || slices.ContainsFunc(puts, func(c int) bool { return c != 1 }) {
				t.Errorf("%d keys, first %d: the sort in halves differs from a plain sort", n, first)
			}
		}
		for _, best := range []int{0, 1, 10, n / 3} {
			got := bestFlatKeys(slices.Clone(keys), best)
			if !equalOrder(got, want[:min(best, n)]) {
				t.Errorf("%d keys, best %d: %v, want %v", n, best, got, want[:min(best, n)])
			}
		}
	}
}

// equalOrder reports whether got and want are the same keys in the same
// order, ties (equal value and address) in any order.
func equalOrder(got, want []flatKey) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if compareFlatKeys(got[i], want[i]) != 0 {
			return false
		}
	}
	return true
}

// TestAggregateAddrKeyRandom checks a grouping by an address read with
// AddrKey against the same grouping read as a value, on a table big
// enough for the work in halves, with every aggregate function, limits,
// and values that are NaN (which only the generic order handles).
func TestAggregateAddrKeyRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	flows := make([]Flow, 3*parallelMin)
	for i := range flows {
		f := &flows[i]
		f.Src = netip.AddrFrom4([4]byte{198, 18, byte(r.IntN(64)), byte(r.IntN(256))})
		if r.IntN(4) == 0 {
			f.Src = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 14: byte(r.IntN(64)), 15: byte(r.IntN(256))})
		}
		f.Bytes = r.IntN(1000)
	}
	src := func(f *Flow) (any, error) { return f.Src, nil }
	bytes := func(f *Flow) (float64, error) { return float64(f.Bytes), nil }
	nan := func(f *Flow) (float64, error) {
		if f.Bytes%5 == 0 {
			return math.NaN(), nil
		}
		return float64(f.Bytes), nil
	}
	for _, tc := range []struct {
		agg   AggFunc
		value func(*Flow) (float64, error)
	}{
		{AggCount, nil}, {AggSum, bytes}, {AggMin, bytes}, {AggMax, bytes}, {AggAvg, bytes}, {AggSum, nan},
	} {
		for _, limit := range []int{-1, 0, 10, 5000} {
			g := Grouping{By: []func(*Flow) (any, error){src}, Agg: tc.agg, Value: tc.value}
			p := &Plan{Action: ActGroup, Limit: limit, Group: &g}
			want, _, err := aggregate(context.Background(), &sliceSource{flows: flows}, p)
			if err != nil {
				t.Fatal(err)
			}
			g.AddrKey = func(f *Flow) netip.Addr { return f.Src }
			got, _, err := aggregate(context.Background(), &sliceSource{flows: flows}, p)
			if err != nil {
				t.Fatal(err)
			}
			if !sameGroups(got, want) {
				t.Errorf("%s, limit %d: AddrKey's %d groups differ from the generic %d", tc.agg, limit, len(got), len(want))
			}
		}
	}
}

// sameGroups compares groups as reflect.DeepEqual would, but with NaN
// values equal.
func sameGroups(x, y []Group) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		a, b := x[i], y[i]
		if math.IsNaN(a.Value) && math.IsNaN(b.Value) {
			a.Value, b.Value = 0, 0
		}
		if !reflect.DeepEqual(a, b) {
			return false
		}
	}
	return true
}
