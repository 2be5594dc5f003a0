package wire

import (
	"bytes"
	"encoding/hex"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

// ftpExpect is an FTP data expectation with every attribute exp2msg sends.
func ftpExpect() *Expect {
	return &Expect{
		Attrs: ExpAttrs(0).With(ExpAttrMasterIPv4, ExpAttrMasterL4Proto, ExpAttrMasterPort,
			ExpAttrExpectIPv4, ExpAttrExpectL4Proto, ExpAttrExpectPort,
			ExpAttrMaskIPv4, ExpAttrMaskL4Proto, ExpAttrMaskPort,
			ExpAttrTimeout, ExpAttrFlags, ExpAttrClass,
			ExpAttrNATIPv4, ExpAttrNATL4Proto, ExpAttrNATPort, ExpAttrNATDir,
			ExpAttrHelperName, ExpAttrFn),
		Master:   Tuple{Src: a4("192.0.2.1"), Dst: a4("192.0.2.2"), Proto: 6, Sport: 40000, Dport: 21},
		Expected: Tuple{Src: a4("192.0.2.1"), Dst: a4("192.0.2.2"), Proto: 6, Dport: 50000},
		Mask:     Tuple{Src: a4("255.255.255.255"), Dst: a4("255.255.255.255"), Proto: 6, Dport: 0xffff},
		Timeout:  300,
		Class:    1,
		NAT:      Tuple{Src: a4("198.51.100.1"), Dst: a4("198.51.100.2"), Proto: 6, Dport: 5000},
		NATDir:   1,
		Helper:   "ftp",
		Fn:       "nat-follow-master",
	}
}

// ftpExpectHex is ftpExpect's body in exp2msg's order, built by hand.
const ftpExpectHex = "" +
	"000c0000c0000201c0000202" + "0005000206000000" + "000800039c400015" + // master
	"000c0004c0000201c0000202" + "0005000606000000" + "000800070000c350" + // expected
	"000c0008ffffffffffffffff" + "0005000a06000000" + "0008000b0000ffff" + // mask
	"0008000c0000012c" + "0008000d00000000" + "0008000e00000001" + // timeout, flags, class
	"000c000fc6336401c6336402" + "0005001106000000" + "0008001000001388" + "0008001200000001" + // NAT
	"0008001366747000" + // helper "ftp"
	"00160014" + "6e61742d666f6c6c6f772d6d617374657200" + "0000" // fn

func TestExpectEncoding(t *testing.T) {
	m := Message{Header: Header{Type: MsgExpUpdate, Flags: FlagHelloBack, Seq: 100}, Exp: ftpExpect()}
	b, err := AppendMessage([]byte("prefix"), &m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("prefix")) {
		t.Fatalf("dst clobbered: %q", b)
	}
	b = b[len("prefix"):]
	want := dataMsg("1440", ftpExpectHex)
	if got := hex.EncodeToString(b); got != want {
		t.Errorf("encoded\n%s\nwant\n%s", got, want)
	}
	ms := decodeAll(t, b)
	m.Header.Version, m.Header.Len = 1, uint16(len(b))
	if len(ms) != 1 || !reflect.DeepEqual(ms[0], m) {
		t.Errorf("decoded %+v\nwant %+v", ms, m)
	}

	v6 := &Expect{
		Attrs:    ExpAttrs(0).With(ExpAttrMasterIPv6, ExpAttrExpectIPv6, ExpAttrMaskIPv6, ExpAttrFlags),
		Master:   Tuple{Src: a4("2001:db8::1"), Dst: a4("2001:db8::2")},
		Expected: Tuple{Src: a4("2001:db8::1"), Dst: a4("2001:db8::3")},
		Mask:     Tuple{Src: a4("ffff:ffff::"), Dst: a4("::ffff:255.255.255.255")},
		Flags:    3,
	}
	m = Message{Header: Header{Version: 1, Type: MsgExpDelete, Len: 8 + 3*36 + 8}, Exp: v6}
	b, err = AppendMessage(nil, &m)
	if err != nil {
		t.Fatal(err)
	}
	if ms := decodeAll(t, b); len(ms) != 1 || !reflect.DeepEqual(ms[0], m) {
		t.Errorf("decoded %+v\nwant %+v", ms, m)
	}
}

func TestAppendMessageErrors(t *testing.T) {
	ct := func(mod func(c *Conntrack)) *Conntrack {
		c := &Conntrack{
			Attrs: CTAttrs(0).With(AttrIPv4, AttrStatus, AttrL4Proto),
			Orig:  Tuple{Src: a4("192.0.2.1"), Dst: a4("192.0.2.2"), Proto: 47},
		}
		mod(c)
		return c
	}
	exp := func(mod func(e *Expect)) *Expect {
		e := ftpExpect()
		mod(e)
		return e
	}
	ctNew := Header{Type: MsgCTNew}
	expNew := Header{Type: MsgExpNew}
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"version 2", Message{Header: Header{Version: 2, Type: MsgCTNew}, CT: ct(func(*Conntrack) {})}, "version 2"},
		{"unknown type", Message{Header: Header{Type: 7}}, "unknown type 7"},
		{"type 16", Message{Header: Header{Type: 16, Flags: FlagAlive}}, "unknown type 16"},
		{"ct without body", Message{Header: ctNew}, "want a conntrack body"},
		{"ct with exp body", Message{Header: ctNew, Exp: ftpExpect()}, "want a conntrack body"},
		{"exp with ct body", Message{Header: expNew, CT: ct(func(*Conntrack) {})}, "want an expectation body"},
		{"data with ack", Message{Header: Header{Type: MsgCTUpdate, Flags: FlagACK}, CT: ct(func(*Conntrack) {})}, "flags ACK on a data message"},
		{"data with range", Message{Header: ctNew, CT: ct(func(*Conntrack) {}), Control: &Control{}}, "data message with a control range"},
		{"control without flag", Message{Header: Header{Type: MsgControl, Flags: FlagHello}}, "want ACK, NACK, RESYNC or ALIVE"},
		{"alive with range", Message{Header: Header{Type: MsgControl, Flags: FlagAlive}, Control: &Control{}}, "ALIVE message with a range"},
		{"ack without range", Message{Header: Header{Type: MsgControl, Flags: FlagACK}}, "ACK message without a range"},
		{"nack backwards", Message{Header: Header{Type: MsgControl, Flags: FlagNACK}, Control: &Control{From: 5, To: 4}}, "ends before it starts"},
		{"control with body", Message{Header: Header{Type: MsgControl, Flags: FlagAlive}, CT: ct(func(*Conntrack) {})}, "control message with a body"},
		{"both families", Message{Header: ctNew, CT: ct(func(c *Conntrack) { c.Attrs = c.Attrs.With(AttrIPv6) })}, "both the IPv4 and the IPv6"},
		{"ipv4 attr, ipv6 address", Message{Header: ctNew, CT: ct(func(c *Conntrack) { c.Orig.Dst = a4("2001:db8::1") })}, "is not IPv4"},
		{"ipv6 attr, no address", Message{Header: ctNew, CT: ct(func(c *Conntrack) {
			c.Attrs = c.Attrs.Without(AttrIPv4).With(AttrIPv6)
			c.Orig = Tuple{Src: a4("2001:db8::1")}
		})}, "is not a plain IPv6"},
		{"ipv6 zone", Message{Header: ctNew, CT: ct(func(c *Conntrack) {
			c.Attrs = c.Attrs.Without(AttrIPv4).With(AttrIPv6)
			c.Orig = Tuple{Src: a4("fe80::1%eth0"), Dst: a4("fe80::2")}
		})}, "is not a plain IPv6"},
		{"snat family", Message{Header: ctNew, CT: ct(func(c *Conntrack) {
			c.Attrs = c.Attrs.With(AttrSNATIPv4)
			c.SNATAddr = a4("2001:db8::1")
		})}, "SNAT address"},
		{"dnat both", Message{Header: ctNew, CT: ct(func(c *Conntrack) { c.Attrs = c.Attrs.With(AttrDNATIPv4, AttrDNATIPv6) })}, "DNAT address"},
		{"master family", Message{Header: ctNew, CT: ct(func(c *Conntrack) { c.Attrs = c.Attrs.With(AttrMasterIPv4) })}, "master tuple"},
		{"helper 12 bytes", Message{Header: ctNew, CT: ct(func(c *Conntrack) {
			c.Attrs = c.Attrs.With(AttrHelperName)
			c.Helper = "abcdefghijkl"
		})}, "longer than 11"},
		{"helper NUL", Message{Header: ctNew, CT: ct(func(c *Conntrack) {
			c.Attrs = c.Attrs.With(AttrHelperName)
			c.Helper = "ft\x00p"
		})}, "contains a NUL"},
		{"labels empty", Message{Header: ctNew, CT: ct(func(c *Conntrack) { c.Attrs = c.Attrs.With(AttrLabels) })}, "labels: 0 words"},
		{"labels 257 words", Message{Header: ctNew, CT: ct(func(c *Conntrack) {
			c.Attrs = c.Attrs.With(AttrLabels)
			c.Labels = make([]uint32, 257)
		})}, "labels: 257 words"},
		{"unknown ct attribute", Message{Header: ctNew, CT: ct(func(c *Conntrack) { c.Attrs |= 1 << 40 })}, "unknown attributes 0x10000000000"},
		{"unknown exp attribute", Message{Header: expNew, Exp: exp(func(e *Expect) { e.Attrs |= 1 << 21 })}, "unknown attributes 0x200000"},
		{"exp fn 28 bytes", Message{Header: expNew, Exp: exp(func(e *Expect) { e.Fn = strings.Repeat("f", 28) })}, "function name"},
		{"exp helper 12 bytes", Message{Header: expNew, Exp: exp(func(e *Expect) { e.Helper = strings.Repeat("h", 12) })}, "helper name"},
		{"exp nat ipv6", Message{Header: expNew, Exp: exp(func(e *Expect) { e.NAT.Src = a4("2001:db8::1") })}, "NAT tuple"},
		{"exp mask both", Message{Header: expNew, Exp: exp(func(e *Expect) { e.Attrs = e.Attrs.With(ExpAttrMaskIPv6) })}, "mask: both"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte{1, 2, 3}
			got, err := AppendMessage(dst, &tc.m)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("AppendMessage error %v, want one containing %q", err, tc.want)
			}
			if !bytes.Equal(got, dst) {
				t.Errorf("dst changed to %x", got)
			}
		})
	}
}

