package metrics

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// Sample is one value of another source of metrics (a sync node's
// counters), exported as it is at scrape time.
type Sample struct {
	Name, Help string
	// Counter is true for a counter, false for a gauge.
	Counter bool
	// Labels are name/value pairs.
	Labels [][2]string
	Value  float64
}

// extraCollector exports the samples of Config.Extra at scrape time. It
// is an unchecked collector: the samples name themselves.
type extraCollector struct {
	fetch func(ctx context.Context) ([]Sample, error)
}

func (c *extraCollector) Describe(chan<- *prometheus.Desc) {}

// Collect exports the samples; a failed fetch exports none (the source
// reports its own up metric).
func (c *extraCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	samples, err := c.fetch(ctx)
	if err != nil {
		return
	}
	for _, s := range samples {
		names := make([]string, len(s.Labels))
		values := make([]string, len(s.Labels))
		for i, l := range s.Labels {
			names[i], values[i] = l[0], l[1]
		}
		typ := prometheus.GaugeValue
		if s.Counter {
			typ = prometheus.CounterValue
		}
		m, err := prometheus.NewConstMetric(prometheus.NewDesc(s.Name, s.Help, names, nil), typ, s.Value, values...)
		if err == nil {
			ch <- m
		}
	}
}
