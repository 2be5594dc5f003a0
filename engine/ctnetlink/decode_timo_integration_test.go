//go:build linux

package ctnetlink

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/mdlayher/netlink"
	"github.com/ti-mo/conntrack"

	"ctq/internal/netns"
	"ctq/internal/nstest"

	"ctq/engine"
)

// TestDecodeAgainstTimo decodes every message of a real dump with both
// DecodeFlow and ti-mo/conntrack's independent decoder (Event.Unmarshal),
// and compares what both understand.
func TestDecodeAgainstTimo(t *testing.T) {
	ns := nstest.New(t)
	ns.Load(t, mixedTable)
	f, err := os.Open(filepath.Join(netns.Dir, ns.Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	c, err := netlink.Dial(netlinkNetfilter, &netlink.Config{NetNS: int(f.Fd())})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Send(ctMessage(ipctnlMsgCtGet, netlink.Dump, newRequest(engine.FamilyUnspec).b)); err != nil {
		t.Fatal(err)
	}
	n := 0
	for m, err := range c.ReceiveIter() {
		if err != nil {
			t.Fatal(err)
		}
		var ours engine.Flow
		if err := DecodeFlow(m.Data, &ours, time.Now()); err != nil {
			t.Fatalf("DecodeFlow: %v", err)
		}
		var ev conntrack.Event
		if err := ev.Unmarshal(m); err != nil {
			t.Fatalf("ti-mo Unmarshal: %v", err)
		}
		compareTimo(t, &ours, ev.Flow)
		n++
	}
	if n != len(mixedTable) {
		t.Errorf("compared %d entries, loaded %d", n, len(mixedTable))
	}
}

// compareTimo reports where our decoding of an entry and ti-mo's differ.
func compareTimo(t *testing.T, f *engine.Flow, x *conntrack.Flow) {
	t.Helper()
	o, r := x.TupleOrig, x.TupleReply
	type check struct {
		what      string
		got, want any
	}
	checks := []check{
		{"src", f.Src, o.IP.SourceAddress},
		{"dst", f.Dst, o.IP.DestinationAddress},
		{"reply src", f.ReplySrc, r.IP.SourceAddress},
		{"reply dst", f.ReplyDst, r.IP.DestinationAddress},
		{"protonum", f.ProtoNum, int(o.Proto.Protocol)},
		{"status", uint32(f.Status), uint32(x.Status)},
		{"timeout", f.Timeout, int(x.Timeout)},
		{"mark", f.Mark, int(x.Mark)},
		{"use", f.Use, int(x.Use)},
		{"id", f.ID, int(x.ID)},
		{"zone", f.Zone, int(x.Zone)},
		{"orig packets", f.OrigPackets, int(x.CountersOrig.Packets)},
		{"reply bytes", f.ReplyBytes, int(x.CountersReply.Bytes)},
		{"start", f.Start.UnixNano(), x.Timestamp.Start.UnixNano()},
	}
	if engine.HasPorts(f.ProtoNum) && f.ProtoNum != engine.ProtoGRE {
		checks = append(checks,
			check{"sport", f.Sport, int(o.Proto.SourcePort)},
			check{"reply dport", f.ReplyDport, int(r.Proto.DestinationPort)})
	}
	if x.ProtoInfo.TCP != nil {
		checks = append(checks, check{"tcp state", f.StateNum, int(x.ProtoInfo.TCP.State)})
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s %v -> %v: %s: ours %v, ti-mo %v", f.Proto, f.Src, f.Dst, c.what, c.got, c.want)
		}
	}
}
