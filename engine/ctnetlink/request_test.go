//go:build linux

package ctnetlink

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"ctq/engine"
)

// littleEndian guards the tests that compare against literal bytes: netlink
// attribute headers and the CTA_FILTER flags are in host byte order.
func littleEndian(t *testing.T) {
	t.Helper()
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("expected bytes are written for a little-endian host")
	}
}

// hexBytes decodes hex with spaces between groups.
func hexBytes(t *testing.T, s string) []byte {
	t.Helper()
	return mustHex(t, strings.ReplaceAll(s, " ", ""))
}

var allSupported = engine.FilterSupport{Family: true, Mark: true, Status: true, Zone: true, Tuple: true}

func TestEncodeDump(t *testing.T) {
	littleEndian(t)
	tests := []struct {
		name   string
		table  engine.Table
		filter *engine.KernelFilter
		want   []string // one request per pass
	}{{
		name:  "no filter",
		table: engine.TableConntrack,
		want:  []string{"00000000"},
	}, {
		name:  "family, mark, status and zone",
		table: engine.TableConntrack,
		filter: &engine.KernelFilter{Family: engine.FamilyIPv4, Mark: 42, MarkMask: 0xff,
			Status: engine.StatusSeenReply, StatusMask: engine.StatusSeenReply, Zone: 7, ZoneSet: true},
		want: []string{"02000000" +
			" 08000800 0000002a" + // CTA_MARK 42
			" 08001500 000000ff" + // CTA_MARK_MASK
			" 08000300 00000002" + // CTA_STATUS
			" 08001a00 00000002" + // CTA_STATUS_MASK
			" 06001200 00070000"}, // CTA_ZONE 7, padded
	}, {
		name:  "dying table takes the family only",
		table: engine.TableDying,
		filter: &engine.KernelFilter{Family: engine.FamilyIPv6, MarkMask: 1,
			Orig: engine.TupleFilter{Fields: engine.TupleProto, Proto: 6}},
		want: []string{"0a000000"},
	}, {
		name:  "ipv4 source, tcp dport, reply protocol: family from the address",
		table: engine.TableConntrack,
		filter: &engine.KernelFilter{
			Orig: engine.TupleFilter{
				Fields: engine.TupleSrc | engine.TupleProto | engine.TupleDport,
				Src:    netip.MustParseAddr("192.0.2.1"), Proto: 6, Dport: 22,
			},
			Reply: engine.TupleFilter{Fields: engine.TupleProto, Proto: 6},
		},
		want: []string{"02000000" +
			" 24000180" + // CTA_TUPLE_ORIG
			" 0c000180 08000100 c0000201" + // CTA_TUPLE_IP, CTA_IP_V4_SRC
			" 14000280 05000100 06000000 06000300 00160000" + // CTA_TUPLE_PROTO: num 6, dport 22
			" 10000280" + // CTA_TUPLE_REPLY
			" 0c000280 05000100 06000000" + // CTA_TUPLE_PROTO: num 6
			" 14001980" + // CTA_FILTER
			" 08000100 29000000" + // CTA_FILTER_ORIG_FLAGS, host order
			" 08000200 08000000"}, // CTA_FILTER_REPLY_FLAGS
	}, {
		name:  "udp sport without family: one dump per family",
		table: engine.TableConntrack,
		filter: &engine.KernelFilter{Orig: engine.TupleFilter{
			Fields: engine.TupleProto | engine.TupleSport, Proto: 17, Sport: 53}},
		want: []string{
			"02000000 18000180 14000280 05000100 11000000 06000200 00350000 0c001980 08000100 18000000",
			"0a000000 18000180 14000280 05000100 11000000 06000200 00350000 0c001980 08000100 18000000",
		},
	}, {
		name:  "icmpv6 echo request",
		table: engine.TableConntrack,
		filter: &engine.KernelFilter{Family: engine.FamilyIPv6, Orig: engine.TupleFilter{
			Fields: engine.TupleProto | engine.TupleICMPType | engine.TupleICMPID,
			Proto:  58, ICMPType: 128, ICMPID: 99}},
		want: []string{"0a000000" +
			" 20000180 1c000280" +
			" 05000100 3a000000" + // CTA_PROTO_NUM 58
			" 05000800 80000000" + // CTA_PROTO_ICMPV6_TYPE 128
			" 06000700 00630000" + // CTA_PROTO_ICMPV6_ID 99
			" 0c001980 08000100 080a0000"}, // PROTO_NUM|ICMPV6_TYPE|ICMPV6_ID
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := planDump(tt.table, tt.filter, allSupported)
			if len(plan.families) != len(tt.want) {
				t.Fatalf("%d passes (%v), want %d", len(plan.families), plan.families, len(tt.want))
			}
			for i, fam := range plan.families {
				got := encodeDump(&plan, fam)
				if want := hexBytes(t, tt.want[i]); !reflect.DeepEqual(got, want) {
					t.Errorf("pass %d:\n got %x\nwant %x", i, got, want)
				}
			}
		})
	}
}

