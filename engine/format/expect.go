package format

import (
	"net/netip"
	"strconv"

	"ctq/internal/quote"

	"ctq/engine"
)

// XMLExpectHeader opens conntrack's xml document of expectations; like
// XMLHeader it comes before the first entry, and not at all when there is
// none.
const XMLExpectHeader = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<expect>\n"

// XMLExpectFooter closes the document opened by XMLExpectHeader.
const XMLExpectFooter = "</expect>\n"

// expectFlags are the NF_CT_EXPECT_* bits with their text and xml names,
// in the order conntrack prints them.
var expectFlags = [...]struct {
	bit  int
	name string
	tag  string
}{
	{engine.ExpectPermanent, "PERMANENT", "<permanent/>"},
	{engine.ExpectInactive, "INACTIVE", "<inactive/>"},
	{engine.ExpectUserspace, "USERSPACE", "<userspace/>"},
}

// expectFlagBits is e's flags, zero when the attribute is absent.
func expectFlagBits(e *engine.Expect) int {
	if e.Has&engine.HasExpFlags == 0 {
		return 0
	}
	return e.Flags
}

// AppendExpect appends one conntrack expectation line for e (no newline):
// the line of conntrack -L expect, or of conntrack -E expect when ev is not
// EventNone. It matches libnetfilter_conntrack 1.0.9's nfexp_snprintf
// default output byte for byte:
//
//	[EVT] [TIMEOUT ]proto=N src=A dst=A [L4] mask-src=A mask-dst=A [L4]
//	master-src=A master-dst=A [L4] [zone=N ][PERMANENT[,INACTIVE][,USERSPACE] ][class=N ][helper=NAME]
//
// The expected tuple and its mask carry the expected protocol's layer-4
// fields (sport= dport=, srckey=0x dstkey=0x for GRE, type= code= id= for
// ICMP), the master tuple those of MasterProtoNum; addresses are printed in
// e.Family. Like conntrack, the line always has the three tuples (an absent
// one prints zero addresses) and drops one trailing blank (a flags value
// with no named bit leaves the blank conntrack leaves).
//
// The Expect record has no ICMP fields: for an ICMP expectation Sport is
// the ICMP id and Dport the type and code (type<<8 | code), the layout of
// the kernel's tuple.
//
// Expectations have no extended, id, ktimestamp or label fields (conntrack
// ignores those flags for them); opts is not used by the line and may be
// nil.
func AppendExpect(buf []byte, e *engine.Expect, ev Event, opts *Options) []byte {
	start := len(buf)
	if int(ev) < len(eventLabels) {
		buf = append(buf, eventLabels[ev]...)
	}
	af := engine.FamilyNum(e.Family)
	if e.Has&engine.HasExpTimeout != 0 {
		buf = appendUint(buf, u32(e.Timeout))
		buf = append(buf, ' ')
	}
	buf = append(buf, "proto="...)
	buf = appendUint(buf, u8(e.ProtoNum))
	buf = append(buf, ' ')
	buf = appendExpectTuple(buf, "src=", "dst=", af, e.Src, e.Dst, e.ProtoNum, e.Sport, e.Dport)
	buf = appendExpectTuple(buf, "mask-src=", "mask-dst=", af, e.MaskSrc, e.MaskDst, e.ProtoNum, e.MaskSport, e.MaskDport)
	buf = appendExpectTuple(buf, "master-src=", "master-dst=", af, e.MasterSrc, e.MasterDst, e.MasterProtoNum, e.MasterSport, e.MasterDport)
	if e.Has&engine.HasExpZone != 0 {
		buf = append(buf, "zone="...)
		buf = appendUint(buf, u16(e.Zone))
		buf = append(buf, ' ')
	}
	if flags := expectFlagBits(e); flags != 0 {
		sep := false
		for _, fl := range expectFlags {
			if flags&fl.bit == 0 {
				continue
			}
			if sep {
				buf = append(buf, ',')
			}
			buf = append(buf, fl.name...)
			sep = true
		}
		buf = append(buf, ' ')
	}
	if e.Has&engine.HasExpClass != 0 {
		buf = append(buf, "class="...)
		buf = appendUint(buf, u32(e.Class))
		buf = append(buf, ' ')
	}
	if e.Has&engine.HasExpHelper != 0 {
		buf = append(buf, "helper="...)
		buf = quote.Append(buf, e.Helper)
	}
	if len(buf) > start && buf[len(buf)-1] == ' ' {
		buf = buf[:len(buf)-1]
	}
	return buf
}

// appendExpectTuple appends one tuple of an expectation: as a flow's, but
// for ICMP the type and code travel in dport (type<<8 | code) and the id
// in sport.
func appendExpectTuple(buf []byte, srcKey, dstKey string, af int, src, dst netip.Addr, proto, sport, dport int) []byte {
	return appendTuple(buf, srcKey, dstKey, af, src, dst, proto, sport, dport, dport>>8, dport&0xff, sport)
}

