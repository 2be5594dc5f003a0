package daemon

import (
	"context"
	"time"

	"ctq/metrics"
	"ctq/sync/control"
	"ctq/sync/node"
)

// upHelp is the help of ctq_sync_up in a node's own metrics.
const upHelp = "Whether the sync node's event loop answered the scrape."

// nodeSamples is the Extra of a node's own metrics server: the node's
// counters, read from its loop at each scrape (no dump, no control
// socket), the control socket's refusals, and ctq_sync_up, 0 when the
// loop does not answer in time.
func nodeSamples(n *node.Node, refused func() uint64) func(ctx context.Context) ([]metrics.Sample, error) {
	return func(ctx context.Context) ([]metrics.Sample, error) {
		up := metrics.Sample{Name: "ctq_sync_up", Help: upHelp, Value: 1}
		st, err := n.Stats(ctx)
		if err != nil {
			up.Value = 0
			return []metrics.Sample{up}, nil
		}
		return append([]metrics.Sample{up}, Samples(control.Metrics(&st, refused(), time.Now()))...), nil
	}
}
