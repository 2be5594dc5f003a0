//go:build linux

package ctnetlink

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"ctq/engine"
)

// ftpExpectMsg is an expectation the kernel (6.18) dumped: the ftp
// helper's, for a passive data connection to 192.0.2.1:50000 on the
// control connection 192.0.2.1:44062 -> 192.0.2.1:21.
const ftpExpectMsg = "02000000" +
	" 34000280 14000180 08000100 c0000201 08000200 c0000201" +
	" 1c000280 05000100 06000000 06000200 00000000 06000300 c3500000" +
	" 34000380 14000180 08000100 ffffffff 08000200 ffffffff" +
	" 1c000280 05000100 06000000 06000200 00000000 06000300 ffff0000" +
	" 34000180 14000180 08000100 c0000201 08000200 c0000201" +
	" 1c000280 05000100 06000000 06000200 ac1e0000 06000300 00150000" +
	" 08000400 0000012c 08000500 4744059f 08000800 00000000 08000900 00000000" +
	" 08000600 66747000"

func TestDecodeExpect(t *testing.T) {
	a := netip.MustParseAddr("192.0.2.1")
	ones := netip.MustParseAddr("255.255.255.255")
	want := engine.Expect{Family: "ipv4", Proto: "tcp", ProtoNum: 6, Src: a, Dst: a, Sport: 0, Dport: 50000,
		MaskSrc: ones, MaskDst: ones, MaskSport: 0, MaskDport: 65535,
		MasterProto: "tcp", MasterProtoNum: 6, MasterSrc: a, MasterDst: a, MasterSport: 44062, MasterDport: 21,
		Timeout: 300, ID: 0x4744059f, Helper: "ftp",
		Has: engine.HasExpTimeout | engine.HasExpID | engine.HasExpHelper | engine.HasExpClass | engine.HasExpFlags | engine.HasExpMask | engine.HasExpMaster}
	var got engine.Expect
	got.Zone = 9 // reset by the decoder
	if err := DecodeExpect(hexBytes(t, ftpExpectMsg), &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}

	// Zone, flags and expectfn.
	e := newRequest(engine.FamilyIPv6)
	tuple := tupleVals{src: netip.MustParseAddr("2001:db8::1"), dst: netip.MustParseAddr("2001:db8::2"),
		proto: engine.ProtoUDP, sport: 5060, dport: 5060}
	if err := e.tuple(ctaExpectTuple, &tuple); err != nil {
		t.Fatal(err)
	}
	e.u16(ctaExpectZone, 4)
	e.u32(ctaExpectFlags, engine.ExpectPermanent|engine.ExpectUserspace)
	e.bytes(ctaExpectFn, []byte("nat-follow-master\x00"))
	if err := DecodeExpect(e.b, &got); err != nil {
		t.Fatal(err)
	}
	if got.Family != "ipv6" || got.Proto != "udp" || got.Dport != 5060 || got.Zone != 4 || !got.Permanent ||
		got.Inactive || !got.Userspace || got.Flags != 5 || got.Fn != "nat-follow-master" ||
		got.Has != engine.HasExpZone|engine.HasExpFlags|engine.HasExpFn {
		t.Errorf("got %+v", got)
	}
}

func TestDecodeExpectErrors(t *testing.T) {
	tests := []struct {
		name, msg, want string
	}{
		{"short", "0200", "shorter than its nfgenmsg"},
		{"no tuple", "02000000 08000400 0000012c", "no expected tuple"},
		{"truncated attribute", "02000000 08000400 0000", "truncated attribute"},
		{"bad timeout", "02000000 06000400 00010000", "unexpected payload size 2"},
		{"bad zone", "02000000 08000700 00000001", "unexpected payload size 4"},
		{"bad tuple", "02000000 10000280 0c000180 06000100 c0000000", "expected tuple: addresses: attribute 1: unexpected payload size 2"},
		{"bad mask", "02000000 0c000380 08000280 04000100", "mask: protocol"},
		{"bad master", "02000000 0c000180 08000180 05000100", "master tuple: addresses"},
	}
	for _, tt := range tests {
		var e engine.Expect
		err := DecodeExpect(hexBytes(t, tt.msg), &e)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "decode expectation: ") {
			t.Errorf("%s: DecodeExpect = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func FuzzDecodeExpect(f *testing.F) {
	f.Add(mustHex(f, strings.ReplaceAll(ftpExpectMsg, " ", "")))
	f.Add(mustHex(f, strings.ReplaceAll(natExpectMsg, " ", "")))
	f.Add([]byte{2, 0, 0, 0})
	f.Add([]byte{10, 0, 0, 0, 8, 0, 4, 0, 0, 0, 1, 44})
	f.Fuzz(func(t *testing.T, data []byte) {
		var e engine.Expect
		if err := DecodeExpect(data, &e); err != nil {
			return
		}
		if e.Family == "" || e.Proto != engine.ProtoName(e.ProtoNum) || e.Has&engine.HasExpFlags != 0 && e.Permanent != (e.Flags&1 != 0) {
			t.Errorf("inconsistent expectation %+v", e)
		}
		if e.Has&engine.HasExpNAT == 0 && (e.NATDir != 0 || e.NATProtoNum != 0 || e.NATSrc.IsValid() || e.NATSport != 0) {
			t.Errorf("NAT fields without HasExpNAT: %+v", e)
		}
	})
}
