package wire

import (
	"encoding/binary"
	"net/netip"

	"ctq/engine"
)

// FromFlow sets c to the attributes conntrackd 1.4.7 sends for the kernel
// entry f, in the same way (ct2msg):
//
//   - the original addresses, STATUS and L4PROTO always;
//   - PORT for every protocol with ports (conntrackd omits it for UDPLITE
//     and GRE, whose entries then arrive without ports or keys; a
//     conntrackd receiver takes it);
//   - TCP_STATE; SCTP_STATE with both verification tags; DCCP_STATE with
//     the role; when f has a state. ICMP_TYPE, ICMP_CODE and ICMP_ID for
//     ICMP and ICMPv6;
//   - TIMEOUT, MARK, HELPER_NAME, ZONE when f has them, LABELS when a
//     label is set (as four words, the kernel's 128 bits);
//   - SNAT/DNAT addresses when the status has SRC_NAT_DONE/DST_NAT_DONE and
//     the reply tuple's destination/source differs from the inverted
//     original; SPAT/DPAT ports likewise, for protocols with ports only
//     (conntrackd also compares ICMP's id with the reply's type and code,
//     and sends the meaningless result for NATed ICMP flows).
//
// f carries no master tuple, NAT sequence adjustment, window scale or SYN
// proxy state, so those attributes are left out (conntrackd sends a zero
// SYNPROXY for entries made through ctnetlink; receivers do not need it).
// A helper name a receiver would reject (longer than MaxHelperName) is
// left out too, so that the result is always valid for AppendMessage.
// Counters, timestamps, ID, use count, secmark and security context are
// not part of the protocol.
func (c *Conntrack) FromFlow(f *engine.Flow) {
	*c = Conntrack{}
	var s CTAttrs
	src, dst := f.Src.WithZone(""), f.Dst.WithZone("")
	switch {
	case src.Is4() && dst.Is4():
		s = s.With(AttrIPv4)
	case src.Is6() && dst.Is6():
		s = s.With(AttrIPv6)
	}
	proto := f.ProtoNum
	c.Orig = Tuple{Src: src, Dst: dst, Proto: uint8(proto)}
	c.Status = f.Status
	s = s.With(AttrStatus, AttrL4Proto)
	if engine.HasPorts(proto) {
		c.Orig.Sport, c.Orig.Dport = uint16(f.Sport), uint16(f.Dport)
		s = s.With(AttrPort)
	}
	hasState := f.Has&engine.HasState != 0
	switch {
	case proto == engine.ProtoTCP && hasState:
		c.TCPState = uint8(f.StateNum)
		s = s.With(AttrTCPState)
	case proto == engine.ProtoSCTP && hasState:
		c.SCTPState = uint8(f.StateNum)
		c.SCTPVtagOrig, c.SCTPVtagReply = vtagFromFlow(f.OrigVtag), vtagFromFlow(f.ReplyVtag)
		s = s.With(AttrSCTPState, AttrSCTPVtagOrig, AttrSCTPVtagReply)
	case proto == engine.ProtoDCCP && hasState:
		c.DCCPState, c.DCCPRole = uint8(f.StateNum), uint8(f.DCCPRole)
		s = s.With(AttrDCCPState, AttrDCCPRole)
	case proto == engine.ProtoICMP || proto == engine.ProtoICMPv6:
		c.ICMPType, c.ICMPCode, c.ICMPID = uint8(f.ICMPType), uint8(f.ICMPCode), uint16(f.ICMPID)
		s = s.With(AttrICMPType, AttrICMPCode, AttrICMPID)
	}
	if f.Has&engine.HasTimeout != 0 {
		c.Timeout = uint32(f.Timeout)
		s = s.With(AttrTimeout)
	}
	if f.Has&engine.HasMark != 0 {
		c.Mark = uint32(f.Mark)
		s = s.With(AttrMark)
	}
	if f.Has&engine.HasReply != 0 {
		s = c.fromReply(f, s)
	}
	if f.Has&engine.HasHelper != 0 && validCString(f.Helper, MaxHelperName) == nil {
		c.Helper = f.Helper
		s = s.With(AttrHelperName)
	}
	if f.Has&engine.HasLabels != 0 && !f.Labels.Empty() {
		c.Labels = append([]uint32(nil), f.Labels.Words[:]...)
		s = s.With(AttrLabels)
	}
	if f.Has&engine.HasZone != 0 {
		c.Zone = uint16(f.Zone)
		s = s.With(AttrZone)
	}
	c.Attrs = s
}