func TestPlanDump(t *testing.T) {
	v4 := netip.MustParseAddr("198.18.0.1")
	v6 := netip.MustParseAddr("2001:db8::1")
	const (
		num   = engine.TupleProto
		sport = engine.TupleSport
		dport = engine.TupleDport
		src   = engine.TupleSrc
		dst   = engine.TupleDst
	)
	tests := []struct {
		name      string
		table     engine.Table
		sup       engine.FilterSupport
		filter    *engine.KernelFilter
		pushed    engine.KernelFilter
		families  []int
		tupleFam  int
		hasFilter bool
	}{{
		name: "nil filter", sup: allSupported,
		families: []int{engine.FamilyUnspec},
	}, {
		name: "zone 0 is not pushed (the kernel reads it as any zone)", sup: allSupported,
		filter:   &engine.KernelFilter{ZoneSet: true, Zone: 0, MarkMask: 3, Mark: 1},
		pushed:   engine.KernelFilter{MarkMask: 3, Mark: 1},
		families: []int{engine.FamilyUnspec},
	}, {
		name: "nothing supported", sup: engine.FilterSupport{},
		filter:   &engine.KernelFilter{Family: engine.FamilyIPv4, MarkMask: 1, ZoneSet: true, Zone: 3},
		families: []int{engine.FamilyUnspec},
	}, {
		name: "old kernel: family and mark only", sup: engine.FilterSupport{Family: true, Mark: true},
		filter: &engine.KernelFilter{Family: engine.FamilyIPv6, MarkMask: 1, StatusMask: engine.StatusAssured, ZoneSet: true, Zone: 3,
			Orig: engine.TupleFilter{Fields: num, Proto: 6}},
		pushed:   engine.KernelFilter{Family: engine.FamilyIPv6, MarkMask: 1},
		families: []int{engine.FamilyIPv6},
	}, {
		name: "unreplied status", sup: allSupported,
		filter:   &engine.KernelFilter{Status: 0, StatusMask: engine.StatusSeenReply},
		pushed:   engine.KernelFilter{Status: 0, StatusMask: engine.StatusSeenReply},
		families: []int{engine.FamilyUnspec},
	}, {
		name: "unreplied status on the unconfirmed table", table: engine.TableUnconfirmed, sup: allSupported,
		filter:   &engine.KernelFilter{StatusMask: engine.StatusSeenReply},
		families: []int{engine.FamilyUnspec},
	}, {
		name: "sctp ports are not compared by the kernel", sup: allSupported,
		filter:   &engine.KernelFilter{Orig: engine.TupleFilter{Fields: num | dport, Proto: 132, Dport: 80}},
		pushed:   engine.KernelFilter{Orig: engine.TupleFilter{Fields: num, Proto: 132}},
		families: []int{engine.FamilyIPv4, engine.FamilyIPv6}, hasFilter: true,
	}, {
		name: "ordered: no split by family, the tuple filter stays in userspace", sup: allSupported,
		filter:   &engine.KernelFilter{Ordered: true, MarkMask: 0xffffffff, Mark: 1, Orig: engine.TupleFilter{Fields: num | dport, Proto: 6, Dport: 22}},
		pushed:   engine.KernelFilter{MarkMask: 0xffffffff, Mark: 1},
		families: []int{engine.FamilyUnspec},
	}, {
		name: "ordered with a known family keeps the tuple filter", sup: allSupported,
		filter:   &engine.KernelFilter{Ordered: true, Family: engine.FamilyIPv4, Orig: engine.TupleFilter{Fields: num | dport, Proto: 6, Dport: 22}},
		pushed:   engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{Fields: num | dport, Proto: 6, Dport: 22}},
		families: []int{engine.FamilyIPv4}, hasFilter: true,
	}, {
		name: "ports need the protocol", sup: allSupported,
		filter:   &engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{Fields: sport | dport, Sport: 1, Dport: 2}},
		pushed:   engine.KernelFilter{Family: engine.FamilyIPv4},
		families: []int{engine.FamilyIPv4},
	}, {
		name: "ipv6 addresses are not pushed but fix the family", sup: allSupported,
		filter: &engine.KernelFilter{Orig: engine.TupleFilter{Fields: src | num | dport, Src: v6, Proto: 6, Dport: 22},
			Reply: engine.TupleFilter{Fields: dst, Dst: v6}},
		pushed:   engine.KernelFilter{Orig: engine.TupleFilter{Fields: num | dport, Proto: 6, Dport: 22}},
		families: []int{engine.FamilyUnspec}, tupleFam: engine.FamilyIPv6, hasFilter: true,
	}, {
		name: "ipv4 reply destination", sup: allSupported,
		filter:   &engine.KernelFilter{Reply: engine.TupleFilter{Fields: dst, Dst: v4}},
		pushed:   engine.KernelFilter{Reply: engine.TupleFilter{Fields: dst, Dst: v4}},
		families: []int{engine.FamilyUnspec}, tupleFam: engine.FamilyIPv4, hasFilter: true,
	}, {
		name: "address of the other family than asked", sup: allSupported,
		filter:   &engine.KernelFilter{Family: engine.FamilyIPv6, Orig: engine.TupleFilter{Fields: src, Src: v4}},
		pushed:   engine.KernelFilter{Family: engine.FamilyIPv6},
		families: []int{engine.FamilyIPv6},
	}, {
		name: "icmp: untrackable type dropped, flags of the family", sup: allSupported,
		filter: &engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{
			Fields: num | engine.TupleICMPv6Type | engine.TupleICMPCode,
			Proto:  1, ICMPType: 3, ICMPCode: 1}},
		pushed: engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{
			Fields: num | engine.TupleICMPCode, Proto: 1, ICMPCode: 1}},
		families: []int{engine.FamilyIPv4}, hasFilter: true,
	}, {
		name: "icmp fields without a family are not pushed", sup: allSupported,
		filter: &engine.KernelFilter{Orig: engine.TupleFilter{
			Fields: num | engine.TupleICMPType, Proto: 1, ICMPType: 8}},
		pushed:   engine.KernelFilter{Orig: engine.TupleFilter{Fields: num, Proto: 1}},
		families: []int{engine.FamilyIPv4, engine.FamilyIPv6}, hasFilter: true,
	}, {
		name: "tuple zone is not pushed", sup: allSupported,
		filter:   &engine.KernelFilter{Orig: engine.TupleFilter{Fields: engine.TupleZone, Zone: 4}},
		families: []int{engine.FamilyUnspec},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := planDump(tt.table, tt.filter, tt.sup)
			if !reflect.DeepEqual(p.pushed, tt.pushed) {
				t.Errorf("pushed %+v\n want %+v", p.pushed, tt.pushed)
			}
			if !reflect.DeepEqual(p.families, tt.families) || p.tupleFamily != tt.tupleFam {
				t.Errorf("families %v (tuple family %d), want %v (%d)", p.families, p.tupleFamily, tt.families, tt.tupleFam)
			}
			if p.hasTuple() != tt.hasFilter {
				t.Errorf("hasTuple = %v, want %v", p.hasTuple(), tt.hasFilter)
			}
			if tt.hasFilter {
				w := p.withoutTuple()
				if w.hasTuple() || w.tupleFamily != engine.FamilyUnspec || len(w.families) != 1 || w.families[0] != tt.pushed.Family {
					t.Errorf("withoutTuple = %+v", w)
				}
			}
		})
	}
}

