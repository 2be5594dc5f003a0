//go:build linux

package ctnetlink

import (
	"encoding/binary"
	"encoding/hex"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"ctq/engine"
)

// Messages captured from a dump on Linux 6.18 (accounting and timestamps
// on): a TCP entry created with
//
//	-I -t 431999 -u SEEN_REPLY,ASSURED -m 42 -s 192.0.2.1 -d 198.51.100.7
//	   -p tcp --sport 42002 --dport 443 --state ESTABLISHED
//
// and an IPv6 SCTP entry (--orig-vtag 1 --reply-vtag 2).
const (
	capturedTCP = "02000000340001801400018008000100c000020108000200c63364071c000280050001000600000006000200" +
		"a41200000600030001bb0000340002801400018008000100c633640708000200c00002011c00028005000100" +
		"060000000600020001bb000006000300a4120000080003000000000e080008000000002a08000c00beccf2d2" +
		"08000b0000000001080007000006977e300004802c0001800500010003000000050002000000000005000300" +
		"00000000060004000a000000060005000a0000001c0009800c00010000000000000000000c00020000000000" +
		"000000001c000a800c00010000000000000000000c0002000000000000000000100014800c00010018eab7fe" +
		"228431f61c001880080001000000000008000200000000000800030000000000"
	capturedSCTP6 = "0a0000004c0001802c0001801400030020010db80000000000000000000000011400040020010db800000000" +
		"00000000000000021c00028005000100840000000600020003e8000006000300001600004c0002802c000180" +
		"1400030020010db80000000000000000000000021400040020010db80000000000000000000000011c000280" +
		"050001008400000006000200001600000600030003e800000800030000000008080008000000000008000c00" +
		"2601a9b208000b00000000010800070000000257200004801c00038005000100040000000800020001000000" +
		"08000300020000001c0009800c00010000000000000000000c00020000000000000000001c000a800c000100" +
		"00000000000000000c0002000000000000000000100014800c00010018eab7fe228551071c00188008000100" +
		"0000000008000200000000000800030000000000"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex: %v", err)
	}
	return b
}

// The test encoder builds conntrack messages with the request encoder plus
// the payload types only the kernel sends.

func (e *attrEncoder) u64(typ uint16, v uint64) {
	e.bytes(typ, binary.BigEndian.AppendUint64(nil, v))
}

// ctMsg builds a conntrack message of family af; fill adds the attributes.
func ctMsg(af uint8, fill func(e *attrEncoder)) []byte {
	e := newRequest(af)
	fill(e)
	return e.b
}

// putTuple adds a tuple nest with addresses, protocol and extra proto attrs.
func putTuple(e *attrEncoder, typ uint16, src, dst string, proto uint8, extra func(e *attrEncoder), zone int) {
	t := e.begin(typ)
	ip := e.begin(ctaTupleIP)
	e.addr(ctaIPv4Src, ctaIPv6Src, netip.MustParseAddr(src))
	e.addr(ctaIPv4Dst, ctaIPv6Dst, netip.MustParseAddr(dst))
	e.end(ip)
	p := e.begin(ctaTupleProto)
	e.u8(ctaProtoNum, proto)
	if extra != nil {
		extra(e)
	}
	e.end(p)
	if zone >= 0 {
		e.u16(ctaTupleZone, uint16(zone))
	}
	e.end(t)
}

func putPorts(sport, dport uint16) func(e *attrEncoder) {
	return func(e *attrEncoder) {
		e.u16(ctaProtoSrcPort, sport)
		e.u16(ctaProtoDstPort, dport)
	}
}

func putNested(e *attrEncoder, typ uint16, fill func()) {
	n := e.begin(typ)
	fill()
	e.end(n)
}

func putCounters(e *attrEncoder, typ uint16, packets, bytes uint64, old bool) {
	putNested(e, typ, func() {
		if old {
			e.u32(ctaCounters32Packets, uint32(packets))
			e.u32(ctaCounters32Bytes, uint32(bytes))
			return
		}
		e.u64(ctaCountersPackets, packets)
		e.u64(ctaCountersBytes, bytes)
	})
}

var testNow = time.Unix(1_790_000_000, 0)

