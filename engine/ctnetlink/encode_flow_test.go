//go:build linux

package ctnetlink

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"ctq/engine"
)

// encoded runs one of the request encoders on a fresh encoder.
func encoded(encode func(*attrEncoder) error) ([]byte, error) {
	var e attrEncoder
	err := encode(&e)
	return e.b, err
}

// tcpFlow is 192.0.2.1:42002 -> 198.51.100.7:443, the flow of tcpTuple.
func tcpFlow() engine.Flow {
	return engine.Flow{Family: "ipv4", ProtoNum: 6, Proto: "tcp", Src: netip.MustParseAddr("192.0.2.1"),
		Dst: netip.MustParseAddr("198.51.100.7"), Sport: 42002, Dport: 443}
}

const (
	// tcpTupleAttrs is tcpFlow's original tuple (CTA_TUPLE_ORIG).
	tcpTupleAttrs = "34000180 14000180 08000100 c0000201 08000200 c6336407" +
		" 1c000280 05000100 06000000 06000200 a4120000 06000300 01bb0000"
	// tcpReplyAttrs is its inverse as CTA_TUPLE_REPLY.
	tcpReplyAttrs = "34000280 14000180 08000100 c6336407 08000200 c0000201" +
		" 1c000280 05000100 06000000 06000200 01bb0000 06000300 a4120000"
)

func TestEncodeRequests(t *testing.T) {
	littleEndian(t)
	del := tcpFlow()
	del.Zone, del.ID, del.Has = 11, 0x01020304, engine.HasID
	upd := tcpFlow()
	upd.ID, upd.Has = 0x01020304, engine.HasID
	upd.SetStatus(engine.StatusSeenReply)
	var add, drop engine.Labels
	add.Set(1)
	drop.Set(33)
	change := engine.Change{SetTimeout: true, Timeout: 100, SetStatus: engine.StatusAssured, SetMark: true, Mark: 7,
		AddLabels: add, DelLabels: drop}
	create := tcpFlow()
	create.Timeout, create.Mark, create.Helper = 300, 3, "ftp"
	create.SetState(3)
	closing := tcpFlow()
	closing.Timeout, closing.Has = 0, engine.HasTimeout
	closing.SetState(7) // TIME_WAIT
	sctp := tcpFlow()
	sctp.SetProto(engine.ProtoSCTP)
	sctp.Timeout, sctp.OrigVtag, sctp.ReplyVtag = 30, 0x01020304, 2
	sctp.SetState(4)
	dccp := tcpFlow()
	dccp.SetProto(engine.ProtoDCCP)
	dccp.Timeout, dccp.DCCPRole = 30, 1
	dccp.SetState(4) // OPEN
	tests := []struct {
		name   string
		encode func(*attrEncoder) error
		want   string
	}{
		{"delete in a zone, with its id", func(e *attrEncoder) error { return encodeDelete(e, &del) },
			"02000000 " + tcpTupleAttrs + " 06001200 000b0000 08000c00 01020304"},
		{"update", func(e *attrEncoder) error { return encodeUpdate(e, &upd, &change) },
			"02000000 " + tcpTupleAttrs + " 08000c00 01020304 08000700 00000064" +
				" 08000300 0000000e 08000800 00000007" +
				" 14001600 02000000 00000000 00000000 00000000" +
				" 14001700 02000000 02000000 00000000 00000000"},
		{"create tcp", func(e *attrEncoder) error { return encodeCreate(e, &create) },
			"02000000 " + tcpTupleAttrs + " " + tcpReplyAttrs +
				" 08000700 0000012c 08000300 00000008" +
				" 20000480 1c000180 05000100 03000000 06000400 0a0a0000 06000500 0a0a0000" +
				" 08000800 00000003 0c000580 08000100 66747000"},
		{"create tcp in TIME_WAIT with timeout 0", func(e *attrEncoder) error { return encodeCreate(e, &closing) },
			"02000000 " + tcpTupleAttrs + " " + tcpReplyAttrs +
				" 08000700 00000000 08000300 00000008" +
				" 20000480 1c000180 05000100 07000000 06000400 0e0e0000 06000500 0e0e0000"},
		{"create sctp", func(e *attrEncoder) error { return encodeCreate(e, &sctp) },
			"02000000" +
				" 34000180 14000180 08000100 c0000201 08000200 c6336407" +
				" 1c000280 05000100 84000000 06000200 a4120000 06000300 01bb0000" +
				" 34000280 14000180 08000100 c6336407 08000200 c0000201" +
				" 1c000280 05000100 84000000 06000200 01bb0000 06000300 a4120000" +
				" 08000700 0000001e 08000300 00000008" +
				" 20000480 1c000380 05000100 04000000 08000200 04030201 08000300 02000000"},
		{"create dccp", func(e *attrEncoder) error { return encodeCreate(e, &dccp) },
			"02000000" +
				" 34000180 14000180 08000100 c0000201 08000200 c6336407" +
				" 1c000280 05000100 21000000 06000200 a4120000 06000300 01bb0000" +
				" 34000280 14000180 08000100 c6336407 08000200 c0000201" +
				" 1c000280 05000100 21000000 06000200 01bb0000 06000300 a4120000" +
				" 08000700 0000001e 08000300 00000008" +
				" 18000480 14000280 05000100 04000000 05000200 01000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encoded(tt.encode)
			if err != nil {
				t.Fatal(err)
			}
			if want := hexBytes(t, tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %x\nwant %x", got, want)
			}
		})
	}
}

