package wire

import (
	"bytes"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"ctq/engine"
)

// kernelFTPExpect is an expectation as the kernel reports one of the ftp helper
// (passive mode: any source port, data port 50000).
func kernelFTPExpect() engine.Expect {
	e := engine.Expect{
		Family: "ipv4", Proto: "tcp", ProtoNum: engine.ProtoTCP,
		Src: a4("192.0.2.1"), Dst: a4("192.0.2.2"), Dport: 50000,
		MaskSrc: a4("255.255.255.255"), MaskDst: a4("255.255.255.255"), MaskDport: 0xffff,
		MasterProto: "tcp", MasterProtoNum: engine.ProtoTCP,
		MasterSrc: a4("192.0.2.1"), MasterDst: a4("192.0.2.2"), MasterSport: 41234, MasterDport: 21,
		Timeout: 299, ID: 77, Zone: 0, Helper: "ftp", Class: 0,
		Has: engine.HasExpTimeout | engine.HasExpID | engine.HasExpHelper | engine.HasExpClass |
			engine.HasExpMask | engine.HasExpMaster,
	}
	e.SetFlags(0)
	return e
}

// roundTripExpect sends e through FromExpect, AppendMessage, Decode and
// ToExpect, and returns the wire form and the result.
func roundTripExpect(t *testing.T, e *engine.Expect) (Expect, engine.Expect) {
	t.Helper()
	var x Expect
	x.FromExpect(e)
	b, err := AppendMessage(nil, &Message{Header: Header{Type: MsgExpNew, Seq: 9}, Exp: &x})
	if err != nil {
		t.Fatalf("encode: %v", err)
	}
	ms := decodeAll(t, b)
	if len(ms) != 1 || ms[0].Exp == nil {
		t.Fatalf("decoded %+v, want one EXP message", ms)
	}
	if !reflect.DeepEqual(ms[0].Exp, &x) {
		t.Errorf("wire value changed:\n%+v\nwant\n%+v", ms[0].Exp, &x)
	}
	var got engine.Expect
	ms[0].Exp.ToExpect(&got)
	return x, got
}

func TestExpectRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   func() engine.Expect
		// want is what arrives: in, less what the protocol does not carry.
		want  func(e *engine.Expect)
		attrs []ExpAttr
	}{
		{"ftp ipv4", kernelFTPExpect, func(e *engine.Expect) {
			e.ID, e.Has = 0, e.Has&^engine.HasExpID
		}, []ExpAttr{ExpAttrMasterIPv4, ExpAttrMasterL4Proto, ExpAttrMasterPort,
			ExpAttrExpectIPv4, ExpAttrExpectL4Proto, ExpAttrExpectPort,
			ExpAttrMaskIPv4, ExpAttrMaskL4Proto, ExpAttrMaskPort,
			ExpAttrTimeout, ExpAttrFlags, ExpAttrClass, ExpAttrHelperName}},
		{"udp ipv6 zone fn flags, no timeout", func() engine.Expect {
			e := kernelFTPExpect()
			e.Family, e.Proto, e.ProtoNum = "ipv6", "udp", engine.ProtoUDP
			e.MasterProto, e.MasterProtoNum = "udp", engine.ProtoUDP
			e.Src, e.Dst = a4("2001:db8::1"), a4("2001:db8::2")
			e.MasterSrc, e.MasterDst = e.Src, e.Dst
			e.MaskSrc, e.MaskDst = a4("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"), a4("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
			e.Sport, e.MaskSport = 5060, 0xffff
			e.Zone, e.Has = 3, e.Has|engine.HasExpZone
			e.Has &^= engine.HasExpTimeout
			e.Timeout = 0
			e.Helper, e.Fn = "sip", "nat-follow-master"
			e.Has |= engine.HasExpFn
			e.SetFlags(engine.ExpectPermanent | engine.ExpectInactive)
			return e
		}, func(e *engine.Expect) {
			e.ID, e.Zone = 0, 0
			e.Has &^= engine.HasExpID | engine.HasExpZone
		}, []ExpAttr{ExpAttrMasterIPv6, ExpAttrMasterL4Proto, ExpAttrMasterPort,
			ExpAttrExpectIPv6, ExpAttrExpectL4Proto, ExpAttrExpectPort,
			ExpAttrMaskIPv6, ExpAttrMaskL4Proto, ExpAttrMaskPort,
			ExpAttrFlags, ExpAttrClass, ExpAttrHelperName, ExpAttrFn}},
		{"nat (kernel nf_nat_ftp, active mode)", func() engine.Expect {
			e := kernelFTPExpect()
			e.Fn, e.Has = "nat-follow-master", e.Has|engine.HasExpFn|engine.HasExpNAT
			e.NATDir, e.NATProtoNum = 1, engine.ProtoTCP
			e.NATSrc, e.NATDst, e.NATSport = a4("0.0.0.0"), a4("0.0.0.0"), 50000
			return e
		}, func(e *engine.Expect) {
			e.ID, e.Has = 0, e.Has&^engine.HasExpID
		}, []ExpAttr{ExpAttrMasterIPv4, ExpAttrMasterL4Proto, ExpAttrMasterPort,
			ExpAttrExpectIPv4, ExpAttrExpectL4Proto, ExpAttrExpectPort,
			ExpAttrMaskIPv4, ExpAttrMaskL4Proto, ExpAttrMaskPort,
			ExpAttrTimeout, ExpAttrFlags, ExpAttrClass,
			ExpAttrNATIPv4, ExpAttrNATL4Proto, ExpAttrNATPort, ExpAttrNATDir,
			ExpAttrHelperName, ExpAttrFn}},
		{"nat without destination: sent as 0.0.0.0", func() engine.Expect {
			e := kernelFTPExpect()
			e.Has |= engine.HasExpNAT
			e.NATProtoNum, e.NATSrc, e.NATSport, e.NATDport = engine.ProtoTCP, a4("198.51.100.7"), 2121, 0
			return e
		}, func(e *engine.Expect) {
			e.ID, e.Has = 0, e.Has&^engine.HasExpID
			e.NATDst = a4("0.0.0.0")
		}, []ExpAttr{ExpAttrMasterIPv4, ExpAttrMasterL4Proto, ExpAttrMasterPort,
			ExpAttrExpectIPv4, ExpAttrExpectL4Proto, ExpAttrExpectPort,
			ExpAttrMaskIPv4, ExpAttrMaskL4Proto, ExpAttrMaskPort,
			ExpAttrTimeout, ExpAttrFlags, ExpAttrClass,
			ExpAttrNATIPv4, ExpAttrNATL4Proto, ExpAttrNATPort, ExpAttrNATDir,
			ExpAttrHelperName}},
		{"ipv6 nat tuple: left out", func() engine.Expect {
			e := kernelFTPExpect()
			e.Has |= engine.HasExpNAT
			e.NATProtoNum, e.NATSrc, e.NATDst, e.NATSport = engine.ProtoTCP, a4("2001:db8::1"), a4("::"), 50000
			return e
		}, func(e *engine.Expect) {
			e.ID, e.Has = 0, e.Has&^(engine.HasExpID|engine.HasExpNAT)
			e.NATProtoNum, e.NATSrc, e.NATDst, e.NATSport = 0, netip.Addr{}, netip.Addr{}, 0
		}, []ExpAttr{ExpAttrMasterIPv4, ExpAttrMasterL4Proto, ExpAttrMasterPort,
			ExpAttrExpectIPv4, ExpAttrExpectL4Proto, ExpAttrExpectPort,
			ExpAttrMaskIPv4, ExpAttrMaskL4Proto, ExpAttrMaskPort,
			ExpAttrTimeout, ExpAttrFlags, ExpAttrClass, ExpAttrHelperName}},
		{"gre master: no ports, long helper dropped, no class", func() engine.Expect {
			e := kernelFTPExpect()
			e.Proto, e.ProtoNum = "gre", engine.ProtoGRE
			e.MasterProto, e.MasterProtoNum = "gre", engine.ProtoGRE
			e.Has &^= engine.HasExpClass
			e.Helper = strings.Repeat("h", MaxHelperName+1)
			return e
		}, func(e *engine.Expect) {
			e.ID, e.Helper = 0, ""
			e.Sport, e.Dport, e.MaskSport, e.MaskDport, e.MasterSport, e.MasterDport = 0, 0, 0, 0, 0, 0
			e.Has &^= engine.HasExpID | engine.HasExpHelper
		}, []ExpAttr{ExpAttrMasterIPv4, ExpAttrMasterL4Proto,
			ExpAttrExpectIPv4, ExpAttrExpectL4Proto,
			ExpAttrMaskIPv4, ExpAttrMaskL4Proto,
			ExpAttrTimeout, ExpAttrFlags}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in()
			x, got := roundTripExpect(t, &in)
			var want ExpAttrs
			for _, a := range tt.attrs {
				want = want.With(a)
			}
			if x.Attrs != want {
				t.Errorf("attributes %#x, want %#x", uint32(x.Attrs), uint32(want))
			}
			w := tt.in()
			tt.want(&w)
			if !reflect.DeepEqual(got, w) {
				t.Errorf("got\n%+v\nwant\n%+v", got, w)
			}
		})
	}
}

