package engine

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"
)

// attrEncoder appends netlink attributes to a ctnetlink request payload.
// Payloads are big-endian except where a method says otherwise.
type attrEncoder struct {
	b []byte
}

// newRequest starts a request payload with its nfgenmsg header.
func newRequest(family uint8) *attrEncoder {
	// nfgen_family, version, res_id (big-endian, 0).
	return &attrEncoder{b: []byte{family, nfnetlinkV0, 0, 0}}
}

func (e *attrEncoder) header(typ uint16, n int) {
	e.b = binary.NativeEndian.AppendUint16(e.b, uint16(nlaHdrLen+n))
	e.b = binary.NativeEndian.AppendUint16(e.b, typ)
}

func (e *attrEncoder) pad() {
	for len(e.b)%4 != 0 {
		e.b = append(e.b, 0)
	}
}

func (e *attrEncoder) bytes(typ uint16, v []byte) {
	e.header(typ, len(v))
	e.b = append(e.b, v...)
	e.pad()
}

func (e *attrEncoder) u8(typ uint16, v uint8) {
	e.header(typ, 1)
	e.b = append(e.b, v)
	e.pad()
}

func (e *attrEncoder) u16(typ uint16, v uint16) {
	e.header(typ, 2)
	e.b = binary.BigEndian.AppendUint16(e.b, v)
	e.pad()
}

func (e *attrEncoder) u32(typ uint16, v uint32) {
	e.header(typ, 4)
	e.b = binary.BigEndian.AppendUint32(e.b, v)
}

// hostU32 appends a u32 in host byte order (the CTA_FILTER flag words).
func (e *attrEncoder) hostU32(typ uint16, v uint32) {
	e.header(typ, 4)
	e.b = binary.NativeEndian.AppendUint32(e.b, v)
}

// begin opens a nested attribute; end closes it.
func (e *attrEncoder) begin(typ uint16) int {
	start := len(e.b)
	e.header(typ|nlaFNested, 0)
	return start
}

func (e *attrEncoder) end(start int) {
	binary.NativeEndian.PutUint16(e.b[start:], uint16(len(e.b)-start))
}

func (e *attrEncoder) addr(v4, v6 uint16, a netip.Addr) {
	if a.Is4() {
		b := a.As4()
		e.bytes(v4, b[:])
		return
	}
	b := a.As16()
	e.bytes(v6, b[:])
}

// ctMessage wraps a ctnetlink payload into a netlink request.
func ctMessage(msgType int, flags netlink.HeaderFlags, data []byte) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(nfnlSubsysCTNetlink<<8 | msgType),
			Flags: netlink.Request | flags,
		},
		Data: data,
	}
}

// addrFamily is the address family of a, AF_UNSPEC for the zero Addr.
func addrFamily(a netip.Addr) int {
	switch {
	case a.Is4():
		return AF_INET
	case a.Is6():
		return AF_INET6
	}
	return AF_UNSPEC
}

// icmpInvertible reports whether the kernel accepts an ICMP (family
// AF_INET) or ICMPv6 type in a tuple: only types conntrack can invert
// (echo, timestamp, info, address mask; ICMPv6 echo and node information)
// are tracked, and the kernel rejects a filter on any other type.
func icmpInvertible(family int, typ uint8) bool {
	if family == AF_INET {
		switch typ {
		case 0, 8, 13, 14, 15, 16, 17, 18:
			return true
		}
		return false
	}
	switch typ {
	case 128, 129, 139, 140:
		return true
	}
	return false
}

// dumpPlan is what a scan sends to the kernel: the part of the requested
// filter it applies, and one dump per entry of families (AF_UNSPEC: a
// single dump of both families).
type dumpPlan struct {
	pushed   KernelFilter
	families []int
	// tupleFamily is the nfgenmsg family CTA_FILTER needs when pushed.Family
	// is unset but an address fixes the family.
	tupleFamily int
}