// expectFlow builds an expected Flow: the function sets fields on a fresh
// Flow.
func expectFlow(set func(f *engine.Flow)) engine.Flow {
	var f engine.Flow
	set(&f)
	return f
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func TestDecodeFlow(t *testing.T) {
	start := time.Unix(0, 0x18eab7fe228431f6)
	tests := []struct {
		name string
		data []byte
		want engine.Flow
	}{{
		name: "captured tcp",
		data: mustHex(t, capturedTCP),
		want: expectFlow(func(f *engine.Flow) {
			f.SetFamily(engine.FamilyIPv4)
			f.SetProto(engine.ProtoTCP)
			f.Src, f.Dst, f.Sport, f.Dport = mustAddr("192.0.2.1"), mustAddr("198.51.100.7"), 42002, 443
			f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport = mustAddr("198.51.100.7"), mustAddr("192.0.2.1"), 443, 42002
			f.SetStatus(engine.StatusSeenReply | engine.StatusAssured | engine.StatusConfirmed)
			f.Mark, f.ID, f.Use, f.Timeout = 42, 0xbeccf2d2, 1, 431998
			f.SetState(3)
			f.SetCounters(0, 0, 0, 0)
			f.SetStart(start, testNow)
			f.Has |= engine.HasReply | engine.HasMark | engine.HasID | engine.HasUse | engine.HasTimeout
		}),
	}, {
		name: "captured sctp ipv6",
		data: mustHex(t, capturedSCTP6),
		want: expectFlow(func(f *engine.Flow) {
			f.SetFamily(engine.FamilyIPv6)
			f.SetProto(engine.ProtoSCTP)
			f.Src, f.Dst, f.Sport, f.Dport = mustAddr("2001:db8::1"), mustAddr("2001:db8::2"), 1000, 22
			f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport = mustAddr("2001:db8::2"), mustAddr("2001:db8::1"), 22, 1000
			f.SetStatus(engine.StatusConfirmed)
			f.ID, f.Use, f.Timeout = 0x2601a9b2, 1, 599
			f.SetState(4)
			f.OrigVtag, f.ReplyVtag = 1, 2
			f.SetCounters(0, 0, 0, 0)
			f.SetStart(time.Unix(0, 0x18eab7fe22855107), testNow)
			f.Has |= engine.HasReply | engine.HasMark | engine.HasID | engine.HasUse | engine.HasTimeout | engine.HasVtags
		}),
	}, {
		name: "icmp with zone, helper, labels, old counters, stop",
		data: ctMsg(engine.FamilyIPv4, func(e *attrEncoder) {
			putTuple(e, ctaTupleOrig, "192.0.2.1", "198.51.100.1", engine.ProtoICMP, func(e *attrEncoder) {
				e.u16(ctaProtoICMPID, 77)
				e.u8(ctaProtoICMPType, 8)
				e.u8(ctaProtoICMPCode, 0)
			}, -1)
			putTuple(e, ctaTupleReply, "198.51.100.1", "192.0.2.1", engine.ProtoICMP, func(e *attrEncoder) {
				e.u16(ctaProtoICMPID, 77)
				e.u8(ctaProtoICMPType, 0)
				e.u8(ctaProtoICMPCode, 0)
			}, -1)
			e.u32(ctaStatus, uint32(engine.StatusConfirmed|engine.StatusDying))
			e.u32(ctaTimeout, 29)
			e.u16(ctaZone, 11)
			putNested(e, ctaHelp, func() { e.bytes(ctaHelpName, []byte("ftp\x00")) })
			putCounters(e, ctaCountersOrig, 3, 252, true)
			putCounters(e, ctaCountersReply, 2, 168, true)
			putNested(e, ctaTimestamp, func() {
				e.u64(ctaTimestampStart, 1_789_999_990_000_000_000)
				e.u64(ctaTimestampStop, 1_789_999_995_000_000_000)
			})
			labels := binary.NativeEndian.AppendUint32(nil, 1<<3)
			labels = binary.NativeEndian.AppendUint32(labels, 0)
			labels = binary.NativeEndian.AppendUint32(labels, 1<<31)
			labels = binary.NativeEndian.AppendUint32(labels, 0)
			e.bytes(ctaLabels, labels)
			e.u32(ctaSecmark, 5)
			putNested(e, ctaSecctx, func() { e.bytes(ctaSecctxName, []byte("system_u:object_r:ssh_t:s0\x00")) })
		}),
		want: expectFlow(func(f *engine.Flow) {
			f.SetFamily(engine.FamilyIPv4)
			f.SetProto(engine.ProtoICMP)
			f.Src, f.Dst, f.ICMPType, f.ICMPCode, f.ICMPID = mustAddr("192.0.2.1"), mustAddr("198.51.100.1"), 8, 0, 77
			f.ReplySrc, f.ReplyDst, f.ReplyICMPType, f.ReplyICMPID = mustAddr("198.51.100.1"), mustAddr("192.0.2.1"), 0, 77
			f.SetStatus(engine.StatusConfirmed | engine.StatusDying)
			f.Timeout, f.Zone, f.Helper, f.Secmark, f.Secctx = 29, 11, "ftp", 5, "system_u:object_r:ssh_t:s0"
			f.SetCounters(3, 252, 2, 168)
			f.SetStart(time.Unix(1_789_999_990, 0), testNow)
			f.Stop = time.Unix(1_789_999_995, 0)
			f.Labels.Set(3)
			f.Labels.Set(95)
			f.Has |= engine.HasReply | engine.HasTimeout | engine.HasZone | engine.HasHelper | engine.HasStop | engine.HasLabels | engine.HasSecmark | engine.HasSecctx
		}),
	}, {
		name: "icmpv6, gre keys, directional zones, unknown attributes",
		data: ctMsg(engine.FamilyIPv6, func(e *attrEncoder) {
			putTuple(e, ctaTupleOrig, "2001:db8::10", "2001:db8::20", engine.ProtoICMPv6, func(e *attrEncoder) {
				e.u16(ctaProtoICMPv6ID, 99)
				e.u8(ctaProtoICMPv6Type, 128)
				e.u8(ctaProtoICMPv6Code, 1)
				e.u32(40, 7) // unknown proto attribute
			}, 5)
			putTuple(e, ctaTupleReply, "2001:db8::20", "2001:db8::10", engine.ProtoICMPv6, func(e *attrEncoder) {
				e.u16(ctaProtoICMPv6ID, 99)
				e.u8(ctaProtoICMPv6Type, 129)
				e.u8(ctaProtoICMPv6Code, 1)
			}, 6)
			e.u32(99, 1)                             // unknown top-level attribute
			e.bytes(ctaTupleMaster, []byte{1, 2, 3}) // ignored, even malformed
			putNested(e, ctaProtoinfo, func() { putNested(e, 9, func() {}) })
		}),
		want: expectFlow(func(f *engine.Flow) {
			f.SetFamily(engine.FamilyIPv6)
			f.SetProto(engine.ProtoICMPv6)
			f.Src, f.Dst, f.ICMPType, f.ICMPCode, f.ICMPID = mustAddr("2001:db8::10"), mustAddr("2001:db8::20"), 128, 1, 99
			f.ReplySrc, f.ReplyDst, f.ReplyICMPType, f.ReplyICMPCode, f.ReplyICMPID = mustAddr("2001:db8::20"), mustAddr("2001:db8::10"), 129, 1, 99
			f.OrigZone, f.ReplyZone = 5, 6
			f.Has |= engine.HasReply | engine.HasOrigZone | engine.HasReplyZone
		}),
	}, {
		name: "gre keys, dccp protoinfo, unknown protocol helper name",
		data: ctMsg(engine.FamilyIPv4, func(e *attrEncoder) {
			putTuple(e, ctaTupleOrig, "198.18.0.11", "198.18.0.12", engine.ProtoGRE, putPorts(5, 6), -1)
			putNested(e, ctaProtoinfo, func() {
				putNested(e, ctaProtoinfoDCCP, func() {
					e.u8(ctaProtoinfoDCCPState, 4)
					e.u8(ctaProtoinfoDCCPRole, 1)
				})
			})
			putNested(e, ctaHelp, func() { e.bytes(ctaHelpName, []byte("custom")) })
		}),
		want: expectFlow(func(f *engine.Flow) {
			f.SetFamily(engine.FamilyIPv4)
			f.SetProto(engine.ProtoGRE)
			f.Src, f.Dst, f.Sport, f.Dport = mustAddr("198.18.0.11"), mustAddr("198.18.0.12"), 5, 6
			f.SetState(4) // GRE has no state names: NONE
			f.DCCPRole, f.Helper = 1, "custom"
			f.Has |= engine.HasRole | engine.HasHelper
		}),
	}, {
		name: "reply tuple supplies the protocol, state after protoinfo order",
		data: ctMsg(engine.FamilyIPv4, func(e *attrEncoder) {
			putNested(e, ctaProtoinfo, func() {
				putNested(e, ctaProtoinfoTCP, func() { e.u8(ctaProtoinfoTCPState, 7) })
			})
			t := e.begin(ctaTupleOrig)
			e.end(t)
			putTuple(e, ctaTupleReply, "198.18.0.2", "198.18.0.1", engine.ProtoTCP, putPorts(2, 1), -1)
		}),
		want: expectFlow(func(f *engine.Flow) {
			f.SetFamily(engine.FamilyIPv4)
			f.SetProto(engine.ProtoTCP)
			f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport = mustAddr("198.18.0.2"), mustAddr("198.18.0.1"), 2, 1
			f.SetState(7)
			f.Has |= engine.HasReply
		}),
	}, {
		name: "unknown protocol, unknown family",
		data: ctMsg(7, func(e *attrEncoder) {
			putTuple(e, ctaTupleOrig, "198.18.0.13", "198.18.0.14", 50, nil, -1)
		}),
		want: expectFlow(func(f *engine.Flow) {
			f.SetFamily(7)
			f.SetProto(50)
			f.Src, f.Dst = mustAddr("198.18.0.13"), mustAddr("198.18.0.14")
		}),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got engine.Flow
			// A used Flow must come out as if fresh.
			got.Helper, got.Mark, got.Labels.Words[3] = "stale", 9, 1
			if err := DecodeFlow(tt.data, &got, testNow); err != nil {
				t.Fatalf("DecodeFlow: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("DecodeFlow:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestDecodeFlowErrors(t *testing.T) {
	tcp := mustHex(t, capturedTCP)
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "shorter than its nfgenmsg"},
		{"truncated", tcp[:len(tcp)-30], "truncated attribute"},
		{"attribute length below header", append([]byte{2, 0, 0, 0}, 2, 0, 3, 0), "truncated attribute"},
		{"attribute longer than message", append([]byte{2, 0, 0, 0}, 40, 0, 3, 0, 0, 0, 0, 0), "truncated attribute"},
		{"no original tuple", ctMsg(engine.FamilyIPv4, func(e *attrEncoder) { e.u32(ctaStatus, 8) }), "no original tuple"},
		{"short status", ctMsg(engine.FamilyIPv4, func(e *attrEncoder) { e.u16(ctaStatus, 8) }), "attribute 3: unexpected payload size 2"},
		{"bad ipv4 address", ctMsg(engine.FamilyIPv4, func(e *attrEncoder) {
			putNested(e, ctaTupleOrig, func() {
				putNested(e, ctaTupleIP, func() { e.bytes(ctaIPv4Src, []byte{1, 2, 3}) })
			})
		}), "original tuple: addresses: attribute 1: unexpected payload size 3"},
		{"bad labels", ctMsg(engine.FamilyIPv4, func(e *attrEncoder) { e.bytes(ctaLabels, []byte{1, 2, 3}) }), "labels"},
		{"bad counter", ctMsg(engine.FamilyIPv4, func(e *attrEncoder) {
			putNested(e, ctaCountersOrig, func() { e.u32(ctaCountersPackets, 1) })
		}), "counters"},
		{"bad timestamp", ctMsg(engine.FamilyIPv4, func(e *attrEncoder) {
			putNested(e, ctaTimestamp, func() { e.u32(ctaTimestampStart, 1) })
		}), "timestamp"},
		{"bad state", ctMsg(engine.FamilyIPv4, func(e *attrEncoder) {
			putNested(e, ctaProtoinfo, func() {
				putNested(e, ctaProtoinfoTCP, func() { e.u16(ctaProtoinfoTCPState, 1) })
			})
		}), "protoinfo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f engine.Flow
			err := DecodeFlow(tt.data, &f, testNow)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeFlow error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestDecodeFlowAllocs(t *testing.T) {
	data := mustHex(t, capturedTCP)
	var f engine.Flow
	allocs := testing.AllocsPerRun(100, func() {
		if err := DecodeFlow(data, &f, testNow); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("DecodeFlow allocates %v times per message, want 0", allocs)
	}
}

func BenchmarkDecodeFlow(b *testing.B) {
	data := mustHex(b, capturedTCP)
	var f engine.Flow
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if err := DecodeFlow(data, &f, testNow); err != nil {
			b.Fatal(err)
		}
	}
}

func FuzzDecodeFlow(f *testing.F) {
	f.Add(mustHex(f, capturedTCP))
	f.Add(mustHex(f, capturedSCTP6))
	f.Add(ctMsg(engine.FamilyIPv4, func(e *attrEncoder) {
		putTuple(e, ctaTupleOrig, "192.0.2.1", "198.51.100.1", engine.ProtoICMP, func(e *attrEncoder) {
			e.u8(ctaProtoICMPType, 8)
		}, 3)
		putNested(e, ctaHelp, func() { e.bytes(ctaHelpName, []byte("sip\x00")) })
		e.bytes(ctaLabels, make([]byte, 20))
	}))
	f.Add([]byte{2, 0, 0, 0, 4, 0, 1, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		var a, b engine.Flow
		errA := DecodeFlow(data, &a, testNow)
		errB := DecodeFlow(data, &b, testNow)
		if (errA == nil) != (errB == nil) || !reflect.DeepEqual(a, b) {
			t.Fatalf("DecodeFlow is not deterministic: %v / %v", errA, errB)
		}
		if errA != nil {
			return
		}
		if a.ProtoNum < 0 || a.ProtoNum > 255 || a.Proto == "" || a.Family == "" {
			t.Fatalf("decoded flow has no protocol or family: %+v", a)
		}
		if a.Packets != a.OrigPackets+a.ReplyPackets {
			t.Fatalf("packet sum mismatch: %+v", a)
		}
	})
}
