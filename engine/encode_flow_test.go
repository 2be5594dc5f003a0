package engine

import (
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"
)

// encoded runs one of the request encoders on a fresh encoder.
func encoded(encode func(*attrEncoder) error) ([]byte, error) {
	var e attrEncoder
	err := encode(&e)
	return e.b, err
}

// tcpFlow is 192.0.2.1:42002 -> 198.51.100.7:443, the flow of tcpTuple.
func tcpFlow() Flow {
	return Flow{Family: "ipv4", ProtoNum: 6, Proto: "tcp", Src: netip.MustParseAddr("192.0.2.1"),
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
	del.Zone, del.ID, del.Has = 11, 0x01020304, HasID
	upd := tcpFlow()
	upd.ID, upd.Has = 0x01020304, HasID
	upd.SetStatus(IPS_SEEN_REPLY)
	var add, drop Labels
	add.Set(1)
	drop.Set(33)
	change := Change{SetTimeout: true, Timeout: 100, SetStatus: IPS_ASSURED, SetMark: true, Mark: 7,
		AddLabels: add, DelLabels: drop}
	create := tcpFlow()
	create.Timeout, create.Mark, create.Helper = 300, 3, "ftp"
	create.SetState(3)
	closing := tcpFlow()
	closing.Timeout, closing.Has = 0, HasTimeout
	closing.SetState(7) // TIME_WAIT
	sctp := tcpFlow()
	sctp.SetProto(IPPROTO_SCTP)
	sctp.Timeout, sctp.OrigVtag, sctp.ReplyVtag = 30, 0x01020304, 2
	sctp.SetState(4)
	dccp := tcpFlow()
	dccp.SetProto(IPPROTO_DCCP)
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
			var got Flow
			if err := DecodeFlow(data, &got, time.Now()); err != nil {
				t.Fatal(err)
			}
			want := f
			want.SetStatus(f.Status | IPS_CONFIRMED)
			if f.Has&HasReply == 0 {
				want.ReplySrc, want.ReplyDst, want.ReplySport, want.ReplyDport = f.Dst, f.Src, f.Dport, f.Sport
				want.ReplyICMPType, want.ReplyICMPCode, want.ReplyICMPID = f.ICMPType, f.ICMPCode, f.ICMPID
				if typ, ok := icmpReplyType(f.L3Num(), f.ProtoNum, f.ICMPType); ok {
					want.ReplyICMPType = typ
				}
			}
			want.Has |= HasReply | HasStatus | HasTimeout | HasMark | HasLabels
			if f.Zone != 0 {
				want.Has |= HasZone
			}
			if f.OrigZone != 0 {
				want.Has |= HasOrigZone
			}
			if f.ReplyZone != 0 {
				want.Has |= HasReplyZone
			}
			if f.Helper != "" {
				want.Has |= HasHelper
			}
			if f.ProtoNum == IPPROTO_SCTP {
				want.Has |= HasVtags
			}
			if f.Mark == 0 {
				want.Has &^= HasMark
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

func TestICMPReplyType(t *testing.T) {
	tests := []struct {
		family, proto, typ, want int
		ok                       bool
	}{
		{AF_INET, IPPROTO_ICMP, 8, 0, true},
		{AF_INET, IPPROTO_ICMP, 0, 8, true},
		{AF_INET, IPPROTO_ICMP, 13, 14, true},
		{AF_INET, IPPROTO_ICMP, 16, 15, true},
		{AF_INET, IPPROTO_ICMP, 17, 18, true},
		{AF_INET, IPPROTO_ICMP, 3, 0, false},
		{AF_INET6, IPPROTO_ICMPV6, 128, 129, true},
		{AF_INET6, IPPROTO_ICMPV6, 140, 139, true},
		{AF_INET6, IPPROTO_ICMPV6, 1, 0, false},
		{AF_INET6, IPPROTO_ICMP, 8, 0, false},
		{AF_INET, IPPROTO_ICMPV6, 128, 0, false},
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
		change func(f *Flow)
		want   string
	}{
		{"no addresses", func(f *Flow) { f.Family, f.Src, f.Dst = "", netip.Addr{}, netip.Addr{} }, "addresses of one family"},
		{"mixed families", func(f *Flow) { f.Dst = v6 }, "addresses of one family"},
		{"no timeout", func(f *Flow) { f.Timeout = 0 }, "needs a timeout"},
		{"port", func(f *Flow) { f.Sport = 70000 }, "source port 70000 out of range"},
		{"protocol", func(f *Flow) { f.ProtoNum = 256 }, "protocol number 256 out of range"},
		{"zone", func(f *Flow) { f.Zone = 65536 }, "zone 65536 out of range"},
		{"tuple zone", func(f *Flow) { f.OrigZone = -1 }, "zone -1 out of range"},
		{"mark", func(f *Flow) { f.Mark = -1 }, "mark -1 out of range"},
		{"state", func(f *Flow) { f.SetState(300) }, "state 300 out of range"},
		{"icmp without a reply type", func(f *Flow) { f.SetProto(IPPROTO_ICMP); f.ICMPType = 3 }, "icmp type 3 has no reply type"},
		{"reply of another family", func(f *Flow) { f.ReplySrc, f.ReplyDst, f.Has = v6, v6, HasReply }, "reply tuple needs"},
		{"reply port", func(f *Flow) {
			f.ReplySrc, f.ReplyDst, f.ReplySport, f.Has = f.Dst, f.Src, -1, HasReply
		}, "reply tuple: source port -1 out of range"},
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
	if _, err := encoded(func(e *attrEncoder) error { return encodeUpdate(e, &bad, &Change{SetMark: true}) }); err == nil {
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
	tcp.Zone, tcp.ID, tcp.Has = 3, 77, HasID
	v6 := Flow{ProtoNum: IPPROTO_UDP, Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"),
		Sport: 1, Dport: 2, OrigZone: 5}
	icmp := Flow{ProtoNum: IPPROTO_ICMP, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2"),
		ICMPType: 8, ICMPID: 9}
	esp := Flow{ProtoNum: 50, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("192.0.2.2")}
	tests := []struct {
		f    Flow
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
