package daemon

import (
	"ctq/metrics"
	"ctq/sync/control"
)

// Samples turns a node's metrics into samples for package metrics's
// server, with their help texts and types.
func Samples(ms []control.Metric) []metrics.Sample {
	out := make([]metrics.Sample, 0, len(ms))
	for _, m := range ms {
		help, counter, _ := control.MetricHelp(m.Name)
		out = append(out, metrics.Sample{Name: m.Name, Help: help, Counter: counter, Labels: m.Labels, Value: m.Value})
	}
	return out
}