// TestEncodeEdges checks encodings at the limits: the longest helper name,
// the most labels, an IPv4-mapped IPv6 address, and control messages.
func TestEncodeEdges(t *testing.T) {
	c := &Conntrack{
		Attrs:  CTAttrs(0).With(AttrIPv6, AttrHelperName, AttrLabels, AttrSNATIPv6),
		Orig:   Tuple{Src: netip.MustParseAddr("::ffff:192.0.2.1"), Dst: a4("2001:db8::2")},
		Helper: strings.Repeat("h", MaxHelperName),
		Labels: make([]uint32, MaxLabelWords),
		// SNAT to an IPv4-mapped address stays a 16-byte attribute.
		SNATAddr: netip.MustParseAddr("::ffff:198.51.100.1"),
	}
	c.Labels[MaxLabelWords-1] = 1
	m := Message{Header: Header{Version: 1, Type: MsgCTDelete, Flags: FlagHello | FlagHelloBack}, CT: c}
	b, err := AppendMessage(nil, &m)
	if err != nil {
		t.Fatal(err)
	}
	wantLen := HeaderLen + 36 + 16 + maxLabelsTLV + 20
	if len(b) != wantLen {
		t.Fatalf("length %d, want %d", len(b), wantLen)
	}
	m.Header.Len = uint16(wantLen)
	if ms := decodeAll(t, b); !reflect.DeepEqual(ms, []Message{m}) {
		t.Errorf("decoded %+v, want %+v", ms[0].CT, c)
	}

	ctl := []Message{
		{Header: Header{Type: MsgControl, Flags: FlagAlive | FlagACK, Seq: 1}, Control: &Control{From: 0xffffffff, To: 1}},
		{Header: Header{Type: MsgControl, Flags: FlagResync, Seq: 2}, Control: &Control{From: 9, To: 3}},
	}
	b = encodeAll(t, ctl)
	if got, want := hex.EncodeToString(b), "1a180010"+"00000001ffffffff00000001"+"1a020010"+"000000020000000900000003"; got != want {
		t.Errorf("encoded %s, want %s", got, want)
	}
}

func TestStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{MsgExpUpdate.String(), "EXP_UPD"},
		{MsgType(7).String(), "type(7)"},
		{Flags(0).String(), "0"},
		{(FlagACK | FlagHello | 0x80).String(), "ACK|HELLO|0x80"},
		{CTAttrs(0).With(AttrIPv4, AttrZone).String(), "IPV4|ZONE"},
		{CTAttr(40).String(), "attr(40)"},
		{ExpAttrs(0).With(ExpAttrFn, ExpAttrMasterIPv4).String(), "MASTER_IPV4|FN"},
		{ExpAttr(21).String(), "attr(21)"},
		{Header{Version: 1, Type: MsgControl, Flags: FlagAlive, Len: 8, Seq: 3}.String(), "v1 CTL ALIVE len=8 seq=3"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestSeqBefore(t *testing.T) {
	tests := []struct {
		a, b uint32
		want bool
	}{
		{1, 2, true},
		{2, 1, false},
		{2, 2, false},
		{0xffffffff, 0, true},
		{0, 0xffffffff, false},
		{0, 0x7fffffff, true},
		{0, 0x80000001, false},
	}
	for _, tc := range tests {
		if got := SeqBefore(tc.a, tc.b); got != tc.want {
			t.Errorf("SeqBefore(%#x, %#x) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
