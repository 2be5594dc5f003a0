package node

import (
	"context"
	"testing"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/wire"
)

// FuzzExpectDatagram feeds received datagrams to FTFW and ALARM nodes
// with ExpectationSync on, holding expectations of their own, and checks
// that they neither panic, nor lose track of their expectation caches,
// nor send a message conntrackd would reject.
func FuzzExpectDatagram(f *testing.F) {
	x := testExp("ftp", 50000)
	newMsg, _ := wire.AppendMessage(nil, expMsg(wire.MsgExpNew, 7, x))
	updMsg, _ := wire.AppendMessage(nil, expMsg(wire.MsgExpUpdate, 8, testExp("sip", 5060)))
	delMsg, _ := wire.AppendMessage(nil, expMsg(wire.MsgExpDelete, 9, x))
	nack, _ := wire.AppendMessage(nil, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagNACK, Seq: 10},
		Control: &wire.Control{From: 1795389893, To: 1795389900}})
	resync, _ := wire.AppendMessage(nil, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagResync, Seq: 11},
		Control: &wire.Control{}})
	f.Add(append(append([]byte{}, newMsg...), updMsg...), delMsg)
	f.Add(resync, nack)
	f.Fuzz(func(t *testing.T, d1, d2 []byte) {
		for _, mode := range []string{"Mode FTFW { ACKWindowSize 2 ResendQueueSize 3 }", "Mode ALARM { }"} {
			n, l, clk := expNode(t, mode, "Options { ExpectationSync on }")
			for i := range 3 {
				e := testExp("ftp", 50000+i)
				if err := n.expectEvent(context.Background(), &expEvent{typ: engine.EventNew, exp: e}); err != nil {
					t.Fatal(err)
				}
			}
			n.transmit()
			for _, d := range [][]byte{d1, d2, d1} {
				n.datagram(d)
				if n.alarm != nil {
					clk.advance(alarmTick)
					n.alarmTick()
				}
				n.transmit()
			}
			if n.ftfw != nil && (n.ftfw.rs.Len() > 3 || len(n.ftfw.rsExp) > n.ftfw.rs.Len()) {
				t.Fatalf("resend queue %d entries, %d expectations", n.ftfw.rs.Len(), len(n.ftfw.rsExp))
			}
			held := 0
			n.externalExp.Range(func(*cache.ExpectEntry) bool { held++; return true })
			if held != n.externalExp.Len() || n.externalExp.Stats().Objects != held {
				t.Fatalf("external expectations: %d ranged, %d held, stats %+v", held, n.externalExp.Len(), n.externalExp.Stats())
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
