//go:build linux

package node

import (
	"context"
	"time"
)

// pollInterval is how often a node in polling mode (General { PollSecs })
// reads the kernel table; 0 when it follows the kernel's events.
func (n *Node) pollInterval() time.Duration {
	return time.Duration(n.cfg.General.PollSecs) * time.Second
}

// poll is one round of polling mode, as conntrackd's polling alarm: the
// kernel's conntrack table (and expect table, when expectations are
// synced) is read into the internal cache, every entry read is advertised
// in its current state, and the entries the kernel no longer has are
// advertised as ended. A node in polling mode opens no event socket: it
// costs the kernel nothing between polls, and sees a flow that starts and
// ends between two polls not at all. A dump cannot tell the entries that
// DisableExternalCache wrote from the peer's messages from the node's own:
// they go out too, as with conntrackd.
func (n *Node) poll(ctx context.Context) error {
	n.stats.Polls++
	return n.reread(ctx, false)
}