func TestEncodeGet(t *testing.T) {
	littleEndian(t)
	tcp := engine.Flow{Family: "ipv4", ProtoNum: 6, Src: netip.MustParseAddr("192.0.2.1"),
		Dst: netip.MustParseAddr("198.51.100.7"), Sport: 42002, Dport: 443}
	tcpZone := tcp
	tcpZone.Zone = 11
	origZone := tcp
	origZone.Family, origZone.OrigZone = "", 5
	icmp := engine.Flow{ProtoNum: 1, Src: netip.MustParseAddr("192.0.2.1"),
		Dst: netip.MustParseAddr("192.0.2.2"), ICMPType: 8, ICMPID: 77}
	icmp6 := engine.Flow{Family: "ipv6", ProtoNum: 58, Src: netip.MustParseAddr("2001:db8::1"),
		Dst: netip.MustParseAddr("2001:db8::2"), ICMPType: 128, ICMPCode: 0, ICMPID: 1}
	other := engine.Flow{Family: "ipv4", ProtoNum: 50, Src: netip.MustParseAddr("198.18.0.13"),
		Dst: netip.MustParseAddr("198.18.0.14")}
	const tcpTuple = "02000000 34000180" +
		" 14000180 08000100 c0000201 08000200 c6336407" +
		" 1c000280 05000100 06000000 06000200 a4120000 06000300 01bb0000"
	tests := []struct {
		name string
		key  *engine.Flow
		want string
	}{
		{"tcp", &tcp, tcpTuple},
		{"tcp in zone 11", &tcpZone, tcpTuple + " 06001200 000b0000"},
		{"directional zone, family from the address", &origZone, tcpTuple + " 06001200 00050000"},
		{"icmp", &icmp, "02000000 3c000180" +
			" 14000180 08000100 c0000201 08000200 c0000202" +
			" 24000280 05000100 01000000 05000500 08000000 05000600 00000000 06000400 004d0000"},
		{"icmpv6", &icmp6, "0a000000 54000180" +
			" 2c000180 14000300 20010db8000000000000000000000001 14000400 20010db8000000000000000000000002" +
			" 24000280 05000100 3a000000 05000800 80000000 05000900 00000000 06000700 00010000"},
		{"protocol without ports", &other, "02000000 24000180" +
			" 14000180 08000100 c612000d 08000200 c612000e" +
			" 0c000280 05000100 32000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := encodeGet(tt.key)
			if err != nil {
				t.Fatal(err)
			}
			if want := hexBytes(t, tt.want); !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %x\nwant %x", got, want)
			}
		})
	}
}