// planDump decides which parts of want the kernel applies in a dump of
// table, given what it supports:
//
//   - family: nfgenmsg family (all tables);
//   - mark/mask, status/mask, zone (conntrack table): as asked; zone 0 is
//     not pushed, the kernel takes CTA_ZONE 0 as "any zone";
//   - tuple fields (conntrack table, CTA_FILTER): IPv4 addresses,
//     protocol, ports of TCP and UDP (the only protocols whose ports the
//     kernel compares: SCTP, UDP-Lite, DCCP and GRE ports are ignored),
//     ICMP type/code/id of ICMP in IPv4 and ICMPv6 in IPv6 (types conntrack
//     cannot track are rejected with EINVAL, so they are not pushed). Port
//     and ICMP fields need the protocol field (EINVAL otherwise). IPv6
//     addresses are not pushed (see pushableTuple); the tuple zone is not
//     pushed either (the kernel compares it direction-blind and rejects it
//     next to CTA_ZONE). CTA_FILTER needs an IPv4 or IPv6 nfgenmsg family
//     (EOPNOTSUPP otherwise): without one, the family of an address in the
//     filter is used, else the table is dumped once per family (each dump
//     walks the whole conntrack hash: some 10 ms for 262144 buckets).
func planDump(table Table, want *KernelFilter, sup FilterSupport) dumpPlan {
	if want.Empty() {
		return dumpPlan{families: []int{AF_UNSPEC}}
	}
	var p KernelFilter
	if sup.Family && (want.Family == AF_INET || want.Family == AF_INET6) {
		p.Family = want.Family
	}
	if table != TableConntrack {
		// The dying and unconfirmed lists filter by family only.
		return dumpPlan{pushed: p, families: []int{p.Family}}
	}
	if sup.Mark && want.MarkMask != 0 {
		p.Mark, p.MarkMask = want.Mark, want.MarkMask
	}
	if sup.Status && want.StatusMask != 0 {
		p.Status, p.StatusMask = want.Status, want.StatusMask
	}
	if sup.Zone && want.ZoneSet && want.Zone != 0 {
		p.Zone, p.ZoneSet = want.Zone, true
	}
	plan := dumpPlan{pushed: p, families: []int{p.Family}}
	if !sup.Tuple {
		return plan
	}
	fam := p.Family
	if fam == AF_UNSPEC {
		// An address equality fixes the family of every entry it selects.
		for _, t := range []*TupleFilter{&want.Orig, &want.Reply} {
			if fam == AF_UNSPEC && t.Fields&CTA_FILTER_FLAG_CTA_IP_SRC != 0 {
				fam = addrFamily(t.Src)
			}
			if fam == AF_UNSPEC && t.Fields&CTA_FILTER_FLAG_CTA_IP_DST != 0 {
				fam = addrFamily(t.Dst)
			}
		}
	}
	plan.pushed.Orig = pushableTuple(want.Orig, fam)
	plan.pushed.Reply = pushableTuple(want.Reply, fam)
	if plan.pushed.Orig.Fields|plan.pushed.Reply.Fields == 0 {
		return plan
	}
	switch {
	case p.Family != AF_UNSPEC:
		// The pushed family is the nfgenmsg family already.
	case fam != AF_UNSPEC:
		plan.tupleFamily = fam
	case want.Ordered:
		// One dump per family would change the order of the entries.
		plan.pushed.Orig, plan.pushed.Reply = TupleFilter{}, TupleFilter{}
	default:
		plan.families = []int{AF_INET, AF_INET6}
	}
	return plan
}

