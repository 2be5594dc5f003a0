//go:build linux

package ctnetlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"ctq/engine"
)

// This file encodes conntrack entries into the payloads of
// IPCTNL_MSG_CT_DELETE and IPCTNL_MSG_CT_NEW requests (and the lookup key
// of IPCTNL_MSG_CT_GET).

// flowFamily is the address family of f: its Family, else that of its
// source address. Both addresses must belong to it.
func flowFamily(f *engine.Flow) (int, error) {
	fam := engine.FamilyNum(f.Family)
	if fam == engine.FamilyUnspec {
		fam = addrFamily(f.Src)
	}
	if fam == engine.FamilyUnspec || addrFamily(f.Src) != fam || addrFamily(f.Dst) != fam {
		return 0, errIncompleteKey
	}
	return fam, nil
}

// startRequest appends the nfgenmsg header of a request for family.
func (e *attrEncoder) startRequest(family int) {
	e.b = append(e.b, uint8(family), nfnetlinkV0, 0, 0)
}

// tupleVals is one direction's tuple as the kernel encodes it.
type tupleVals struct {
	src, dst     netip.Addr
	proto        int
	sport, dport int // ports, or GRE keys
	icmpType     int
	icmpCode     int
	icmpID       int
	zone         int // CTA_TUPLE_ZONE when nonzero
}

// origTuple is f's original tuple, without its zone.
func origTuple(f *engine.Flow) tupleVals {
	return tupleVals{src: f.Src, dst: f.Dst, proto: f.ProtoNum, sport: f.Sport, dport: f.Dport,
		icmpType: f.ICMPType, icmpCode: f.ICMPCode, icmpID: f.ICMPID}
}

// replyTuple is f's reply tuple: as given when f.Has&HasReply, else the
// inverse of the original tuple (the reply of an ICMP request carries the
// matching reply type).
func replyTuple(f *engine.Flow, family int) (tupleVals, error) {
	if f.Has&engine.HasReply != 0 {
		return tupleVals{src: f.ReplySrc, dst: f.ReplyDst, proto: f.ProtoNum,
			sport: f.ReplySport, dport: f.ReplyDport,
			icmpType: f.ReplyICMPType, icmpCode: f.ReplyICMPCode, icmpID: f.ReplyICMPID}, nil
	}
	t := tupleVals{src: f.Dst, dst: f.Src, proto: f.ProtoNum, sport: f.Dport, dport: f.Sport,
		icmpCode: f.ICMPCode, icmpID: f.ICMPID}
	if f.ProtoNum == engine.ProtoICMP || f.ProtoNum == engine.ProtoICMPv6 {
		typ, ok := icmpReplyType(family, f.ProtoNum, f.ICMPType)
		if !ok {
			return t, fmt.Errorf("%s type %d has no reply type: give the reply tuple", f.Proto, f.ICMPType)
		}
		t.icmpType = typ
	}
	return t, nil
}

// icmpReplyType is the type of the reply to an ICMP (in IPv4) or ICMPv6
// (in IPv6) message conntrack tracks: echo, timestamp, information and
// address mask requests, ICMPv6 echo and node information queries, and
// their replies (the kernel's invmap tables).
func icmpReplyType(family, proto, typ int) (int, bool) {
	var pairs [][2]int
	switch {
	case family == engine.FamilyIPv4 && proto == engine.ProtoICMP:
		pairs = [][2]int{{8, 0}, {13, 14}, {15, 16}, {17, 18}}
	case family == engine.FamilyIPv6 && proto == engine.ProtoICMPv6:
		pairs = [][2]int{{128, 129}, {139, 140}}
	}
	for _, p := range pairs {
		switch typ {
		case p[0]:
			return p[1], true
		case p[1]:
			return p[0], true
		}
	}
	return 0, false
}

// checkRange fails when v is outside 0..max.
func checkRange(what string, v, max int) error {
	if v < 0 || v > max {
		return fmt.Errorf("%s %d out of range 0..%d", what, v, max)
	}
	return nil
}