func TestEncodeGetErrors(t *testing.T) {
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	for _, key := range []engine.Flow{
		{},
		{Src: v4},
		{Src: v4, Dst: v6},
		{Family: "ipv6", Src: v4, Dst: v4},
		{Src: v4, Dst: v4, ProtoNum: 300},
	} {
		if b, err := encodeGet(&key); err == nil {
			t.Errorf("encodeGet(%+v) = %s, want an error", key, hex.EncodeToString(b))
		}
	}
}

func TestAttrEncoderNesting(t *testing.T) {
	littleEndian(t)
	e := newRequest(engine.FamilyIPv4)
	outer := e.begin(1)
	inner := e.begin(2)
	e.u8(3, 0xaa)
	e.end(inner)
	e.bytes(4, []byte{1, 2, 3, 4, 5})
	e.end(outer)
	want := hexBytes(t, "02000000 1c000180 0c000280 05000300 aa000000 09000400 0102030405000000")
	if !reflect.DeepEqual(e.b, want) {
		t.Errorf("\n got %x\nwant %x", e.b, want)
	}
	// What the encoder writes, the decoder's walker reads back.
	typ, val, rest, err := nextAttr(e.b[nfgenmsgLen:])
	if err != nil || typ != 1 || len(rest) != 0 || len(val) != 24 {
		t.Fatalf("nextAttr = %d, %x, %x, %v", typ, val, rest, err)
	}
}
