package control

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctq/engine"
)

// ctdFlows are the four entries of the captured conntrackd dumps, as the
// kernel reported them (the internal cache's view, with reply tuples and
// IDs).
func ctdFlows() []engine.Flow {
	a := netip.MustParseAddr
	mk := func(proto int, src, dst string, sport, dport int, rsrc, rdst string, rsport, rdport int, state int,
		status engine.Status, mark, id int) engine.Flow {
		var f engine.Flow
		f.Family = "ipv4"
		f.SetProto(proto)
		f.Src, f.Dst, f.Sport, f.Dport = a(src), a(dst), sport, dport
		f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport = a(rsrc), a(rdst), rsport, rdport
		if state >= 0 {
			f.SetState(state)
		}
		f.SetStatus(status | engine.IPS_CONFIRMED)
		f.Mark, f.ID, f.Timeout, f.Use = mark, id, 100, 1
		f.Has |= engine.HasReply | engine.HasMark | engine.HasID | engine.HasTimeout | engine.HasUse
		return f
	}
	const established = 3
	icmp := mk(engine.IPPROTO_ICMP, "198.51.100.10", "198.51.100.40", 0, 0, "198.51.100.40", "198.51.100.10", 0, 0, -1, 0, 0, 321271589)
	icmp.ICMPType, icmp.ICMPCode, icmp.ICMPID = 8, 0, 7
	icmp.ReplyICMPType, icmp.ReplyICMPCode, icmp.ReplyICMPID = 0, 0, 7
	seen := engine.IPS_ASSURED | engine.IPS_SEEN_REPLY
	return []engine.Flow{
		icmp,
		mk(engine.IPPROTO_TCP, "198.51.100.14", "198.51.100.24", 42000, 443, "198.51.100.99", "198.51.100.14", 8443, 42000, established, seen|engine.IPS_DST_NAT, 0, 346064292),
		mk(engine.IPPROTO_TCP, "198.51.100.10", "198.51.100.20", 40000, 22, "198.51.100.20", "198.51.100.10", 22, 40000, established, seen, 7, 1115802991),
		mk(engine.IPPROTO_UDP, "198.51.100.10", "198.51.100.30", 5353, 53, "198.51.100.30", "198.51.100.10", 53, 5353, -1, 0, 0, 1942792783),
	}
}

// TestConntrackdDumps renders the captured entries as conntrackd's -i,
// -e, -i -x and -e -x do and compares byte for byte.
func TestConntrackdDumps(t *testing.T) {
	for _, tt := range []struct {
		file          string
		external, xml bool
	}{
		{"i", false, false}, {"e", true, false}, {"i-x", false, true}, {"e-x", true, true},
	} {
		want, err := os.ReadFile(filepath.Join("testdata", "conntrackd-1.4.7", tt.file+".txt"))
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		flows := ctdFlows()
		for i := range flows {
			var line []byte
			if tt.xml {
				line = appendCtdFlowXML(nil, &flows[i], tt.external)
			} else {
				line = appendCtdFlow(nil, &flows[i], tt.external, 14*time.Second+300*time.Millisecond)
			}
			b.Write(line)
			b.WriteByte('\n')
		}
		if got := b.String(); got != string(want) {
			t.Errorf("%s:\n got %s\nwant %s", tt.file, got, want)
		}
	}
}