// tuple appends a complete tuple as nest typ: addresses, protocol, and
// the ports (GRE keys) or ICMP fields of protocols that have them.
func (e *attrEncoder) tuple(typ uint16, t *tupleVals) error {
	if err := checkRange("protocol number", t.proto, 0xff); err != nil {
		return err
	}
	var err error
	for _, c := range []struct {
		what   string
		v, max int
	}{
		{"source port", t.sport, 0xffff}, {"destination port", t.dport, 0xffff},
		{"icmp type", t.icmpType, 0xff}, {"icmp code", t.icmpCode, 0xff}, {"icmp id", t.icmpID, 0xffff},
		{"zone", t.zone, 0xffff},
	} {
		if err == nil {
			err = checkRange(c.what, c.v, c.max)
		}
	}
	if err != nil {
		return err
	}
	tn := e.begin(typ)
	n := e.begin(ctaTupleIP)
	e.addr(ctaIPv4Src, ctaIPv6Src, t.src)
	e.addr(ctaIPv4Dst, ctaIPv6Dst, t.dst)
	e.end(n)
	n = e.begin(ctaTupleProto)
	e.u8(ctaProtoNum, uint8(t.proto))
	switch {
	case t.proto == engine.ProtoICMP:
		e.u8(ctaProtoICMPType, uint8(t.icmpType))
		e.u8(ctaProtoICMPCode, uint8(t.icmpCode))
		e.u16(ctaProtoICMPID, uint16(t.icmpID))
	case t.proto == engine.ProtoICMPv6:
		e.u8(ctaProtoICMPv6Type, uint8(t.icmpType))
		e.u8(ctaProtoICMPv6Code, uint8(t.icmpCode))
		e.u16(ctaProtoICMPv6ID, uint16(t.icmpID))
	case engine.HasPorts(t.proto):
		e.u16(ctaProtoSrcPort, uint16(t.sport))
		e.u16(ctaProtoDstPort, uint16(t.dport))
	}
	e.end(n)
	if t.zone != 0 {
		e.u16(ctaTupleZone, uint16(t.zone))
	}
	e.end(tn)
	return nil
}

// lookupKey appends what identifies an existing entry: its original tuple
// and the zone to look it up in. A directional zone is looked up like a
// zone of both directions: the kernel hashes the original tuple with the
// original direction's zone, and an entry with a reply-direction zone is
// found in zone 0.
func (e *attrEncoder) lookupKey(f *engine.Flow) error {
	t := origTuple(f)
	if err := e.tuple(ctaTupleOrig, &t); err != nil {
		return err
	}
	zone := f.Zone
	if zone == 0 {
		zone = f.OrigZone
	}
	if err := checkRange("zone", zone, 0xffff); err != nil {
		return err
	}
	if zone != 0 {
		e.u16(ctaZone, uint16(zone))
	}
	return nil
}

// encodeDelete appends an IPCTNL_MSG_CT_DELETE request for f: its lookup
// key and, when f.Has&HasID, its ID, so that the kernel deletes only the
// entry that was read (ENOENT for another entry that took the tuple since).
func encodeDelete(e *attrEncoder, f *engine.Flow) error {
	fam, err := flowFamily(f)
	if err != nil {
		return err
	}
	e.startRequest(fam)
	if err := e.lookupKey(f); err != nil {
		return err
	}
	if f.Has&engine.HasID != 0 {
		e.u32(ctaID, uint32(f.ID))
	}
	return nil
}