// fromReply adds the NAT attributes that f's reply tuple calls for to s
// (getobjopt NFCT_GOPT_IS_SNAT, _DNAT, _SPAT, _DPAT).
func (c *Conntrack) fromReply(f *engine.Flow, s CTAttrs) CTAttrs {
	snat := f.Status&engine.StatusSrcNATDone != 0
	dnat := f.Status&engine.StatusDstNATDone != 0
	v4 := s.Has(AttrIPv4)
	sameFamily := func(a netip.Addr) bool {
		return s.Has(AttrIPv4) && a.Is4() || s.Has(AttrIPv6) && a.Is6()
	}
	if rd := f.ReplyDst.WithZone(""); snat && rd != c.Orig.Src && sameFamily(rd) {
		c.SNATAddr = rd
		s = s.With(pick(v4, AttrSNATIPv4, AttrSNATIPv6))
	}
	if rs := f.ReplySrc.WithZone(""); dnat && rs != c.Orig.Dst && sameFamily(rs) {
		c.DNATAddr = rs
		s = s.With(pick(v4, AttrDNATIPv4, AttrDNATIPv6))
	}
	if !engine.HasPorts(f.ProtoNum) {
		return s
	}
	if snat && f.ReplyDport != f.Sport {
		c.SNATPort = uint16(f.ReplyDport)
		s = s.With(AttrSPATPort)
	}
	if dnat && f.ReplySport != f.Dport {
		c.DNATPort = uint16(f.ReplySport)
		s = s.With(AttrDPATPort)
	}
	return s
}

// pick returns a if cond, else b.
func pick(cond bool, a, b CTAttr) CTAttr {
	if cond {
		return a
	}
	return b
}

// ToFlow resets f and fills it from c: family, protocol, original tuple,
// state, status, timeout, mark, zone, labels (the first four words),
// helper, SCTP verification tags (in engine.Flow's host-order form) and
// DCCP role, for the attributes present. The reply tuple is the one a conntrackd receiver creates when
// it commits the entry: the inverted original tuple with the SNAT/DNAT
// addresses and ports applied, and for ICMP the reply type the kernel pairs
// with the original one (echo request → echo reply; a type without a pair
// is kept). Attributes engine.Flow has no field for (master tuple, NAT
// sequence adjustment, window scale, SYN proxy) are not carried over.
func (c *Conntrack) ToFlow(f *engine.Flow) {
	f.Reset()
	s := c.Attrs
	switch {
	case s.Has(AttrIPv4):
		f.SetFamily(engine.FamilyIPv4)
	case s.Has(AttrIPv6):
		f.SetFamily(engine.FamilyIPv6)
	default:
		f.SetFamily(engine.FamilyUnspec)
	}
	f.Src, f.Dst = c.Orig.Src, c.Orig.Dst
	f.SetProto(int(c.Orig.Proto))
	if s.Has(AttrPort) {
		f.Sport, f.Dport = int(c.Orig.Sport), int(c.Orig.Dport)
	}
	f.ICMPType, f.ICMPCode, f.ICMPID = int(c.ICMPType), int(c.ICMPCode), int(c.ICMPID)
	switch {
	case f.ProtoNum == engine.ProtoTCP && s.Has(AttrTCPState):
		f.SetState(int(c.TCPState))
	case f.ProtoNum == engine.ProtoSCTP && s.Has(AttrSCTPState):
		f.SetState(int(c.SCTPState))
	case f.ProtoNum == engine.ProtoDCCP && s.Has(AttrDCCPState):
		f.SetState(int(c.DCCPState))
	}
	if s.Has(AttrSCTPVtagOrig) || s.Has(AttrSCTPVtagReply) {
		f.OrigVtag, f.ReplyVtag = vtagToFlow(c.SCTPVtagOrig), vtagToFlow(c.SCTPVtagReply)
		f.Has |= engine.HasVtags
	}
	if s.Has(AttrDCCPRole) {
		f.DCCPRole = int(c.DCCPRole)
		f.Has |= engine.HasRole
	}
	if s.Has(AttrStatus) {
		f.SetStatus(c.Status)
	}
	if s.Has(AttrTimeout) {
		f.Timeout = int(c.Timeout)
		f.Has |= engine.HasTimeout
	}
	if s.Has(AttrMark) {
		f.Mark = int(c.Mark)
		f.Has |= engine.HasMark
	}
	if s.Has(AttrZone) {
		f.Zone = int(c.Zone)
		f.Has |= engine.HasZone
	}
	if s.Has(AttrLabels) {
		copy(f.Labels.Words[:], c.Labels)
		f.Has |= engine.HasLabels
	}
	if s.Has(AttrHelperName) {
		f.Helper = c.Helper
		f.Has |= engine.HasHelper
	}
	if s.Has(AttrIPv4) || s.Has(AttrIPv6) {
		c.toReply(f)
	}
}

