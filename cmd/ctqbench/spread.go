package main

import (
	"fmt"
	"sort"
	"time"
)

// spread is a ratio over several rounds: the median and the extremes.
type spread struct{ median, lo, hi float64 }

// String is the ratio as the report prints it: "1.04x (0.98-1.10)".
func (s spread) String() string {
	return fmt.Sprintf("%.2fx (%.2f-%.2f)", s.median, s.lo, s.hi)
}

// ratios divides each of a's times by b's of the same round (the shorter
// list decides how many rounds there are) and summarizes the quotients.
func ratios(a, b []time.Duration) spread {
	var q []float64
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			q = append(q, a[i].Seconds()/b[i].Seconds())
		}
	}
	if len(q) == 0 {
		return spread{}
	}
	sort.Float64s(q)
	return spread{median: q[len(q)/2], lo: q[0], hi: q[len(q)-1]}
}

// minMax is the shortest and the longest of a non-empty list of times.
func minMax(d []time.Duration) (lo, hi time.Duration) {
	lo, hi = d[0], d[0]
	for _, x := range d[1:] {
		lo, hi = min(lo, x), max(hi, x)
	}
	return lo, hi
}