// encodeUpdate appends an IPCTNL_MSG_CT_NEW request without NLM_F_CREATE
// that applies c to the entry f:
//
//   - CTA_TIMEOUT, CTA_MARK (the whole mark is replaced);
//   - CTA_STATUS: the kernel takes the new status whole and refuses to
//     clear SEEN_REPLY, ASSURED or CONFIRMED, so it is f.Status (as read)
//     with IPS_CONFIRMED and c.SetStatus ORed in;
//   - CTA_LABELS with CTA_LABELS_MASK: the kernel sets each label bit in
//     the mask to its value in CTA_LABELS (new = old&^mask | labels), so
//     the mask is AddLabels|DelLabels and the value AddLabels (a bit in
//     both is set);
//   - CTA_PROTOINFO with the protocol's state alone (TCP, SCTP, DCCP), as
//     conntrack -U --state sends it.
//
// CTA_ID is sent when f.Has&HasID, but the kernel (up to 6.18 at least)
// does not check it on an update: the update reaches whatever entry holds
// the tuple.
func encodeUpdate(e *attrEncoder, f *engine.Flow, c *engine.Change) error {
	fam, err := flowFamily(f)
	if err != nil {
		return err
	}
	e.startRequest(fam)
	if err := e.lookupKey(f); err != nil {
		return err
	}
	if f.Has&engine.HasID != 0 {
		e.u32(ctaID, uint32(f.ID))
	}
	if c.SetTimeout {
		e.u32(ctaTimeout, c.Timeout)
	}
	if c.SetStatus != 0 {
		e.u32(ctaStatus, uint32(f.Status|engine.StatusConfirmed|c.SetStatus))
	}
	if c.SetMark {
		e.u32(ctaMark, c.Mark)
	}
	if !c.AddLabels.Empty() || !c.DelLabels.Empty() {
		var mask engine.Labels
		for i := range mask.Words {
			mask.Words[i] = c.AddLabels.Words[i] | c.DelLabels.Words[i]
		}
		e.labels(ctaLabels, c.AddLabels)
		e.labels(ctaLabelsMask, mask)
	}
	if c.SetState {
		return e.protoState(f, c.StateNum)
	}
	return nil
}

// protoState appends a CTA_PROTOINFO that sets the state of the entry f:
// the state alone for TCP and DCCP; for SCTP, whose protocol info the
// kernel takes only whole (EINVAL otherwise), with the verification tags
// as read.
func (e *attrEncoder) protoState(f *engine.Flow, state int) error {
	if err := checkRange("state", state, 0xff); err != nil {
		return err
	}
	var nest, attr uint16
	switch f.ProtoNum {
	case engine.ProtoTCP:
		nest, attr = ctaProtoinfoTCP, ctaProtoinfoTCPState
	case engine.ProtoSCTP:
		nest, attr = ctaProtoinfoSCTP, ctaProtoinfoSCTPState
	case engine.ProtoDCCP:
		nest, attr = ctaProtoinfoDCCP, ctaProtoinfoDCCPState
	default:
		return fmt.Errorf("protocol %d has no state to set (only tcp, sctp and dccp have)", f.ProtoNum)
	}
	pi := e.begin(ctaProtoinfo)
	n := e.begin(nest)
	e.u8(attr, uint8(state))
	if f.ProtoNum == engine.ProtoSCTP {
		e.sctpVtags(f)
	}
	e.end(n)
	e.end(pi)
	return nil
}

// sctpVtags appends f's SCTP verification tags. They are kept as
// conntrack(8) shows them, the wire bytes read in host order (see
// decode.go): they are written back alike.
func (e *attrEncoder) sctpVtags(f *engine.Flow) {
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(f.OrigVtag))
	e.bytes(ctaProtoinfoSCTPVtagOriginal, b[:])
	binary.NativeEndian.PutUint32(b[:], uint32(f.ReplyVtag))
	e.bytes(ctaProtoinfoSCTPVtagReply, b[:])
}

// labels appends a label bit map in the kernel's layout: host-order
// 32-bit words.
func (e *attrEncoder) labels(typ uint16, l engine.Labels) {
	var b [16]byte
	for i, w := range l.Words {
		binary.NativeEndian.PutUint32(b[4*i:], w)
	}
	e.bytes(typ, b[:])
}

// errNoTimeout is returned for a create without a timeout, which the
// kernel requires.
var errNoTimeout = errors.New("a new entry needs a timeout")

