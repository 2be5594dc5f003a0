package node

import (
	"testing"

	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/wire"
)

// FuzzDatagram feeds received datagrams to a node in each mode and checks
// that it neither panics nor loses track of its caches.
func FuzzDatagram(f *testing.F) {
	var ct wire.Conntrack
	fl := flow(1)
	ct.FromFlow(&fl)
	newMsg, _ := wire.AppendMessage(nil, &wire.Message{Header: wire.Header{Type: wire.MsgCTNew, Seq: 7}, CT: &ct})
	delMsg, _ := wire.AppendMessage(nil, &wire.Message{Header: wire.Header{Type: wire.MsgCTDelete, Seq: 9, Flags: wire.FlagHello}, CT: &ct})
	ack, _ := wire.AppendMessage(nil, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagACK, Seq: 8},
		Control: &wire.Control{From: 1795389893, To: 1795389900}})
	nack, _ := wire.AppendMessage(nil, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagNACK, Seq: 10},
		Control: &wire.Control{From: 1795389893, To: 1795389900}})
	resync, _ := wire.AppendMessage(nil, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagResync, Seq: 11},
		Control: &wire.Control{}})
	f.Add(newMsg, ack)
	f.Add(append(append([]byte{}, newMsg...), delMsg...), nack)
	f.Add(resync, []byte{0x1a, 0x30, 0, 8, 0x6b, 3, 0x79, 0xc5})
	f.Fuzz(func(t *testing.T, d1, d2 []byte) {
		for _, mode := range []string{"NOTRACK", "FTFW"} {
			cfg, err := config.Parse("f.conf", []byte(`Sync { Mode `+mode+` { ACKWindowSize 2 ResendQueueSize 3 }
				UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 } }`))
			if mode == "NOTRACK" {
				cfg, err = config.Parse("f.conf", []byte(notrackConf))
			}
			if err != nil {
				t.Fatal(err)
			}
			l := &fakeLink{max: 1472}
			n, err := New(cfg, Options{Kernel: newFakeKernel(), Link: l, Clock: newFakeClock()})
			if err != nil {
				t.Fatal(err)
			}
			for i := range 4 {
				g := flow(i)
				e, _ := n.internal.Replace(&g)
				n.enqueue(e)
			}
			n.transmit()
			for _, d := range [][]byte{d1, d2, d1} {
				n.datagram(d)
				n.transmit()
			}
			if n.ftfw != nil && (n.ftfw.rs.Len() > 3 || len(n.ftfw.rsEntries) > n.ftfw.rs.Len()) {
				t.Fatalf("resend queue %d entries, %d objects", n.ftfw.rs.Len(), len(n.ftfw.rsEntries))
			}
			live := 0
			n.external.Range(func(*cache.Entry) bool { live++; return true })
			if live != n.external.Len() || n.external.Stats().Objects != live {
				t.Fatalf("external cache: %d ranged, %d held, stats %+v", live, n.external.Len(), n.external.Stats())
			}
			for _, sent := range l.sent {
				wire.Decode(sent, func(_ *wire.Message, err error) error {
					if err != nil {
						t.Fatalf("sent a bad message: %v", err)
					}
					return nil
				})
			}
		}
	})
}
