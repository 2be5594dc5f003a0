package wire

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	"ctq/engine"
)

// flowOf builds a kernel-like entry of any family and protocol, with the
// reply tuple the inverse of the original.
func flowOf(af, proto int, src, dst string, sport, dport int) engine.Flow {
	var f engine.Flow
	f.SetFamily(af)
	f.SetProto(proto)
	f.Src, f.Dst = a4(src), a4(dst)
	f.ReplySrc, f.ReplyDst = f.Dst, f.Src
	if engine.HasPorts(proto) {
		f.Sport, f.Dport = sport, dport
		f.ReplySport, f.ReplyDport = dport, sport
	}
	f.SetStatus(engine.StatusConfirmed | engine.StatusSeenReply | engine.StatusAssured)
	f.Timeout = 431999
	f.Has |= engine.HasReply | engine.HasTimeout
	return f
}

// roundTrip sends f through FromFlow, AppendMessage, Decode and ToFlow.
func roundTrip(t *testing.T, f *engine.Flow) engine.Flow {
	t.Helper()
	var c Conntrack
	c.FromFlow(f)
	b, err := AppendMessage(nil, &Message{Header: Header{Type: MsgCTUpdate, Seq: 7}, CT: &c})
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	ms := decodeAll(t, b)
	if len(ms) != 1 || ms[0].CT == nil {
		t.Fatalf("decoded %+v, want one CT message", ms)
	}
	if !reflect.DeepEqual(ms[0].CT, &c) {
		t.Errorf("wire value changed:\n%+v\nwant\n%+v", ms[0].CT, &c)
	}
	var got engine.Flow
	ms[0].CT.ToFlow(&got)
	return got
}

func TestFlowRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		flow func() engine.Flow
	}{
		{"tcp ipv4 mark", func() engine.Flow {
			f := flowOf(engine.FamilyIPv4, engine.ProtoTCP, "192.0.2.1", "198.51.100.2", 40000, 22)
			f.SetState(3)
			f.Mark, f.Has = 0xdeadbeef, f.Has|engine.HasMark
			return f
		}},
		{"tcp ipv6 labels helper zone", func() engine.Flow {
			f := flowOf(engine.FamilyIPv6, engine.ProtoTCP, "2001:db8::1", "2001:db8::2", 1024, 21)
			f.SetState(9)
			f.Labels.Set(0)
			f.Labels.Set(127)
			f.Labels.Set(45)
			f.Helper = "ftp"
			f.Zone = 65535
			f.Has |= engine.HasLabels | engine.HasHelper | engine.HasZone
			return f
		}},
		{"udp ipv4 snat port", func() engine.Flow {
			f := flowOf(engine.FamilyIPv4, engine.ProtoUDP, "192.0.2.10", "203.0.113.5", 5353, 53)
			f.SetStatus(engine.StatusConfirmed | engine.StatusSrcNAT | engine.StatusSrcNATDone | engine.StatusDstNATDone)
			f.ReplyDst, f.ReplyDport = a4("198.51.100.200"), 1
			return f
		}},
		{"udp ipv6 snat dnat", func() engine.Flow {
			f := flowOf(engine.FamilyIPv6, engine.ProtoUDP, "2001:db8::10", "2001:db8::20", 500, 4500)
			f.SetStatus(engine.StatusConfirmed | engine.StatusSrcNAT | engine.StatusDstNAT |
				engine.StatusSrcNATDone | engine.StatusDstNATDone)
			f.ReplySrc, f.ReplySport = a4("2001:db8:ffff::1"), 0xfffe
			f.ReplyDst, f.ReplyDport = a4("2001:db8:eeee::1"), 0x0102
			return f
		}},
		{"tcp dnat address only", func() engine.Flow {
			f := flowOf(engine.FamilyIPv4, engine.ProtoTCP, "192.0.2.1", "203.0.113.1", 33000, 80)
			f.SetState(2)
			f.SetStatus(engine.StatusConfirmed | engine.StatusDstNAT | engine.StatusSrcNATDone | engine.StatusDstNATDone)
			f.ReplySrc = a4("198.51.100.80")
			return f
		}},
		{"udplite", func() engine.Flow {
			return flowOf(engine.FamilyIPv4, engine.ProtoUDPLite, "198.18.0.1", "198.19.255.254", 65535, 1)
		}},
		{"icmp echo", func() engine.Flow {
			f := flowOf(engine.FamilyIPv4, engine.ProtoICMP, "192.0.2.1", "192.0.2.2", 0, 0)
			f.ICMPType, f.ICMPCode, f.ICMPID = 8, 0, 0xabcd
			f.ReplyICMPType, f.ReplyICMPCode, f.ReplyICMPID = 0, 0, 0xabcd
			return f
		}},
		{"icmp timestamp masqueraded", func() engine.Flow {
			f := flowOf(engine.FamilyIPv4, engine.ProtoICMP, "192.0.2.1", "198.51.100.7", 0, 0)
			f.SetStatus(engine.StatusConfirmed | engine.StatusSrcNAT | engine.StatusSrcNATDone | engine.StatusDstNATDone)
			f.ReplyDst = a4("203.0.113.9")
			f.ICMPType, f.ICMPCode, f.ICMPID = 13, 0, 1
			f.ReplyICMPType, f.ReplyICMPCode, f.ReplyICMPID = 14, 0, 1
			return f
		}},
		{"icmpv6 echo", func() engine.Flow {
			f := flowOf(engine.FamilyIPv6, engine.ProtoICMPv6, "2001:db8::1", "2001:db8::2", 0, 0)
			f.ICMPType, f.ICMPCode, f.ICMPID = 128, 0, 0x0102
			f.ReplyICMPType, f.ReplyICMPCode, f.ReplyICMPID = 129, 0, 0x0102
			return f
		}},
		{"sctp", func() engine.Flow {
			f := flowOf(engine.FamilyIPv4, engine.ProtoSCTP, "192.0.2.1", "192.0.2.2", 2905, 2905)
			f.SetState(4)
			f.OrigVtag, f.ReplyVtag = 0x01020304, 0xfffffffe
			f.Has |= engine.HasVtags
			return f
		}},
		{"dccp", func() engine.Flow {
			f := flowOf(engine.FamilyIPv6, engine.ProtoDCCP, "2001:db8::a", "2001:db8::b", 5004, 5005)
			f.SetState(4)
			f.DCCPRole = 1
			f.Has |= engine.HasRole
			return f
		}},
		{"gre keys", func() engine.Flow {
			f := flowOf(engine.FamilyIPv4, engine.ProtoGRE, "192.0.2.1", "192.0.2.2", 0x1234, 0x5678)
			f.Mark, f.Has = 1, f.Has|engine.HasMark
			return f
		}},
		{"no timeout, zero mark", func() engine.Flow {
			f := flowOf(engine.FamilyIPv4, engine.ProtoUDP, "192.0.2.1", "192.0.2.2", 1, 2)
			f.Timeout, f.Has = 0, f.Has&^engine.HasTimeout|engine.HasMark
			return f
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.flow()
			if got := roundTrip(t, &f); !reflect.DeepEqual(got, f) {
				t.Errorf("round trip\n%+v\nwant\n%+v", got, f)
			}
		})
	}
}

// TestFlowNotCarried checks what the protocol leaves out of a kernel entry.
func TestFlowNotCarried(t *testing.T) {
	f := flowOf(engine.FamilyIPv4, engine.ProtoTCP, "192.0.2.1", "192.0.2.2", 1000, 2000)
	f.SetState(3)
	want := f
	f.SetCounters(1, 2, 3, 4)
	f.ID, f.Use, f.Secmark, f.Secctx = 99, 2, 5, "system_u:object_r:unlabeled_t:s0"
	f.Has |= engine.HasID | engine.HasUse | engine.HasSecmark | engine.HasSecctx
	f.OrigZone, f.ReplyZone = 3, 4
	f.Has |= engine.HasOrigZone | engine.HasReplyZone
	f.Helper = "a-very-long-helper"
	f.Has |= engine.HasHelper
	if got := roundTrip(t, &f); !reflect.DeepEqual(got, want) {
		t.Errorf("round trip\n%+v\nwant\n%+v", got, want)
	}
}