// encodeCreate appends an IPCTNL_MSG_CT_NEW request (sent with
// NLM_F_CREATE|NLM_F_EXCL) that creates f:
//
//   - both tuples (the reply as given, or the inverted original); the
//     directional zones go into them as CTA_TUPLE_ZONE, a zone of both
//     directions is CTA_ZONE;
//   - CTA_NAT_SRC and CTA_NAT_DST when the given reply tuple is
//     translated (see splitNAT): the reply tuple sent is then the
//     untranslated one, and the kernel translates it again while it sets
//     up NAT on the new entry, which sets IPS_SRC_NAT or IPS_DST_NAT. A
//     kernel without NAT (CONFIG_NF_NAT) refuses such an entry with
//     EOPNOTSUPP;
//   - CTA_TIMEOUT (required), CTA_STATUS with IPS_CONFIRMED (the kernel
//     refuses a status without it with EBUSY);
//   - CTA_PROTOINFO when f has a state: the TCP state with the window
//     flags conntrack(8) sets on entries it makes (be liberal, SACK
//     permitted, and close-init from TIME_WAIT on) so that the first
//     packets are not dropped as out of window; the SCTP state and
//     verification tags; the DCCP state and role;
//   - CTA_MARK, CTA_LABELS and CTA_HELP (the helper) when set. The kernel
//     silently skips labels when no label is in use in the namespace (no
//     rule that sets ct labels).
func encodeCreate(e *attrEncoder, f *engine.Flow) error {
	fam, err := flowFamily(f)
	if err != nil {
		return err
	}
	if f.Has&engine.HasTimeout == 0 && f.Timeout == 0 {
		return errNoTimeout
	}
	if err := checkRange("timeout", f.Timeout, 1<<32-1); err != nil {
		return err
	}
	if err := checkRange("zone", f.Zone, 0xffff); err != nil {
		return err
	}
	if err := checkRange("mark", f.Mark, 1<<32-1); err != nil {
		return err
	}
	reply, err := replyTuple(f, fam)
	if err != nil {
		return err
	}
	if f.Has&engine.HasReply != 0 && (addrFamily(reply.src) != fam || addrFamily(reply.dst) != fam) {
		return fmt.Errorf("the reply tuple needs the source and destination addresses of the family")
	}
	orig := origTuple(f)
	orig.zone, reply.zone = f.OrigZone, f.ReplyZone
	var snat, dnat natVals
	if f.Has&engine.HasReply != 0 {
		if snat, dnat, err = splitNAT(&orig, &reply); err != nil {
			return fmt.Errorf("reply tuple: %w", err)
		}
	}
	e.startRequest(fam)
	if err := e.tuple(ctaTupleOrig, &orig); err != nil {
		return err
	}
	if err := e.tuple(ctaTupleReply, &reply); err != nil {
		return fmt.Errorf("reply tuple: %w", err)
	}
	e.nat(ctaNatSrc, &snat)
	e.nat(ctaNatDst, &dnat)
	if f.Zone != 0 {
		e.u16(ctaZone, uint16(f.Zone))
	}
	e.u32(ctaTimeout, uint32(f.Timeout))
	e.u32(ctaStatus, uint32(f.Status|engine.StatusConfirmed))
	if err := e.protoinfo(f); err != nil {
		return err
	}
	if f.Mark != 0 {
		e.u32(ctaMark, uint32(f.Mark))
	}
	if !f.Labels.Empty() {
		e.labels(ctaLabels, f.Labels)
	}
	if f.Helper != "" {
		n := e.begin(ctaHelp)
		e.bytes(ctaHelpName, append([]byte(f.Helper), 0))
		e.end(n)
	}
	return nil
}

