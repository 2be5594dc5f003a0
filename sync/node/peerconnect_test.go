package node

import (
	"testing"

	"ctq/sync/wire"
)

// tcpConf is an FTFW node on a TCP link.
const tcpConf = `Sync {
	Mode FTFW { }
	TCP Default { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`

// TestPeerConnectAsksResync: when the peer connects over TCP (the first
// time too), the node asks it for a resync, since what the peer sent
// without a connection went nowhere; no new connection, no request.
func TestPeerConnectAsksResync(t *testing.T) {
	f := runFake(t, tcpConf)
	resyncs := func() int {
		n := 0
		for _, m := range f.sent(t) {
			if m.Header.Type == wire.MsgControl && m.Header.Flags&wire.FlagResync != 0 {
				n++
			}
		}
		return n
	}
	resyncs() // what the start sent
	f.clk.advance(peerConnectCheck)
	if n := resyncs(); n != 0 {
		t.Errorf("%d RESYNC requests without a peer connection", n)
	}
	f.l.peerConnects.Store(1)
	f.clk.advance(peerConnectCheck)
	if n := resyncs(); n != 1 {
		t.Errorf("%d RESYNC requests after the peer connected, want 1", n)
	}
	f.clk.advance(peerConnectCheck)
	if n := resyncs(); n != 0 {
		t.Errorf("%d RESYNC requests with no new connection", n)
	}
}
