package node

import (
	"time"

	"ctq/sync/config"
)

// peerConnectCheck is how often a node with a TCP link looks whether the
// peer connected anew.
const peerConnectCheck = 500 * time.Millisecond

// tcpLinks reports whether any of cfg's dedicated links is TCP.
func tcpLinks(cfg *config.Config) bool {
	for _, l := range cfg.Sync.Links {
		if l.Transport == config.TransportTCP {
			return true
		}
	}
	return false
}

// checkPeerConnects asks the peer for a resync when it connected to this
// node over TCP since the last check (the first connection included):
// what it sent before, while it had no connection, went nowhere, and
// conntrackd does not send it again (a conntrackd primary that starts
// before its backup listens loses the flows of its first seconds for
// good). ALARM has no resync; its refreshes repair the same.
func (n *Node) checkPeerConnects() {
	c := n.link.Stats().PeerConnects
	if c == n.peerConnects {
		return
	}
	n.peerConnects = c
	if n.alarm == nil {
		n.askResync("the peer connected over TCP: what it sent before went nowhere")
	}
}