// enum ctattr_nat and enum ctattr_protonat: the nests of CTA_NAT_SRC and
// CTA_NAT_DST.
const (
	ctaNatV4MinIP      = 1 // CTA_NAT_V4_MINIP (4 bytes, network order)
	ctaNatV4MaxIP      = 2 // CTA_NAT_V4_MAXIP (4 bytes, network order)
	ctaNatProto        = 3 // CTA_NAT_PROTO (nested, enum ctattr_protonat)
	ctaNatV6MinIP      = 4 // CTA_NAT_V6_MINIP (16 bytes)
	ctaNatV6MaxIP      = 5 // CTA_NAT_V6_MAXIP (16 bytes)
	ctaProtonatPortMin = 1 // CTA_PROTONAT_PORT_MIN (u16; ICMP: the id)
	ctaProtonatPortMax = 2 // CTA_PROTONAT_PORT_MAX (u16)
)

// natVals is one translation of a new entry: the address and the port
// (ICMP: the id) the kernel maps a tuple's source or destination to.
type natVals struct {
	addr    netip.Addr // invalid: the address is kept
	port    int
	hasPort bool
}

// splitNAT takes the translations out of a given reply tuple: reply is
// left as the plain inverse of orig in the translated parts, and the
// translations are returned as the kernel's NAT setup takes them. The
// kernel sets up the destination NAT, then the source NAT, of a new
// entry from the inverse of the reply tuple it was given; it marks the
// entry IPS_DST_NAT or IPS_SRC_NAT only when that changes the tuple, so a
// reply sent already translated would leave the entry without them (and
// its packets untranslated).
//
//   - source NAT: the reply's destination differs from the original
//     source, or its destination port from the original source port;
//   - destination NAT: the reply's source differs from the original
//     destination, or its source port from the original destination port;
//   - ICMP: a reply ID that differs from the original one is a source NAT
//     of the ID (the kernel keeps the ID in the tuples' source part).
//
// GRE keys stay in the reply as given: the kernel changes them only for
// an entry with a master (PPTP), which a created entry has not.
func splitNAT(orig, reply *tupleVals) (snat, dnat natVals, err error) {
	if reply.dst != orig.src {
		snat.addr, reply.dst = reply.dst, orig.src
	}
	if reply.src != orig.dst {
		dnat.addr, reply.src = reply.src, orig.dst
	}
	switch {
	case engine.HasPorts(orig.proto) && orig.proto != engine.ProtoGRE:
		if err := checkRange("source port", reply.sport, 0xffff); err != nil {
			return snat, dnat, err
		}
		if err := checkRange("destination port", reply.dport, 0xffff); err != nil {
			return snat, dnat, err
		}
		if reply.dport != orig.sport {
			snat.port, snat.hasPort, reply.dport = reply.dport, true, orig.sport
		}
		if reply.sport != orig.dport {
			dnat.port, dnat.hasPort, reply.sport = reply.sport, true, orig.dport
		}
	case orig.proto == engine.ProtoICMP || orig.proto == engine.ProtoICMPv6:
		if err := checkRange("icmp id", reply.icmpID, 0xffff); err != nil {
			return snat, dnat, err
		}
		if reply.icmpID != orig.icmpID {
			snat.port, snat.hasPort, reply.icmpID = reply.icmpID, true, orig.icmpID
		}
	}
	return snat, dnat, nil
}

// nat appends n as the nest typ (CTA_NAT_SRC, CTA_NAT_DST), a range of
// one address and one port; nothing when n translates nothing.
func (e *attrEncoder) nat(typ uint16, n *natVals) {
	if !n.addr.IsValid() && !n.hasPort {
		return
	}
	nn := e.begin(typ)
	if n.addr.IsValid() {
		e.addr(ctaNatV4MinIP, ctaNatV6MinIP, n.addr)
		e.addr(ctaNatV4MaxIP, ctaNatV6MaxIP, n.addr)
	}
	if n.hasPort {
		p := e.begin(ctaNatProto)
		e.u16(ctaProtonatPortMin, uint16(n.port))
		e.u16(ctaProtonatPortMax, uint16(n.port))
		e.end(p)
	}
	e.end(nn)
}

