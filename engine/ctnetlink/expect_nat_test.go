//go:build linux

package ctnetlink

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"ctq/engine"
)

// natExpectNest is the CTA_EXPECT_NAT nest of natExpectMsg.
const natExpectNest = " 40000a80 08000100 00000001 34000280 14000180 08000100 00000000 08000200 00000000" +
	" 1c000280 05000100 06000000 06000200 c3500000 06000300 00000000"

// natExpectMsg is an expectation the kernel (6.18) dumped: the ftp
// helper's for an active-mode session (PORT 192,0,2,1,195,80) on the
// control connection 192.0.2.1:45064 -> 192.0.2.1:21 that an nft rule
// source-NATs to 192.0.2.2. nf_nat_ftp rewrote the PORT command to
// 192.0.2.2, kept the data port (50000) and attached the NAT part: the
// reply direction, source address 0.0.0.0 (the address is not saved) and
// the original port 50000 (the saved port), with nat-follow-master.
const natExpectMsg = "02000000" +
	" 34000280 14000180 08000100 c0000201 08000200 c0000202" +
	" 1c000280 05000100 06000000 06000200 00000000 06000300 c3500000" +
	" 34000380 14000180 08000100 ffffffff 08000200 ffffffff" +
	" 1c000280 05000100 06000000 06000200 00000000 06000300 ffff0000" +
	" 34000180 14000180 08000100 c0000201 08000200 c0000201" +
	" 1c000280 05000100 06000000 06000200 b0080000 06000300 00150000" +
	natExpectNest +
	" 08000400 00000122 08000500 1dc797d6 08000800 00000000 08000900 00000000" +
	" 08000600 66747000 16000b00 6e61742d 666f6c6c 6f772d6d 61737465 72000000"

// natExpect is natExpectMsg decoded.
func natExpect() engine.Expect {
	a1, a2 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	ones, any4 := netip.MustParseAddr("255.255.255.255"), netip.MustParseAddr("0.0.0.0")
	return engine.Expect{Family: "ipv4", Proto: "tcp", ProtoNum: 6, Src: a1, Dst: a2, Dport: 50000,
		MaskSrc: ones, MaskDst: ones, MaskDport: 65535,
		MasterProto: "tcp", MasterProtoNum: 6, MasterSrc: a1, MasterDst: a1, MasterSport: 45064, MasterDport: 21,
		Timeout: 290, ID: 0x1dc797d6, Helper: "ftp", Fn: "nat-follow-master",
		NATDir: 1, NATProtoNum: 6, NATSrc: any4, NATDst: any4, NATSport: 50000,
		Has: engine.HasExpTimeout | engine.HasExpID | engine.HasExpHelper | engine.HasExpClass | engine.HasExpFlags | engine.HasExpMask | engine.HasExpMaster |
			engine.HasExpFn | engine.HasExpNAT}
}

func TestDecodeExpectNAT(t *testing.T) {
	var got engine.Expect
	if err := DecodeExpect(hexBytes(t, natExpectMsg), &got); err != nil {
		t.Fatal(err)
	}
	if want := natExpect(); !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}

// TestEncodeExpectNAT checks that a create request carries the NAT part
// as the kernel reports it, and that it reads back.
func TestEncodeExpectNAT(t *testing.T) {
	littleEndian(t)
	e := natExpect()
	data, err := encodeExpectCreate(&e)
	if err != nil {
		t.Fatal(err)
	}
	if nest := hexBytes(t, natExpectNest); !strings.Contains(string(data), string(nest)) {
		t.Errorf("request %x lacks the kernel's NAT nest %x", data, nest)
	}
	var got engine.Expect
	if err := DecodeExpect(data, &got); err != nil {
		t.Fatal(err)
	}
	if got.NATDir != e.NATDir || got.NATProtoNum != e.NATProtoNum || got.NATSrc != e.NATSrc ||
		got.NATDst != e.NATDst || got.NATSport != e.NATSport || got.NATDport != e.NATDport || got.Has&engine.HasExpNAT == 0 {
		t.Errorf("read back %+v", got)
	}

	// Missing NAT addresses go as the family's unspecified address.
	e.NATSrc, e.NATDst = netip.Addr{}, netip.Addr{}
	if data, err = encodeExpectCreate(&e); err != nil {
		t.Fatal(err)
	}
	if nest := hexBytes(t, natExpectNest); !strings.Contains(string(data), string(nest)) {
		t.Errorf("without NAT addresses: request %x lacks %x", data, nest)
	}

	// Without HasExpNAT there is no NAT nest.
	e.Has &^= engine.HasExpNAT
	if data, err = encodeExpectCreate(&e); err != nil {
		t.Fatal(err)
	}
	if err := DecodeExpect(data, &got); err != nil || got.Has&engine.HasExpNAT != 0 {
		t.Errorf("without HasExpNAT: %v, %+v", err, got)
	}

	tests := []struct {
		name   string
		change func(e *engine.Expect)
		want   string
	}{
		{"direction", func(e *engine.Expect) { e.NATDir = 2 }, "nat: direction 2 out of range 0..1"},
		{"family", func(e *engine.Expect) { e.NATSrc = netip.MustParseAddr("2001:db8::1") }, "nat: the NAT tuple's addresses are of another family"},
		{"port", func(e *engine.Expect) { e.NATSport = 70000 }, "nat: tuple: source port 70000 out of range"},
	}
	for _, tt := range tests {
		e := natExpect()
		tt.change(&e)
		if _, err := encodeExpectCreate(&e); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: encodeExpectCreate = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestDecodeExpectNATErrors(t *testing.T) {
	const tuple = " 34000280 14000180 08000100 c0000201 08000200 c0000201" +
		" 1c000280 05000100 06000000 06000200 00000000 06000300 c3500000"
	tests := []struct {
		name, msg, want string
	}{
		{"no tuple", "02000000" + tuple + " 0c000a80 08000100 00000001", "nat: no direction"},
		{"no direction", "02000000" + tuple + " 38000a80" + tuple, "nat: no direction"},
		{"bad direction", "02000000" + tuple + " 0a000a80 06000100 00010000", "nat: attribute 1: unexpected payload size 2"},
		{"bad tuple", "02000000" + tuple + " 14000a80 10000280 0c000180 06000100 c0000000", "nat: tuple: addresses: attribute 1: unexpected payload size 2"},
	}
	for _, tt := range tests {
		var e engine.Expect
		err := DecodeExpect(hexBytes(t, tt.msg), &e)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: DecodeExpect = %v, want %q", tt.name, err, tt.want)
		}
	}
}

// TestDecodeExpectNATAllocs checks that decoding the NAT part allocates
// nothing (the message has no expectfn, whose string is copied).
func TestDecodeExpectNATAllocs(t *testing.T) {
	data := hexBytes(t, ftpExpectMsg+natExpectNest)
	var e engine.Expect
	if n := testing.AllocsPerRun(100, func() {
		if err := DecodeExpect(data, &e); err != nil {
			t.Fatal(err)
		}
	}); n != 0 || e.Has&engine.HasExpNAT == 0 {
		t.Errorf("%v allocations, NAT %v", n, e.Has&engine.HasExpNAT != 0)
	}
}
