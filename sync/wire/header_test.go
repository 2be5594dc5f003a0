package wire

import (
	"errors"
	"reflect"
	"testing"

	"ctq/engine"
)

func TestHeaderPredicates(t *testing.T) {
	type preds struct{ data, ack, nack, resync, alive, hello, helloBack, hasRange, ct, exp bool }
	tests := []struct {
		h    Header
		want preds
	}{
		{Header{Type: MsgCTUpdate, Flags: FlagHello}, preds{data: true, hello: true, ct: true}},
		{Header{Type: MsgExpNew, Flags: FlagHelloBack}, preds{data: true, helloBack: true, exp: true}},
		{Header{Type: MsgExpDelete, Flags: FlagAlive}, preds{exp: true}},
		{Header{Type: MsgControl, Flags: FlagACK | FlagNACK}, preds{ack: true, nack: true, hasRange: true}},
		{Header{Type: MsgControl, Flags: FlagResync | FlagAlive}, preds{resync: true, alive: true, hasRange: true}},
		{Header{Type: MsgControl, Flags: FlagAlive | FlagHello | FlagHelloBack}, preds{alive: true, hello: true, helloBack: true}},
		{Header{Type: 9, Flags: FlagACK}, preds{}},
	}
	for _, tc := range tests {
		h := tc.h
		got := preds{h.IsData(), h.IsACK(), h.IsNACK(), h.IsResync(), h.IsAlive(), h.IsHello(),
			h.IsHelloBack(), h.HasRange(), h.Type.IsCT(), h.Type.IsExp()}
		if got != tc.want {
			t.Errorf("%v: got %+v, want %+v", h, got, tc.want)
		}
	}
}

// TestRelatedNATOrder checks the order of the attributes that no capture
// shows (master tuple, sequence adjustment, helper, labels) against a
// message laid out by hand after ct2msg.
func TestRelatedNATOrder(t *testing.T) {
	c := &Conntrack{
		Attrs: CTAttrs(0).With(AttrZone, AttrLabels, AttrHelperName, AttrNATSeqAdj, AttrSPATPort,
			AttrSNATIPv4, AttrMasterPort, AttrMasterL4Proto, AttrMasterIPv4, AttrMark,
			AttrTimeout, AttrPort, AttrL4Proto, AttrStatus, AttrIPv4),
		Orig:     Tuple{Src: a4("192.0.2.1"), Dst: a4("192.0.2.2"), Proto: 6, Sport: 20, Dport: 40000},
		Status:   engine.StatusExpected | engine.StatusConfirmed | engine.StatusSrcNATDone,
		Timeout:  120,
		Mark:     1,
		Master:   Tuple{Src: a4("192.0.2.2"), Dst: a4("192.0.2.1"), Proto: 6, Sport: 40001, Dport: 21},
		SNATAddr: a4("203.0.113.1"),
		SNATPort: 0x0102,
		SeqAdj:   NATSeqAdj{1, 2, 3, 4, 5, 6},
		Helper:   "ftp-20",
		Labels:   []uint32{0x00000003},
		Zone:     0x0a0b,
	}
	want := dataMsg("1000", ""+
		"000c0000c0000201c0000202"+ // IPV4
		"0008000500000089"+ // STATUS
		"0005000206000000"+ // L4PROTO
		"0008000300149c40"+ // PORT
		"0008000600000078"+ // TIMEOUT
		"0008000700000001"+ // MARK
		"000c0008c0000202c0000201"+ // MASTER_IPV4
		"0005000a06000000"+ // MASTER_L4PROTO
		"0008000b9c410015"+ // MASTER_PORT
		"0008000ccb007101"+ // SNAT_IPV4
		"0006000e02010000"+ // SPAT_PORT, little-endian
		"001c0010000000010000000200000003000000040000000500000006"+ // NAT_SEQ_ADJ
		"000b001b6674702d323000"+"00"+ // HELPER_NAME "ftp-20"
		"0008001c00000003"+ // LABELS
		"000600200a0b0000") // ZONE
	b, err := AppendMessage(nil, &Message{Header: Header{Type: MsgCTNew, Seq: 100}, CT: c})
	if err != nil {
		t.Fatal(err)
	}
	if got := unhex(t, want); !reflect.DeepEqual(b, got) {
		t.Errorf("encoded\n%x\nwant\n%x", b, got)
	}
	if ms := decodeAll(t, b); !reflect.DeepEqual(ms[0].CT, c) {
		t.Errorf("decoded\n%+v\nwant\n%+v", ms[0].CT, c)
	}
}

// TestToFlowNoAddress checks an entry without an address attribute: no
// family, no reply tuple.
func TestToFlowNoAddress(t *testing.T) {
	c := Conntrack{Attrs: CTAttrs(0).With(AttrL4Proto, AttrMark), Orig: Tuple{Proto: 17}, Mark: 9}
	var f engine.Flow
	f.ID = 5
	c.ToFlow(&f)
	var want engine.Flow
	want.Family, want.Proto, want.ProtoNum = "unknown", "udp", 17
	want.Mark, want.Has = 9, engine.HasMark
	if !reflect.DeepEqual(f, want) {
		t.Errorf("ToFlow\n%+v\nwant\n%+v", f, want)
	}
}

func TestErrorUnwrap(t *testing.T) {
	var cause error
	err := Decode(unhex(t, "1a10000000000000"), func(_ *Message, err error) error {
		cause = errors.Unwrap(err)
		return nil
	})
	if err != nil || cause == nil || cause.Error() != "length 0" {
		t.Errorf("Unwrap = %v (Decode %v), want the cause \"length 0\"", cause, err)
	}
}