// AppendExpectXML appends one conntrack -o xml <flow> element for the
// expectation e (no newline), with the structure of libnetfilter_conntrack
// 1.0.9 (addresses under <layer3>, ports under <layer4>, each split in
// <expected>, <mask> and <master>; then <meta>). ev adds the type attribute
// of events; flags may hold FlagTime (<when>, the current time in
// opts.Location). As for flows, the helper name is escaped (conntrack
// escapes nothing). opts may be nil.
func AppendExpectXML(buf []byte, e *engine.Expect, ev Event, flags TextFlags, opts *Options) []byte {
	if int(ev) < len(xmlFlowOpen) {
		buf = append(buf, xmlFlowOpen[ev]...)
	} else {
		buf = append(buf, xmlFlowOpen[EventNone]...)
	}
	af := engine.FamilyNum(e.Family)
	buf = append(buf, `<layer3 protonum="`...)
	buf = appendUint(buf, u8(af))
	buf = append(buf, `" protoname="`...)
	buf = append(buf, engine.FamilyName(af)...)
	buf = append(buf, `">`...)
	buf = appendExpectXMLAddrs(buf, "expected", af, e.Src, e.Dst)
	buf = appendExpectXMLAddrs(buf, "mask", af, e.MaskSrc, e.MaskDst)
	buf = appendExpectXMLAddrs(buf, "master", af, e.MasterSrc, e.MasterDst)
	buf = append(buf, `</layer3><layer4 protonum="`...)
	buf = appendUint(buf, u8(e.ProtoNum))
	buf = append(buf, `" protoname="`...)
	buf = append(buf, engine.ProtoName(e.ProtoNum)...)
	buf = append(buf, `">`...)
	buf = appendExpectXMLPorts(buf, "expected", e.ProtoNum, e.Sport, e.Dport)
	buf = appendExpectXMLPorts(buf, "mask", e.ProtoNum, e.MaskSport, e.MaskDport)
	buf = appendExpectXMLPorts(buf, "master", e.MasterProtoNum, e.MasterSport, e.MasterDport)
	buf = append(buf, "</layer4><meta>"...)
	if e.Has&engine.HasExpHelper != 0 {
		buf = appendXMLString(buf, "helper-name", e.Helper)
	}
	if e.Has&engine.HasExpTimeout != 0 {
		buf = appendXMLUint(buf, "timeout", u32(e.Timeout))
	}
	if e.Has&engine.HasExpClass != 0 {
		buf = appendXMLUint(buf, "class", u32(e.Class))
	}
	if e.Has&engine.HasExpZone != 0 {
		buf = appendXMLUint(buf, "zone", u16(e.Zone))
	}
	if flags&FlagTime != 0 {
		buf = appendXMLWhen(buf, opts.now().In(opts.location()))
	}
	bits := expectFlagBits(e)
	for _, fl := range expectFlags {
		if bits&fl.bit != 0 {
			buf = append(buf, fl.tag...)
		}
	}
	return append(buf, "</meta></flow>"...)
}

// appendExpectXMLAddrs appends <tag><src>A</src><dst>A</dst></tag>, the
// addresses only for IPv4 and IPv6.
func appendExpectXMLAddrs(buf []byte, tag string, af int, src, dst netip.Addr) []byte {
	buf = append(buf, '<')
	buf = append(buf, tag...)
	buf = append(buf, "><src>"...)
	if af == engine.FamilyIPv4 || af == engine.FamilyIPv6 {
		buf = appendAddr(buf, src, af)
	}
	buf = append(buf, "</src><dst>"...)
	if af == engine.FamilyIPv4 || af == engine.FamilyIPv6 {
		buf = appendAddr(buf, dst, af)
	}
	buf = append(buf, "</dst></"...)
	buf = append(buf, tag...)
	return append(buf, '>')
}

// appendExpectXMLPorts appends <tag>, the ports (or GRE keys) of proto,
// and </tag>; ICMP and other protocols have an empty element.
func appendExpectXMLPorts(buf []byte, tag string, proto, sport, dport int) []byte {
	buf = append(buf, '<')
	buf = append(buf, tag...)
	buf = append(buf, '>')
	switch proto {
	case engine.ProtoTCP, engine.ProtoUDP, engine.ProtoUDPLite, engine.ProtoSCTP, engine.ProtoDCCP:
		buf = appendXMLUint(buf, "sport", u16(sport))
		buf = appendXMLUint(buf, "dport", u16(dport))
	case engine.ProtoGRE:
		buf = append(buf, "<srckey>0x"...)
		buf = strconv.AppendUint(buf, u16(sport), 16)
		buf = append(buf, "</srckey><dstkey>0x"...)
		buf = strconv.AppendUint(buf, u16(dport), 16)
		buf = append(buf, "</dstkey>"...)
	}
	buf = append(buf, "</"...)
	buf = append(buf, tag...)
	return append(buf, '>')
}