// protoinfo appends the CTA_PROTOINFO of a new entry with a state.
func (e *attrEncoder) protoinfo(f *engine.Flow) error {
	if f.Has&engine.HasState == 0 {
		return nil
	}
	if err := checkRange("state", f.StateNum, 0xff); err != nil {
		return err
	}
	state := uint8(f.StateNum)
	switch f.ProtoNum {
	case engine.ProtoTCP:
		flags := uint8(ipCTTCPFlagBeLiberal | ipCTTCPFlagSackPerm)
		if f.StateNum >= tcpConntrackTimeWait {
			flags |= ipCTTCPFlagCloseInit
		}
		pi := e.begin(ctaProtoinfo)
		n := e.begin(ctaProtoinfoTCP)
		e.u8(ctaProtoinfoTCPState, state)
		// struct nf_ct_tcp_flags: the flags, then the mask of those set.
		e.bytes(ctaProtoinfoTCPFlagsOriginal, []byte{flags, flags})
		e.bytes(ctaProtoinfoTCPFlagsReply, []byte{flags, flags})
		e.end(n)
		e.end(pi)
	case engine.ProtoSCTP:
		pi := e.begin(ctaProtoinfo)
		n := e.begin(ctaProtoinfoSCTP)
		e.u8(ctaProtoinfoSCTPState, state)
		e.sctpVtags(f)
		e.end(n)
		e.end(pi)
	case engine.ProtoDCCP:
		if err := checkRange("dccp role", f.DCCPRole, 0xff); err != nil {
			return err
		}
		pi := e.begin(ctaProtoinfo)
		n := e.begin(ctaProtoinfoDCCP)
		e.u8(ctaProtoinfoDCCPState, state)
		e.u8(ctaProtoinfoDCCPRole, uint8(f.DCCPRole))
		e.end(n)
		e.end(pi)
	}
	return nil
}

// tcpConntrackTimeWait is TCP_CONNTRACK_TIME_WAIT, from which on
// conntrack(8) marks a new entry's connection as closing.
const tcpConntrackTimeWait = 7

// entryKey identifies an entry in messages: its original tuple, zone and
// ID, kept instead of the Flow (which the caller reuses).
type entryKey struct {
	proto              int
	src, dst           netip.Addr
	sport, dport       int
	icmpType, icmpCode int
	icmpID             int
	zone               int
	id                 int
	hasID              bool
}

func keyOf(f *engine.Flow) entryKey {
	k := entryKey{proto: f.ProtoNum, src: f.Src, dst: f.Dst, sport: f.Sport, dport: f.Dport,
		icmpType: f.ICMPType, icmpCode: f.ICMPCode, icmpID: f.ICMPID,
		zone: f.Zone, id: f.ID, hasID: f.Has&engine.HasID != 0}
	if k.zone == 0 {
		k.zone = f.OrigZone
	}
	return k
}

// String reads like "tcp 192.0.2.1:42002 -> 198.51.100.7:443 zone 3 id 77".
func (k entryKey) String() string {
	var b strings.Builder
	b.WriteString(engine.ProtoName(k.proto))
	if engine.ProtoName(k.proto) == "unknown" {
		b.WriteString("(" + strconv.Itoa(k.proto) + ")")
	}
	addr := func(a netip.Addr, port int) string {
		if engine.HasPorts(k.proto) && port >= 0 && port <= 0xffff {
			return netip.AddrPortFrom(a, uint16(port)).String()
		}
		return a.String()
	}
	fmt.Fprintf(&b, " %s -> %s", addr(k.src, k.sport), addr(k.dst, k.dport))
	if k.proto == engine.ProtoICMP || k.proto == engine.ProtoICMPv6 {
		fmt.Fprintf(&b, " type %d code %d id %d", k.icmpType, k.icmpCode, k.icmpID)
	}
	if k.zone != 0 {
		fmt.Fprintf(&b, " zone %d", k.zone)
	}
	if k.hasID {
		fmt.Fprintf(&b, " id %d", k.id)
	}
	return b.String()
}
