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
		s = s.With(NTA_IPV4)
	case src.Is6() && dst.Is6():
		s = s.With(NTA_IPV6)
	}
	proto := f.ProtoNum
	c.Orig = Tuple{Src: src, Dst: dst, Proto: uint8(proto)}
	c.Status = f.Status
	s = s.With(NTA_STATUS, NTA_L4PROTO)
	if engine.HasPorts(proto) {
		c.Orig.Sport, c.Orig.Dport = uint16(f.Sport), uint16(f.Dport)
		s = s.With(NTA_PORT)
	}
	hasState := f.Has&engine.HasState != 0
	switch {
	case proto == engine.IPPROTO_TCP && hasState:
		c.TCPState = uint8(f.StateNum)
		s = s.With(NTA_TCP_STATE)
	case proto == engine.IPPROTO_SCTP && hasState:
		c.SCTPState = uint8(f.StateNum)
		c.SCTPVtagOrig, c.SCTPVtagReply = vtagFromFlow(f.OrigVtag), vtagFromFlow(f.ReplyVtag)
		s = s.With(NTA_SCTP_STATE, NTA_SCTP_VTAG_ORIG, NTA_SCTP_VTAG_REPL)
	case proto == engine.IPPROTO_DCCP && hasState:
		c.DCCPState, c.DCCPRole = uint8(f.StateNum), uint8(f.DCCPRole)
		s = s.With(NTA_DCCP_STATE, NTA_DCCP_ROLE)
	case proto == engine.IPPROTO_ICMP || proto == engine.IPPROTO_ICMPV6:
		c.ICMPType, c.ICMPCode, c.ICMPID = uint8(f.ICMPType), uint8(f.ICMPCode), uint16(f.ICMPID)
		s = s.With(NTA_ICMP_TYPE, NTA_ICMP_CODE, NTA_ICMP_ID)
	}
	if f.Has&engine.HasTimeout != 0 {
		c.Timeout = uint32(f.Timeout)
		s = s.With(NTA_TIMEOUT)
	}
	if f.Has&engine.HasMark != 0 {
		c.Mark = uint32(f.Mark)
		s = s.With(NTA_MARK)
	}
	if f.Has&engine.HasReply != 0 {
		s = c.fromReply(f, s)
	}
	if f.Has&engine.HasHelper != 0 && validCString(f.Helper, MaxHelperName) == nil {
		c.Helper = f.Helper
		s = s.With(NTA_HELPER_NAME)
	}
	if f.Has&engine.HasLabels != 0 && !f.Labels.Empty() {
		c.Labels = append([]uint32(nil), f.Labels.Words[:]...)
		s = s.With(NTA_LABELS)
	}
	if f.Has&engine.HasZone != 0 {
		c.Zone = uint16(f.Zone)
		s = s.With(NTA_ZONE)
	}
	c.Attrs = s
}