// pushableTuple keeps the fields of t that the kernel can match exactly in
// a dump of family fam (AF_UNSPEC: each family in turn, so no address and
// no ICMP field; AF_INET6: no address either). The ICMP fields come out
// with the kernel's flags for the family.
func pushableTuple(t TupleFilter, fam int) TupleFilter {
	var out TupleFilter
	in := t.Fields
	// IPv6 addresses are never pushed: the kernel's comparison is inverted
	// (ctnetlink_filter_match_tuple tests !ipv6_addr_cmp(), which is true
	// for equal addresses), so an IPv6 address filter returns exactly the
	// entries whose address differs (measured on 6.18).
	if fam == AF_INET {
		if in&CTA_FILTER_FLAG_CTA_IP_SRC != 0 && t.Src.Is4() {
			out.Fields |= CTA_FILTER_FLAG_CTA_IP_SRC
			out.Src = t.Src
		}
		if in&CTA_FILTER_FLAG_CTA_IP_DST != 0 && t.Dst.Is4() {
			out.Fields |= CTA_FILTER_FLAG_CTA_IP_DST
			out.Dst = t.Dst
		}
	}
	if in&CTA_FILTER_FLAG_CTA_PROTO_NUM == 0 {
		return out
	}
	out.Fields |= CTA_FILTER_FLAG_CTA_PROTO_NUM
	out.Proto = t.Proto
	switch {
	case t.Proto == IPPROTO_TCP || t.Proto == IPPROTO_UDP:
		if in&CTA_FILTER_FLAG_CTA_PROTO_SRC_PORT != 0 {
			out.Fields |= CTA_FILTER_FLAG_CTA_PROTO_SRC_PORT
			out.Sport = t.Sport
		}
		if in&CTA_FILTER_FLAG_CTA_PROTO_DST_PORT != 0 {
			out.Fields |= CTA_FILTER_FLAG_CTA_PROTO_DST_PORT
			out.Dport = t.Dport
		}
	case t.Proto == IPPROTO_ICMP && fam == AF_INET:
		out.Fields |= icmpFields(t, fam, CTA_FILTER_FLAG_CTA_PROTO_ICMP_TYPE,
			CTA_FILTER_FLAG_CTA_PROTO_ICMP_CODE, CTA_FILTER_FLAG_CTA_PROTO_ICMP_ID, &out)
	case t.Proto == IPPROTO_ICMPV6 && fam == AF_INET6:
		out.Fields |= icmpFields(t, fam, CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_TYPE,
			CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_CODE, CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_ID, &out)
	}
	return out
}

// icmpFields copies the ICMP fields of t (given with either family's
// flags) into out and returns the kernel flags for them: typ, code and id.
func icmpFields(t TupleFilter, fam int, typ, code, id TupleFields, out *TupleFilter) TupleFields {
	var fl TupleFields
	in := t.Fields
	if in&(CTA_FILTER_FLAG_CTA_PROTO_ICMP_TYPE|CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_TYPE) != 0 &&
		icmpInvertible(fam, t.ICMPType) {
		fl |= typ
		out.ICMPType = t.ICMPType
	}
	if in&(CTA_FILTER_FLAG_CTA_PROTO_ICMP_CODE|CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_CODE) != 0 {
		fl |= code
		out.ICMPCode = t.ICMPCode
	}
	if in&(CTA_FILTER_FLAG_CTA_PROTO_ICMP_ID|CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_ID) != 0 {
		fl |= id
		out.ICMPID = t.ICMPID
	}
	return fl
}

// hasTuple reports whether the plan pushes CTA_FILTER.
func (p *dumpPlan) hasTuple() bool {
	return p.pushed.Orig.Fields|p.pushed.Reply.Fields != 0
}

// withoutTuple is p without its CTA_FILTER part.
func (p dumpPlan) withoutTuple() dumpPlan {
	p.pushed.Orig, p.pushed.Reply = TupleFilter{}, TupleFilter{}
	p.tupleFamily = AF_UNSPEC
	p.families = []int{p.pushed.Family}
	return p
}

