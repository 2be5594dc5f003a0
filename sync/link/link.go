//go:build linux

package link

import (
	"fmt"

	"ctq/sync/config"
)

// Link is a dedicated link to the peer.
type Link interface {
	// Send sends one datagram of whole messages to the peer.
	Send(b []byte) error
	// Recv reads one datagram into buf and returns its length (over TCP:
	// whole messages from the stream); it fails once the link is closed.
	Recv(buf []byte) (int, error)
	// MaxPayload is the most bytes a Send should carry: the interface MTU
	// less the IPv4 and UDP headers (28), or TCP's (40), as conntrackd
	// sizes its buffer; over IPv6 less the IPv6 headers (48, 60).
	MaxPayload() int
	// Stats returns the traffic counters.
	Stats() Stats
	// Close closes the link's sockets.
	Close() error
}

// Stats counts a link's traffic, as `conntrackd -s` shows it.
type Stats struct {
	SentBytes, SentDatagrams, SendErrors uint64
	RecvBytes, RecvDatagrams, RecvErrors uint64
	// RecvDropped counts the datagrams the kernel dropped at the receive
	// socket (UDP, Multicast): its buffer was full (RcvSocketBuffer too
	// small for the peer's bursts) or a datagram failed its checksum; the
	// drops column of /proc/net/udp. conntrackd does not show them.
	RecvDropped uint64
	// PeerConnects counts the connections the peer made to this node
	// (TCP): before each, what the peer sent may have gone nowhere.
	PeerConnects uint64
}

// Open opens the link a configuration block describes, in the calling
// thread's network namespace. errorQueueLength is Sync's ErrorQueueLength:
// how many messages a TCP link holds while its peer is unreachable.
func Open(l *config.Link, errorQueueLength int) (Link, error) {
	switch l.Transport {
	case config.TransportUDP:
		return OpenUDP(l)
	case config.TransportMulticast:
		return OpenMulticast(l)
	case config.TransportTCP:
		return OpenTCP(l, errorQueueLength)
	}
	return nil, fmt.Errorf("open %s link: not implemented yet", l.Transport)
}
