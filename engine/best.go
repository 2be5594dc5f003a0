package engine

import (
	"container/heap"
	"sort"
)

// best keeps the n first values offered in cmp's order (cmp(x, y) < 0:
// x comes first), so that memory grows with n, not with what is offered:
// the kept values form a heap with the last of them on top, and a value
// offered later replaces that one only if it comes before it. A negative
// n keeps every value. cmp takes pointers, so that large values (a row
// with its entry) are compared where they lie. Make it with newBest.
type best[T any] struct {
	n    int
	cmp  func(x, y *T) int
	kept []T
	// offered holds the value being offered while it is compared: a
	// pointer to offer's argument would move every argument to the heap.
	offered T
}

// newBest returns a best keeping n values (negative: all) in buf's array
// (from its start: buf's length does not matter, its capacity is used).
func newBest[T any](n int, cmp func(x, y *T) int, buf []T) *best[T] {
	return &best[T]{n: n, cmp: cmp, kept: buf[:0]}
}

// offer keeps x if it is among the n first so far.
func (b *best[T]) offer(x T) {
	switch {
	case b.n < 0:
		b.kept = append(b.kept, x)
	case len(b.kept) < b.n:
		heap.Push(bestHeap[T]{b}, x)
	case b.n > 0:
		b.offered = x
		if b.cmp(&b.offered, &b.kept[0]) < 0 {
			b.kept[0] = b.offered
			heap.Fix(bestHeap[T]{b}, 0)
		}
	}
}

// sorted returns the kept values in cmp's order.
func (b *best[T]) sorted() []T {
	sort.Slice(b.kept, func(i, j int) bool { return b.cmp(&b.kept[i], &b.kept[j]) < 0 })
	return b.kept
}

// bestHeap is a best's values as a heap.Interface, the last in cmp's
// order on top.
type bestHeap[T any] struct{ b *best[T] }

func (h bestHeap[T]) Len() int           { return len(h.b.kept) }
func (h bestHeap[T]) Less(i, j int) bool { return h.b.cmp(&h.b.kept[i], &h.b.kept[j]) > 0 }
func (h bestHeap[T]) Swap(i, j int)      { h.b.kept[i], h.b.kept[j] = h.b.kept[j], h.b.kept[i] }
func (h bestHeap[T]) Push(x any)         { h.b.kept = append(h.b.kept, x.(T)) }
func (h bestHeap[T]) Pop() any {
	x := h.b.kept[len(h.b.kept)-1]
	h.b.kept = h.b.kept[:len(h.b.kept)-1]
	return x
}