// fromReply adds the NAT attributes that f's reply tuple calls for to s
// (getobjopt NFCT_GOPT_IS_SNAT, _DNAT, _SPAT, _DPAT).
func (c *Conntrack) fromReply(f *engine.Flow, s CTAttrs) CTAttrs {
	snat := f.Status&engine.IPS_SRC_NAT_DONE != 0
	dnat := f.Status&engine.IPS_DST_NAT_DONE != 0
	v4 := s.Has(NTA_IPV4)
	sameFamily := func(a netip.Addr) bool {
		return s.Has(NTA_IPV4) && a.Is4() || s.Has(NTA_IPV6) && a.Is6()
	}
	if rd := f.ReplyDst.WithZone(""); snat && rd != c.Orig.Src && sameFamily(rd) {
		c.SNATAddr = rd
		s = s.With(pick(v4, NTA_SNAT_IPV4, NTA_SNAT_IPV6))
	}
	if rs := f.ReplySrc.WithZone(""); dnat && rs != c.Orig.Dst && sameFamily(rs) {
		c.DNATAddr = rs
		s = s.With(pick(v4, NTA_DNAT_IPV4, NTA_DNAT_IPV6))
	}
	if !engine.HasPorts(f.ProtoNum) {
		return s
	}
	if snat && f.ReplyDport != f.Sport {
		c.SNATPort = uint16(f.ReplyDport)
		s = s.With(NTA_SPAT_PORT)
	}
	if dnat && f.ReplySport != f.Dport {
		c.DNATPort = uint16(f.ReplySport)
		s = s.With(NTA_DPAT_PORT)
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
	case s.Has(NTA_IPV4):
		f.SetFamily(engine.AF_INET)
	case s.Has(NTA_IPV6):
		f.SetFamily(engine.AF_INET6)
	default:
		f.SetFamily(engine.AF_UNSPEC)
	}
	f.Src, f.Dst = c.Orig.Src, c.Orig.Dst
	f.SetProto(int(c.Orig.Proto))
	if s.Has(NTA_PORT) {
		f.Sport, f.Dport = int(c.Orig.Sport), int(c.Orig.Dport)
	}
	f.ICMPType, f.ICMPCode, f.ICMPID = int(c.ICMPType), int(c.ICMPCode), int(c.ICMPID)
	switch {
	case f.ProtoNum == engine.IPPROTO_TCP && s.Has(NTA_TCP_STATE):
		f.SetState(int(c.TCPState))
	case f.ProtoNum == engine.IPPROTO_SCTP && s.Has(NTA_SCTP_STATE):
		f.SetState(int(c.SCTPState))
	case f.ProtoNum == engine.IPPROTO_DCCP && s.Has(NTA_DCCP_STATE):
		f.SetState(int(c.DCCPState))
	}
	if s.Has(NTA_SCTP_VTAG_ORIG) || s.Has(NTA_SCTP_VTAG_REPL) {
		f.OrigVtag, f.ReplyVtag = vtagToFlow(c.SCTPVtagOrig), vtagToFlow(c.SCTPVtagReply)
		f.Has |= engine.HasVtags
	}
	if s.Has(NTA_DCCP_ROLE) {
		f.DCCPRole = int(c.DCCPRole)
		f.Has |= engine.HasRole
	}
	if s.Has(NTA_STATUS) {
		f.SetStatus(c.Status)
	}
	if s.Has(NTA_TIMEOUT) {
		f.Timeout = int(c.Timeout)
		f.Has |= engine.HasTimeout
	}
	if s.Has(NTA_MARK) {
		f.Mark = int(c.Mark)
		f.Has |= engine.HasMark
	}
	if s.Has(NTA_ZONE) {
		f.Zone = int(c.Zone)
		f.Has |= engine.HasZone
	}
	if s.Has(NTA_LABELS) {
		copy(f.Labels.Words[:], c.Labels)
		f.Has |= engine.HasLabels
	}
	if s.Has(NTA_HELPER_NAME) {
		f.Helper = c.Helper
		f.Has |= engine.HasHelper
	}
	if s.Has(NTA_IPV4) || s.Has(NTA_IPV6) {
		c.toReply(f)
	}
}

// toReply fills f's reply tuple the way a conntrackd receiver builds it.
func (c *Conntrack) toReply(f *engine.Flow) {
	s := c.Attrs
	f.ReplySrc, f.ReplyDst = f.Dst, f.Src
	if s.Has(NTA_DNAT_IPV4) || s.Has(NTA_DNAT_IPV6) {
		f.ReplySrc = c.DNATAddr
	}
	if s.Has(NTA_SNAT_IPV4) || s.Has(NTA_SNAT_IPV6) {
		f.ReplyDst = c.SNATAddr
	}
	if s.Has(NTA_PORT) {
		f.ReplySport, f.ReplyDport = f.Dport, f.Sport
		if s.Has(NTA_DPAT_PORT) {
			f.ReplySport = int(c.DNATPort)
		}
		if s.Has(NTA_SPAT_PORT) {
			f.ReplyDport = int(c.SNATPort)
		}
	}
	if s.Has(NTA_ICMP_TYPE) {
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
	case engine.IPPROTO_ICMP:
		// ICMP_ECHO/ICMP_ECHOREPLY, ICMP_TIMESTAMP/ICMP_TIMESTAMPREPLY,
		// ICMP_INFO_REQUEST/ICMP_INFO_REPLY, ICMP_ADDRESS/ICMP_ADDRESSREPLY.
		pairs = [][2]uint8{{8, 0}, {13, 14}, {15, 16}, {17, 18}}
	case engine.IPPROTO_ICMPV6:
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