// toReply fills f's reply tuple the way a conntrackd receiver builds it.
func (c *Conntrack) toReply(f *engine.Flow) {
	s := c.Attrs
	f.ReplySrc, f.ReplyDst = f.Dst, f.Src
	if s.Has(AttrDNATIPv4) || s.Has(AttrDNATIPv6) {
		f.ReplySrc = c.DNATAddr
	}
	if s.Has(AttrSNATIPv4) || s.Has(AttrSNATIPv6) {
		f.ReplyDst = c.SNATAddr
	}
	if s.Has(AttrPort) {
		f.ReplySport, f.ReplyDport = f.Dport, f.Sport
		if s.Has(AttrDPATPort) {
			f.ReplySport = int(c.DNATPort)
		}
		if s.Has(AttrSPATPort) {
			f.ReplyDport = int(c.SNATPort)
		}
	}
	if s.Has(AttrICMPType) {
		f.ReplyICMPType = int(icmpReplyType(f.ProtoNum, c.ICMPType))
	}
	f.ReplyICMPCode, f.ReplyICMPID = f.ICMPCode, f.ICMPID
	f.Has |= engine.HasReply
}

// vtagToFlow converts an SCTP verification tag to engine.Flow's form of
// it, the kernel's (network-order) bytes read in host order, as conntrack(8)
// shows and takes it.
func vtagToFlow(v uint32) int {
	return int(binary.NativeEndian.Uint32(binary.BigEndian.AppendUint32(nil, v)))
}

// vtagFromFlow is the inverse of vtagToFlow.
func vtagFromFlow(v int) uint32 {
	return binary.BigEndian.Uint32(binary.NativeEndian.AppendUint32(nil, uint32(v)))
}

// icmpReplyType is the ICMP or ICMPv6 type the kernel expects in reply to
// type t (its invmap tables); t itself when there is none.
func icmpReplyType(proto int, t uint8) uint8 {
	var pairs [][2]uint8
	switch proto {
	case engine.ProtoICMP:
		// ICMP_ECHO/ICMP_ECHOREPLY, ICMP_TIMESTAMP/ICMP_TIMESTAMPREPLY,
		// ICMP_INFO_REQUEST/ICMP_INFO_REPLY, ICMP_ADDRESS/ICMP_ADDRESSREPLY.
		pairs = [][2]uint8{{8, 0}, {13, 14}, {15, 16}, {17, 18}}
	case engine.ProtoICMPv6:
		// ICMPV6_ECHO_REQUEST/ICMPV6_ECHO_REPLY, ICMPV6_NI_QUERY/ICMPV6_NI_REPLY.
		pairs = [][2]uint8{{128, 129}, {139, 140}}
	}
	for _, p := range pairs {
		switch t {
		case p[0]:
			return p[1]
		case p[1]:
			return p[0]
		}
	}
	return t
}