// encodeDump encodes the dump request of one pass of plan over family.
func encodeDump(plan *dumpPlan, family int) []byte {
	k := &plan.pushed
	if family == AF_UNSPEC {
		family = plan.tupleFamily
	}
	e := newRequest(uint8(family))
	if k.MarkMask != 0 {
		e.u32(ctaMark, k.Mark)
		e.u32(ctaMarkMask, k.MarkMask)
	}
	if k.StatusMask != 0 {
		e.u32(ctaStatus, uint32(k.Status))
		e.u32(ctaStatusMask, uint32(k.StatusMask))
	}
	if k.ZoneSet {
		e.u16(ctaZone, k.Zone)
	}
	if plan.hasTuple() {
		if k.Orig.Fields != 0 {
			e.tupleFilter(ctaTupleOrig, &k.Orig)
		}
		if k.Reply.Fields != 0 {
			e.tupleFilter(ctaTupleReply, &k.Reply)
		}
		n := e.begin(ctaFilter)
		if k.Orig.Fields != 0 {
			e.hostU32(ctaFilterOrigFlags, uint32(k.Orig.Fields))
		}
		if k.Reply.Fields != 0 {
			e.hostU32(ctaFilterReplyFlags, uint32(k.Reply.Fields))
		}
		e.end(n)
	}
	return e.b
}

// tupleFilter appends the partial tuple that carries the values of the
// fields of t.
func (e *attrEncoder) tupleFilter(typ uint16, t *TupleFilter) {
	tn := e.begin(typ)
	if t.Fields&(CTA_FILTER_FLAG_CTA_IP_SRC|CTA_FILTER_FLAG_CTA_IP_DST) != 0 {
		n := e.begin(ctaTupleIP)
		if t.Fields&CTA_FILTER_FLAG_CTA_IP_SRC != 0 {
			e.addr(ctaIPv4Src, ctaIPv6Src, t.Src)
		}
		if t.Fields&CTA_FILTER_FLAG_CTA_IP_DST != 0 {
			e.addr(ctaIPv4Dst, ctaIPv6Dst, t.Dst)
		}
		e.end(n)
	}
	if t.Fields&CTA_FILTER_FLAG_CTA_PROTO_NUM != 0 {
		n := e.begin(ctaTupleProto)
		e.u8(ctaProtoNum, t.Proto)
		if t.Fields&CTA_FILTER_FLAG_CTA_PROTO_SRC_PORT != 0 {
			e.u16(ctaProtoSrcPort, t.Sport)
		}
		if t.Fields&CTA_FILTER_FLAG_CTA_PROTO_DST_PORT != 0 {
			e.u16(ctaProtoDstPort, t.Dport)
		}
		if t.Fields&CTA_FILTER_FLAG_CTA_PROTO_ICMP_TYPE != 0 {
			e.u8(ctaProtoICMPType, t.ICMPType)
		}
		if t.Fields&CTA_FILTER_FLAG_CTA_PROTO_ICMP_CODE != 0 {
			e.u8(ctaProtoICMPCode, t.ICMPCode)
		}
		if t.Fields&CTA_FILTER_FLAG_CTA_PROTO_ICMP_ID != 0 {
			e.u16(ctaProtoICMPID, t.ICMPID)
		}
		if t.Fields&CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_TYPE != 0 {
			e.u8(ctaProtoICMPv6Type, t.ICMPType)
		}
		if t.Fields&CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_CODE != 0 {
			e.u8(ctaProtoICMPv6Code, t.ICMPCode)
		}
		if t.Fields&CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_ID != 0 {
			e.u16(ctaProtoICMPv6ID, t.ICMPID)
		}
		e.end(n)
	}
	e.end(tn)
}

// errIncompleteKey is returned by encodeGet for a key without a full
// original tuple.
var errIncompleteKey = errors.New("lookup key needs the source and destination addresses of one family")

// encodeGet encodes an IPCTNL_MSG_CT_GET request for the original tuple
// (and zone) of key: addresses, protocol, and the ports or ICMP fields of
// protocols that have them.
func encodeGet(key *Flow) ([]byte, error) {
	fam, err := flowFamily(key)
	if err != nil {
		return nil, err
	}
	e := newRequest(uint8(fam))
	if err := e.lookupKey(key); err != nil {
		return nil, fmt.Errorf("lookup key: %w", err)
	}
	return e.b, nil
}

// encodeStats encodes an IPCTNL_MSG_CT_GET_STATS request.
func encodeStats() []byte {
	return newRequest(AF_UNSPEC).b
}