// TestToFlowWireOnly checks the conversion of attributes FromFlow never
// produces: master tuple, sequence adjustment, window scale, synproxy and
// labels beyond the kernel's 128 bits stay in the wire value only.
func TestToFlowWireOnly(t *testing.T) {
	c := Conntrack{
		Attrs: CTAttrs(0).With(AttrIPv6, AttrL4Proto, AttrPort, AttrTCPState, AttrTCPWscaleOrig,
			AttrTCPWscaleReply, AttrMasterIPv6, AttrMasterL4Proto, AttrMasterPort,
			AttrNATSeqAdj, AttrSynproxy, AttrLabels),
		Orig:          Tuple{Src: a4("2001:db8::1"), Dst: a4("2001:db8::2"), Proto: 6, Sport: 20, Dport: 40000},
		TCPState:      1,
		TCPWScaleOrig: 7, TCPWScaleReply: 14,
		Master:   Tuple{Src: a4("2001:db8::1"), Dst: a4("2001:db8::2"), Proto: 6, Sport: 40001, Dport: 21},
		SeqAdj:   NATSeqAdj{1, 2, 3, 4, 5, 6},
		Synproxy: Synproxy{ITS: 1, ISN: 2, TSOff: 3},
		Labels:   []uint32{1, 0, 0, 0x80000000, 0xffffffff},
	}
	b, err := AppendMessage(nil, &Message{Header: Header{Type: MsgCTNew}, CT: &c})
	if err != nil {
		t.Fatal(err)
	}
	ms := decodeAll(t, b)
	if !reflect.DeepEqual(ms[0].CT, &c) {
		t.Fatalf("decoded\n%+v\nwant\n%+v", ms[0].CT, &c)
	}
	var f engine.Flow
	ms[0].CT.ToFlow(&f)
	want := flowOf(engine.FamilyIPv6, engine.ProtoTCP, "2001:db8::1", "2001:db8::2", 20, 40000)
	want.Status, want.Assured, want.SeenReply, want.Confirmed = 0, false, false, false
	want.Timeout = 0
	want.Has = engine.HasReply | engine.HasLabels
	want.SetState(1)
	want.Labels.Words = [4]uint32{1, 0, 0, 0x80000000}
	if !reflect.DeepEqual(f, want) {
		t.Errorf("ToFlow\n%+v\nwant\n%+v", f, want)
	}
}

func TestICMPReplyType(t *testing.T) {
	tests := []struct {
		proto int
		in    uint8
		want  uint8
	}{
		{engine.ProtoICMP, 8, 0},
		{engine.ProtoICMP, 0, 8},
		{engine.ProtoICMP, 17, 18},
		{engine.ProtoICMP, 3, 3},
		{engine.ProtoICMPv6, 129, 128},
		{engine.ProtoICMPv6, 139, 140},
		{engine.ProtoICMPv6, 8, 8},
	}
	for _, tc := range tests {
		if got := icmpReplyType(tc.proto, tc.in); got != tc.want {
			t.Errorf("icmpReplyType(%d, %d) = %d, want %d", tc.proto, tc.in, got, tc.want)
		}
	}
}

// TestVtagByteOrder checks that the verification tags travel as the
// kernel's bytes, which engine.Flow reads in host order.
func TestVtagByteOrder(t *testing.T) {
	f := flowOf(engine.FamilyIPv4, engine.ProtoSCTP, "192.0.2.1", "192.0.2.2", 1, 2)
	f.SetState(4)
	f.OrigVtag, f.ReplyVtag = 1, 0x0a0b0c0d
	f.Has |= engine.HasVtags
	var c Conntrack
	c.FromFlow(&f)
	for _, v := range []struct {
		wire uint32
		flow int
	}{{c.SCTPVtagOrig, f.OrigVtag}, {c.SCTPVtagReply, f.ReplyVtag}} {
		wire := binary.BigEndian.AppendUint32(nil, v.wire)
		kernel := binary.NativeEndian.AppendUint32(nil, uint32(v.flow))
		if !bytes.Equal(wire, kernel) {
			t.Errorf("vtag %d travels as %x, want the kernel's bytes %x", v.flow, wire, kernel)
		}
	}
}
