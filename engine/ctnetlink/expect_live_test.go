//go:build linux

package ctnetlink

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"ctq/engine"
)

// ftpExpect is the expectation of ftpExpectMsg, as a user would give it.
func ftpExpect() engine.Expect {
	a := netip.MustParseAddr("192.0.2.1")
	ones := netip.MustParseAddr("255.255.255.255")
	return engine.Expect{Family: "ipv4", Proto: "tcp", ProtoNum: 6, Src: a, Dst: a, Dport: 50000,
		MaskSrc: ones, MaskDst: ones, MaskDport: 65535,
		MasterProto: "tcp", MasterProtoNum: 6, MasterSrc: a, MasterDst: a, MasterSport: 44062, MasterDport: 21,
		Timeout: 300, Helper: "ftp"}
}

func TestEncodeExpectCreate(t *testing.T) {
	littleEndian(t)
	e := ftpExpect()
	data, err := encodeExpectCreate(&e)
	if err != nil {
		t.Fatal(err)
	}
	// The kernel's own dump of the same expectation, less what only the
	// kernel knows (ID, flags, class) and in the request's order.
	want := "02000000" +
		" 34000180 14000180 08000100 c0000201 08000200 c0000201" +
		" 1c000280 05000100 06000000 06000200 ac1e0000 06000300 00150000" +
		" 34000280 14000180 08000100 c0000201 08000200 c0000201" +
		" 1c000280 05000100 06000000 06000200 00000000 06000300 c3500000" +
		" 34000380 14000180 08000100 ffffffff 08000200 ffffffff" +
		" 1c000280 05000100 06000000 06000200 00000000 06000300 ffff0000" +
		" 08000400 0000012c 08000600 66747000"
	if w := hexBytes(t, want); !reflect.DeepEqual(data, w) {
		t.Errorf("\n got %x\nwant %x", data, w)
	}

	// Everything an expectation can carry reads back.
	e.Zone, e.Class, e.Fn = 3, 1, "nat-follow-master"
	e.SetFlags(engine.ExpectPermanent | engine.ExpectInactive)
	e.Has |= engine.HasExpTimeout | engine.HasExpZone | engine.HasExpHelper | engine.HasExpClass | engine.HasExpFn | engine.HasExpMask | engine.HasExpMaster
	data, err = encodeExpectCreate(&e)
	if err != nil {
		t.Fatal(err)
	}
	var got engine.Expect
	if err := DecodeExpect(data, &got); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e) {
		t.Errorf("\n got %+v\nwant %+v", got, e)
	}

	// The key of a delete: expected tuple, zone, id.
	e.ID, e.Has = 0x4744059f, engine.HasExpID
	w := newRequest(engine.FamilyIPv4)
	if err := encodeExpectKey(w, &e); err != nil {
		t.Fatal(err)
	}
	wantKey := "02000000" +
		" 34000280 14000180 08000100 c0000201 08000200 c0000201" +
		" 1c000280 05000100 06000000 06000200 00000000 06000300 c3500000" +
		" 06000700 00030000 08000500 4744059f"
	if w2 := hexBytes(t, wantKey); !reflect.DeepEqual(w.b, w2) {
		t.Errorf("key\n got %x\nwant %x", w.b, w2)
	}
}

func TestEncodeExpectErrors(t *testing.T) {
	v6 := netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name   string
		change func(e *engine.Expect)
		want   string
	}{
		{"no addresses", func(e *engine.Expect) { e.Family, e.Src = "", netip.Addr{} }, "addresses of one family"},
		{"no master", func(e *engine.Expect) { e.MasterSrc = netip.Addr{} }, "master source address is missing"},
		{"mask of another family", func(e *engine.Expect) { e.MaskDst = v6 }, "mask destination address is missing or of another family"},
		{"port", func(e *engine.Expect) { e.Dport = 65536 }, "expected tuple: destination port 65536 out of range"},
		{"master port", func(e *engine.Expect) { e.MasterSport = -1 }, "master tuple: source port -1 out of range"},
		{"mask port", func(e *engine.Expect) { e.MaskSport = 1 << 20 }, "mask: source port 1048576 out of range"},
		{"zone", func(e *engine.Expect) { e.Zone = -2 }, "zone -2 out of range"},
		{"timeout", func(e *engine.Expect) { e.Timeout = -1 }, "timeout -1 out of range"},
	}
	for _, tt := range tests {
		e := ftpExpect()
		tt.change(&e)
		if _, err := encodeExpectCreate(&e); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: encodeExpectCreate = %v, want %q", tt.name, err, tt.want)
		}
	}
	e := ftpExpect()
	if got := expectName(&e); got !=
		"tcp 192.0.2.1:0 -> 192.0.2.1:50000 (master tcp 192.0.2.1:44062 -> 192.0.2.1:21)" {
		t.Errorf("expectName = %q", got)
	}
	if m := expMessage(ipctnlMsgExpDelete, 0, nil); m.Header.Type != 2<<8|2 {
		t.Errorf("expMessage type %#x", m.Header.Type)
	}
}
