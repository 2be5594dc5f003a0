//go:build linux

package node

import (
	"time"

	"ctq/sync/cache"
)

// The start-up advertisement (ctq's; conntrackd sends nothing at start):
// a node that starts, or restarts, while the kernel table holds flows
// sends them to the peer, so that the peer learns the flows it missed
// while the node was down (those that started meanwhile would otherwise
// reach it only when they change). It is a bulk send paced to
// startupChunk entries every startupInterval; a peer accepts the entries
// as unsolicited updates (conntrackd too), and the ends of flows the
// node missed meanwhile are not known to it, so the peer keeps those
// until it is sent its table again or they time out after a commit.
const (
	// startupChunk is how many entries one step of the advertisement
	// queues, startupInterval the wait between two steps.
	startupChunk    = 1024
	startupInterval = 10 * time.Millisecond
)

// advertiseStartup starts the start-up advertisement of what the start-up
// dump loaded into the internal cache; it runs before the loop, whose
// transmit sends the first chunk. Without internal cache it is a bulk send
// of the kernel tables (not paced, as the answer to a RESYNC).
func (n *Node) advertiseStartup() {
	if n.noInternalCache() {
		queued := len(n.txq)
		n.bulkSend()
		n.stats.StartupAdvertised += uint64(len(n.txq) - queued)
		return
	}
	n.advertiseChunk(n.internal.Live())
	n.bulkSendExp()
}

// advertiseChunk queues the first startupChunk entries of entries still
// in the cache and alive, and the rest startupInterval later.
func (n *Node) advertiseChunk(entries []*cache.Entry) {
	chunk := entries[:min(startupChunk, len(entries))]
	for _, e := range chunk {
		if e.InCache() && !e.Dead() {
			n.enqueue(e)
			n.stats.StartupAdvertised++
		}
	}
	if rest := entries[len(chunk):]; len(rest) > 0 {
		n.later(startupInterval, func() { n.advertiseChunk(rest) })
	}
}