// TestExpectPortsNetworkOrder checks the expectation ports' byte order on
// the wire: network order, as exp2msg copies libnetfilter_conntrack's
// port group (no host-order quirk as for CT's ICMP_ID, SPAT and DPAT).
func TestExpectPortsNetworkOrder(t *testing.T) {
	e := kernelFTPExpect()
	var x Expect
	x.FromExpect(&e)
	b, err := AppendMessage(nil, &Message{Header: Header{Type: MsgExpNew}, Exp: &x})
	if err != nil {
		t.Fatal(err)
	}
	// Length 8, NTA_EXP_EXPECT_PORT (7): sport 0, dport 50000 = 0xc350.
	if !bytes.Contains(b, []byte{0, 8, 0, 7, 0, 0, 0xc3, 0x50}) {
		t.Errorf("no network-order EXPECT_PORT in % x", b)
	}
	// Length 8, NTA_EXP_MASTER_PORT (3): 41234 = 0xa112, 21 = 0x0015.
	if !bytes.Contains(b, []byte{0, 8, 0, 3, 0xa1, 0x12, 0, 0x15}) {
		t.Errorf("no network-order MASTER_PORT in % x", b)
	}
}

// TestToExpectFamily checks the family of partial messages.
func TestToExpectFamily(t *testing.T) {
	tests := []struct {
		x    Expect
		want string
	}{
		{Expect{Attrs: ExpAttrs(0).With(ExpAttrMasterIPv4)}, "ipv4"},
		{Expect{Attrs: ExpAttrs(0).With(ExpAttrMasterIPv6)}, "ipv6"},
		{Expect{Attrs: ExpAttrs(0).With(ExpAttrExpectIPv6, ExpAttrMasterIPv4)}, "ipv6"},
		{Expect{}, ""},
	}
	for i, tt := range tests {
		var e engine.Expect
		tt.x.ToExpect(&e)
		if e.Family != tt.want {
			t.Errorf("%d: family %q, want %q", i, e.Family, tt.want)
		}
	}
}

// TestToExpectNATPartial checks the NAT part of messages that carry only
// some NAT attributes: without NAT_L4PROTO the protocol is the master's.
func TestToExpectNATPartial(t *testing.T) {
	x := Expect{Attrs: ExpAttrs(0).With(ExpAttrMasterL4Proto, ExpAttrNATDir), NATDir: 1}
	x.Master.Proto = engine.ProtoUDP
	var e engine.Expect
	x.ToExpect(&e)
	if e.Has&engine.HasExpNAT == 0 || e.NATDir != 1 || e.NATProtoNum != engine.ProtoUDP || e.NATSrc.IsValid() {
		t.Errorf("got %+v", e)
	}
	x.Attrs = x.Attrs.Without(ExpAttrNATDir)
	x.ToExpect(&e)
	if e.Has&engine.HasExpNAT != 0 || e.NATProtoNum != 0 {
		t.Errorf("without NAT attributes: %+v", e)
	}
}
