package main

import (
	"testing"
	"time"
)

func TestRoundRatios(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		var d []time.Duration
		for _, x := range v {
			d = append(d, time.Duration(x)*time.Millisecond)
		}
		return d
	}
	for _, tt := range []struct {
		a, b []time.Duration
		want string
	}{
		// Round by round: 110/100, 90/100, 200/100; the median is the middle one.
		{ms(110, 90, 200), ms(100, 100, 100), "1.10x (0.90-2.00)"},
		// The quotient of each round, not of the medians: a slow round
		// of both cancels out.
		{ms(100, 300, 100), ms(100, 300, 100), "1.00x (1.00-1.00)"},
		{ms(50), ms(100), "0.50x (0.50-0.50)"},
		// Rounds without their anchor are left out.
		{ms(100, 100, 100), ms(200, 100), "1.00x (0.50-1.00)"},
	} {
		q := roundRatios(tt.a, tt.b)
		if got := ratioSpread(q); got != tt.want {
			t.Errorf("roundRatios(%v, %v) = %s, want %s", tt.a, tt.b, got, tt.want)
		}
	}
	if got := medianRatio([]float64{3, 1, 2}); got != 2 {
		t.Errorf("medianRatio = %v, want 2", got)
	}
	if got := durationSpread(ms(3, 1, 2)); got != "0.002s (0.001-0.003)" {
		t.Errorf("durationSpread = %s", got)
	}
}
