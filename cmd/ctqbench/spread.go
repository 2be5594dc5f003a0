package main

import (
	"fmt"
	"slices"
	"time"
)

// median of a non-empty list of durations.
func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}

// durationSpread formats the median of d with its min-max.
func durationSpread(d []time.Duration) string {
	s := slices.Clone(d)
	slices.Sort(s)
	return fmt.Sprintf("%.3fs (%.3f-%.3f)", s[len(s)/2].Seconds(), s[0].Seconds(), s[len(s)-1].Seconds())
}

// ratioSpread formats the median of r with its min-max.
func ratioSpread(r []float64) string {
	s := slices.Clone(r)
	slices.Sort(s)
	return fmt.Sprintf("%.2fx (%.2f-%.2f)", s[len(s)/2], s[0], s[len(s)-1])
}

// roundRatios divides each of a's times by b's of the same round (the
// shorter list decides how many rounds there are).
func roundRatios(a, b []time.Duration) []float64 {
	var q []float64
	for i := range min(len(a), len(b)) {
		if b[i] > 0 {
			q = append(q, a[i].Seconds()/b[i].Seconds())
		}
	}
	return q
}

// medianRatio is the median of a non-empty list of ratios.
func medianRatio(r []float64) float64 {
	s := slices.Clone(r)
	slices.Sort(s)
	return s[len(s)/2]
}
