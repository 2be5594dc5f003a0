package engine

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestBest checks best against a plain sort: the first n of random
// values with many ties, in order, for n from none to more than there
// are, and negative (all).
func TestBest(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	vals := make([]int, 1000)
	for i := range vals {
		vals[i] = r.IntN(100)
	}
	want := slices.Sorted(slices.Values(vals))
	for _, n := range []int{-1, 0, 1, 2, 10, 999, 1000, 1001} {
		b := newBest(n, func(x, y *int) int { return cmp.Compare(*x, *y) }, nil)
		for _, v := range vals {
			b.offer(v)
		}
		got := b.sorted()
		k := len(vals)
		if n >= 0 {
			k = min(n, len(vals))
		}
		if !slices.Equal(got, want[:k]) {
			t.Errorf("n %d: got %d values %v..., want %v...", n, len(got), got[:min(5, len(got))], want[:min(5, k)])
		}
	}
}