// TestEncodeCreateRoundTrip decodes what encodeCreate writes for entries
// of every protocol: the decoder reads back the entry, with the inverted
// reply tuple where none was given.
func TestEncodeCreateRoundTrip(t *testing.T) {
	for _, f := range createFlows() {
		t.Run(f.Proto+" "+f.Src.String(), func(t *testing.T) {
			f.Labels.Set(100)
			data, err := encoded(func(e *attrEncoder) error { return encodeCreate(e, &f) })
			if err != nil {
				t.Fatal(err)
			}
			var got engine.Flow
			if err := DecodeFlow(data, &got, time.Now()); err != nil {
				t.Fatal(err)
			}
			want := f
			want.SetStatus(f.Status | engine.StatusConfirmed)
			// A translated reply goes out untranslated, with the NAT
			// attributes (which the decoder skips).
			want.ReplySrc, want.ReplyDst, want.ReplySport, want.ReplyDport = f.Dst, f.Src, f.Dport, f.Sport
			if f.Has&engine.HasReply == 0 {
				want.ReplyICMPType, want.ReplyICMPCode, want.ReplyICMPID = f.ICMPType, f.ICMPCode, f.ICMPID
				if typ, ok := icmpReplyType(f.L3Num(), f.ProtoNum, f.ICMPType); ok {
					want.ReplyICMPType = typ
				}
			}
			want.Has |= engine.HasReply | engine.HasStatus | engine.HasTimeout | engine.HasMark | engine.HasLabels
			if f.Zone != 0 {
				want.Has |= engine.HasZone
			}
			if f.OrigZone != 0 {
				want.Has |= engine.HasOrigZone
			}
			if f.ReplyZone != 0 {
				want.Has |= engine.HasReplyZone
			}
			if f.Helper != "" {
				want.Has |= engine.HasHelper
			}
			if f.ProtoNum == engine.ProtoSCTP {
				want.Has |= engine.HasVtags
			}
			if f.Mark == 0 {
				want.Has &^= engine.HasMark
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// TestEncodeCreateNAT checks the NAT attributes of a create whose reply
// tuple is translated: both translations with ports, in the kernel's
// layout, and the reply tuple sent untranslated.
func TestEncodeCreateNAT(t *testing.T) {
	littleEndian(t)
	f := tcpFlow()
	f.Timeout = 300
	f.ReplySrc, f.ReplyDst = netip.MustParseAddr("192.0.2.80"), netip.MustParseAddr("203.0.113.5")
	f.ReplySport, f.ReplyDport, f.Has = 8080, 61001, engine.HasReply
	got, err := encoded(func(e *attrEncoder) error { return encodeCreate(e, &f) })
	if err != nil {
		t.Fatal(err)
	}
	want := hexBytes(t, "02000000 "+tcpTupleAttrs+" "+tcpReplyAttrs+
		// CTA_NAT_SRC: 203.0.113.5 port 61001.
		" 28000680 08000100 cb007105 08000200 cb007105 14000380 06000100 ee490000 06000200 ee490000"+
		// CTA_NAT_DST: 192.0.2.80 port 8080.
		" 28000d80 08000100 c0000250 08000200 c0000250 14000380 06000100 1f900000 06000200 1f900000"+
		" 08000700 0000012c 08000300 00000008")
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %x\nwant %x", got, want)
	}
}

func TestSplitNAT(t *testing.T) {
	a := netip.MustParseAddr
	tcp := tupleVals{src: a("192.0.2.1"), dst: a("198.51.100.7"), proto: engine.ProtoTCP, sport: 42002, dport: 443}
	v6 := tupleVals{src: a("2001:db8::1"), dst: a("2001:db8:1::7"), proto: engine.ProtoUDP, sport: 5000, dport: 53}
	icmp := tupleVals{src: a("192.0.2.1"), dst: a("198.51.100.7"), proto: engine.ProtoICMP, icmpType: 8, icmpID: 5}
	gre := tupleVals{src: a("192.0.2.1"), dst: a("198.51.100.7"), proto: engine.ProtoGRE, sport: 1, dport: 2}
	inverse := func(o tupleVals) tupleVals {
		r := o
		r.src, r.dst, r.sport, r.dport = o.dst, o.src, o.dport, o.sport
		if o.proto == engine.ProtoICMP {
			r.icmpType = 0
		}
		return r
	}
	with := func(o tupleVals, change func(r *tupleVals)) tupleVals {
		r := inverse(o)
		change(&r)
		return r
	}
	tests := []struct {
		name        string
		orig, reply tupleVals
		snat, dnat  natVals
	}{
		{"none", tcp, inverse(tcp), natVals{}, natVals{}},
		{"snat", tcp, with(tcp, func(r *tupleVals) { r.dst = a("203.0.113.5") }),
			natVals{addr: a("203.0.113.5")}, natVals{}},
		{"snat with port", tcp, with(tcp, func(r *tupleVals) { r.dst, r.dport = a("203.0.113.5"), 61001 }),
			natVals{addr: a("203.0.113.5"), port: 61001, hasPort: true}, natVals{}},
		{"source port only", tcp, with(tcp, func(r *tupleVals) { r.dport = 0 }),
			natVals{port: 0, hasPort: true}, natVals{}},
		{"dnat with port", tcp, with(tcp, func(r *tupleVals) { r.src, r.sport = a("192.0.2.80"), 8080 }),
			natVals{}, natVals{addr: a("192.0.2.80"), port: 8080, hasPort: true}},
		{"ipv6 both", v6, with(v6, func(r *tupleVals) { r.src, r.dst, r.sport = a("2001:db8:3::53"), a("2001:db8:2::5"), 5353 }),
			natVals{addr: a("2001:db8:2::5")}, natVals{addr: a("2001:db8:3::53"), port: 5353, hasPort: true}},
		{"icmp id", icmp, with(icmp, func(r *tupleVals) { r.dst, r.icmpID = a("203.0.113.5"), 9 }),
			natVals{addr: a("203.0.113.5"), port: 9, hasPort: true}, natVals{}},
		{"gre keys stay", gre, with(gre, func(r *tupleVals) { r.src, r.sport = a("192.0.2.80"), 7 }),
			natVals{}, natVals{addr: a("192.0.2.80")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reply := tt.reply
			snat, dnat, err := splitNAT(&tt.orig, &reply)
			if err != nil {
				t.Fatal(err)
			}
			if snat != tt.snat || dnat != tt.dnat {
				t.Errorf("snat %+v dnat %+v, want %+v %+v", snat, dnat, tt.snat, tt.dnat)
			}
			want := inverse(tt.orig)
			if tt.orig.proto == engine.ProtoGRE {
				want.sport = tt.reply.sport
			}
			if reply != want {
				t.Errorf("reply %+v, want the inverse %+v", reply, want)
			}
		})
	}
}

// TestEncodeCreateNATAllocs checks that encoding a translated entry into
// a buffer with room does not allocate.
func TestEncodeCreateNATAllocs(t *testing.T) {
	f := tcpFlow()
	f.Timeout = 300
	f.ReplySrc, f.ReplyDst = netip.MustParseAddr("2001:db8::80"), netip.MustParseAddr("2001:db8::5")
	f.Src, f.Dst, f.Family = netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("2001:db8::7"), "ipv6"
	f.ReplySport, f.ReplyDport, f.Has = 8080, 61001, engine.HasReply
	f.SetState(3)
	e := attrEncoder{b: make([]byte, 0, 1024)}
	if n := testing.AllocsPerRun(100, func() {
		e.b = e.b[:0]
		if err := encodeCreate(&e, &f); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("encodeCreate allocates %v times per flow", n)
	}
}

func TestICMPReplyType(t *testing.T) {
	tests := []struct {
		family, proto, typ, want int
		ok                       bool
	}{
		{engine.FamilyIPv4, engine.ProtoICMP, 8, 0, true},
		{engine.FamilyIPv4, engine.ProtoICMP, 0, 8, true},
		{engine.FamilyIPv4, engine.ProtoICMP, 13, 14, true},
		{engine.FamilyIPv4, engine.ProtoICMP, 16, 15, true},
		{engine.FamilyIPv4, engine.ProtoICMP, 17, 18, true},
		{engine.FamilyIPv4, engine.ProtoICMP, 3, 0, false},
		{engine.FamilyIPv6, engine.ProtoICMPv6, 128, 129, true},
		{engine.FamilyIPv6, engine.ProtoICMPv6, 140, 139, true},
		{engine.FamilyIPv6, engine.ProtoICMPv6, 1, 0, false},
		{engine.FamilyIPv6, engine.ProtoICMP, 8, 0, false},
		{engine.FamilyIPv4, engine.ProtoICMPv6, 128, 0, false},
	}
	for _, tt := range tests {
		if got, ok := icmpReplyType(tt.family, tt.proto, tt.typ); got != tt.want || ok != tt.ok {
			t.Errorf("icmpReplyType(%d, %d, %d) = %d, %v, want %d, %v", tt.family, tt.proto, tt.typ, got, ok, tt.want, tt.ok)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	ok := tcpFlow()
	ok.Timeout = 60
	v6 := netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name   string
		change func(f *engine.Flow)
		want   string
	}{
		{"no addresses", func(f *engine.Flow) { f.Family, f.Src, f.Dst = "", netip.Addr{}, netip.Addr{} }, "addresses of one family"},
		{"mixed families", func(f *engine.Flow) { f.Dst = v6 }, "addresses of one family"},
		{"no timeout", func(f *engine.Flow) { f.Timeout = 0 }, "needs a timeout"},
		{"port", func(f *engine.Flow) { f.Sport = 70000 }, "source port 70000 out of range"},
		{"protocol", func(f *engine.Flow) { f.ProtoNum = 256 }, "protocol number 256 out of range"},
		{"zone", func(f *engine.Flow) { f.Zone = 65536 }, "zone 65536 out of range"},
		{"tuple zone", func(f *engine.Flow) { f.OrigZone = -1 }, "zone -1 out of range"},
		{"mark", func(f *engine.Flow) { f.Mark = -1 }, "mark -1 out of range"},
		{"state", func(f *engine.Flow) { f.SetState(300) }, "state 300 out of range"},
		{"icmp without a reply type", func(f *engine.Flow) { f.SetProto(engine.ProtoICMP); f.ICMPType = 3 }, "icmp type 3 has no reply type"},
		{"reply of another family", func(f *engine.Flow) { f.ReplySrc, f.ReplyDst, f.Has = v6, v6, engine.HasReply }, "reply tuple needs"},
		{"reply port", func(f *engine.Flow) {
			f.ReplySrc, f.ReplyDst, f.ReplySport, f.Has = f.Dst, f.Src, -1, engine.HasReply
		}, "reply tuple: source port -1 out of range"},
		{"translated reply port", func(f *engine.Flow) {
			f.ReplySrc, f.ReplyDst, f.ReplyDport, f.Has = f.Dst, f.Src, 65536, engine.HasReply
		}, "reply tuple: destination port 65536 out of range"},
		{"translated icmp id", func(f *engine.Flow) {
			f.SetProto(engine.ProtoICMP)
			f.ICMPType, f.ReplySrc, f.ReplyDst, f.ReplyICMPID, f.Has = 8, f.Dst, f.Src, 1<<16, engine.HasReply
		}, "reply tuple: icmp id 65536 out of range"},
		{"reply gre key", func(f *engine.Flow) {
			f.SetProto(engine.ProtoGRE)
			f.ReplySrc, f.ReplyDst, f.ReplySport, f.Has = f.Dst, f.Src, -2, engine.HasReply
		}, "reply tuple: source port -2 out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := ok
			tt.change(&f)
			_, err := encoded(func(e *attrEncoder) error { return encodeCreate(e, &f) })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("encodeCreate = %v, want %q", err, tt.want)
			}
		})
	}
	if _, err := encoded(func(e *attrEncoder) error { return encodeCreate(e, &ok) }); err != nil {
		t.Errorf("encodeCreate(valid) = %v", err)
	}
	bad := ok
	bad.Dport = -1
	if _, err := encoded(func(e *attrEncoder) error { return encodeDelete(e, &bad) }); err == nil {
		t.Error("encodeDelete with port -1 succeeded")
	}
	if _, err := encoded(func(e *attrEncoder) error { return encodeUpdate(e, &bad, &engine.Change{SetMark: true}) }); err == nil {
		t.Error("encodeUpdate with port -1 succeeded")
	}
	untimed := ok
	untimed.Timeout = 0
	if _, err := encoded(func(e *attrEncoder) error { return encodeCreate(e, &untimed) }); !errors.Is(err, errNoTimeout) {
		t.Errorf("encodeCreate without a timeout = %v, want errNoTimeout", err)
	}
}

func TestEntryKeyString(t *testing.T) {
	tcp := tcpFlow()
	tcp.Zone, tcp.ID, tcp.Has = 3, 77, engine.HasID
	v6 := engine.Flow{ProtoNum: engine.ProtoUDP, Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"),
		Sport: 1, Dport: 2, OrigZone: 5}
	icmp := engine.Flow{ProtoNum: engine.ProtoICMP, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"),
		ICMPType: 8, ICMPID: 9}
	esp := engine.Flow{ProtoNum: 50, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2")}
	tests := []struct {
		f    engine.Flow
		want string
	}{
		{tcp, "tcp 192.0.2.1:42002 -> 198.51.100.7:443 zone 3 id 77"},
		{v6, "udp [2001:db8::1]:1 -> [2001:db8::2]:2 zone 5"},
		{icmp, "icmp 192.0.2.1 -> 192.0.2.2 type 8 code 0 id 9"},
		{esp, "unknown(50) 192.0.2.1 -> 192.0.2.2"},
	}
	for _, tt := range tests {
		if got := keyOf(&tt.f).String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
}
