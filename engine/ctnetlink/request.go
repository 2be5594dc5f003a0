//go:build linux

package ctnetlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"github.com/mdlayher/netlink"

	"ctq/engine"
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
		return engine.FamilyIPv4
	case a.Is6():
		return engine.FamilyIPv6
	}
	return engine.FamilyUnspec
}

// icmpInvertible reports whether the kernel accepts an ICMP (family
// AF_INET) or ICMPv6 type in a tuple: only types conntrack can invert
// (echo, timestamp, info, address mask; ICMPv6 echo and node information)
// are tracked, and the kernel rejects a filter on any other type.
func icmpInvertible(family int, typ uint8) bool {
	if family == engine.FamilyIPv4 {
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
	pushed   engine.KernelFilter
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
func planDump(table engine.Table, want *engine.KernelFilter, sup engine.FilterSupport) dumpPlan {
	if want.Empty() {
		return dumpPlan{families: []int{engine.FamilyUnspec}}
	}
	var p engine.KernelFilter
	if sup.Family && (want.Family == engine.FamilyIPv4 || want.Family == engine.FamilyIPv6) {
		p.Family = want.Family
	}
	if table != engine.TableConntrack {
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
	if fam == engine.FamilyUnspec {
		// An address equality fixes the family of every entry it selects.
		for _, t := range []*engine.TupleFilter{&want.Orig, &want.Reply} {
			if fam == engine.FamilyUnspec && t.Fields&engine.TupleSrc != 0 {
				fam = addrFamily(t.Src)
			}
			if fam == engine.FamilyUnspec && t.Fields&engine.TupleDst != 0 {
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
	case p.Family != engine.FamilyUnspec:
		// The pushed family is the nfgenmsg family already.
	case fam != engine.FamilyUnspec:
		plan.tupleFamily = fam
	case want.Ordered:
		// One dump per family would change the order of the entries.
		plan.pushed.Orig, plan.pushed.Reply = engine.TupleFilter{}, engine.TupleFilter{}
	default:
		plan.families = []int{engine.FamilyIPv4, engine.FamilyIPv6}
	}
	return plan
}

// pushableTuple keeps the fields of t that the kernel can match exactly in
// a dump of family fam (AF_UNSPEC: each family in turn, so no address and
// no ICMP field; AF_INET6: no address either). The ICMP fields come out
// with the kernel's flags for the family.
func pushableTuple(t engine.TupleFilter, fam int) engine.TupleFilter {
	var out engine.TupleFilter
	in := t.Fields
	// IPv6 addresses are never pushed: the kernel's comparison is inverted
	// (ctnetlink_filter_match_tuple tests !ipv6_addr_cmp(), which is true
	// for equal addresses), so an IPv6 address filter returns exactly the
	// entries whose address differs (measured on 6.18).
	if fam == engine.FamilyIPv4 {
		if in&engine.TupleSrc != 0 && t.Src.Is4() {
			out.Fields |= engine.TupleSrc
			out.Src = t.Src
		}
		if in&engine.TupleDst != 0 && t.Dst.Is4() {
			out.Fields |= engine.TupleDst
			out.Dst = t.Dst
		}
	}
	if in&engine.TupleProto == 0 {
		return out
	}
	out.Fields |= engine.TupleProto
	out.Proto = t.Proto
	switch {
	case t.Proto == engine.ProtoTCP || t.Proto == engine.ProtoUDP:
		if in&engine.TupleSport != 0 {
			out.Fields |= engine.TupleSport
			out.Sport = t.Sport
		}
		if in&engine.TupleDport != 0 {
			out.Fields |= engine.TupleDport
			out.Dport = t.Dport
		}
	case t.Proto == engine.ProtoICMP && fam == engine.FamilyIPv4:
		out.Fields |= icmpFields(t, fam, engine.TupleICMPType,
			engine.TupleICMPCode, engine.TupleICMPID, &out)
	case t.Proto == engine.ProtoICMPv6 && fam == engine.FamilyIPv6:
		out.Fields |= icmpFields(t, fam, engine.TupleICMPv6Type,
			engine.TupleICMPv6Code, engine.TupleICMPv6ID, &out)
	}
	return out
}

// icmpFields copies the ICMP fields of t (given with either family's
// flags) into out and returns the kernel flags for them: typ, code and id.
func icmpFields(t engine.TupleFilter, fam int, typ, code, id engine.TupleFields, out *engine.TupleFilter) engine.TupleFields {
	var fl engine.TupleFields
	in := t.Fields
	if in&(engine.TupleICMPType|engine.TupleICMPv6Type) != 0 &&
		icmpInvertible(fam, t.ICMPType) {
		fl |= typ
		out.ICMPType = t.ICMPType
	}
	if in&(engine.TupleICMPCode|engine.TupleICMPv6Code) != 0 {
		fl |= code
		out.ICMPCode = t.ICMPCode
	}
	if in&(engine.TupleICMPID|engine.TupleICMPv6ID) != 0 {
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
	p.pushed.Orig, p.pushed.Reply = engine.TupleFilter{}, engine.TupleFilter{}
	p.tupleFamily = engine.FamilyUnspec
	p.families = []int{p.pushed.Family}
	return p
}

// encodeDump encodes the dump request of one pass of plan over family.
func encodeDump(plan *dumpPlan, family int) []byte {
	k := &plan.pushed
	if family == engine.FamilyUnspec {
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
func (e *attrEncoder) tupleFilter(typ uint16, t *engine.TupleFilter) {
	tn := e.begin(typ)
	if t.Fields&(engine.TupleSrc|engine.TupleDst) != 0 {
		n := e.begin(ctaTupleIP)
		if t.Fields&engine.TupleSrc != 0 {
			e.addr(ctaIPv4Src, ctaIPv6Src, t.Src)
		}
		if t.Fields&engine.TupleDst != 0 {
			e.addr(ctaIPv4Dst, ctaIPv6Dst, t.Dst)
		}
		e.end(n)
	}
	if t.Fields&engine.TupleProto != 0 {
		n := e.begin(ctaTupleProto)
		e.u8(ctaProtoNum, t.Proto)
		if t.Fields&engine.TupleSport != 0 {
			e.u16(ctaProtoSrcPort, t.Sport)
		}
		if t.Fields&engine.TupleDport != 0 {
			e.u16(ctaProtoDstPort, t.Dport)
		}
		if t.Fields&engine.TupleICMPType != 0 {
			e.u8(ctaProtoICMPType, t.ICMPType)
		}
		if t.Fields&engine.TupleICMPCode != 0 {
			e.u8(ctaProtoICMPCode, t.ICMPCode)
		}
		if t.Fields&engine.TupleICMPID != 0 {
			e.u16(ctaProtoICMPID, t.ICMPID)
		}
		if t.Fields&engine.TupleICMPv6Type != 0 {
			e.u8(ctaProtoICMPv6Type, t.ICMPType)
		}
		if t.Fields&engine.TupleICMPv6Code != 0 {
			e.u8(ctaProtoICMPv6Code, t.ICMPCode)
		}
		if t.Fields&engine.TupleICMPv6ID != 0 {
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
func encodeGet(key *engine.Flow) ([]byte, error) {
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
	return newRequest(engine.FamilyUnspec).b
}
