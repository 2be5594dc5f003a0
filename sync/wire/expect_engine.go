package wire

import (
	"net/netip"

	"ctq/engine"
)

// expPorts reports whether conntrackd 1.4.7's exp2msg sends the port
// groups of an expectation whose master has layer-4 protocol proto: it
// does for TCP, UDP, SCTP and DCCP masters only (its exp_l4proto_fcn
// table), and then for the master, expected, mask and NAT tuples alike.
func expPorts(proto int) bool {
	switch proto {
	case engine.ProtoTCP, engine.ProtoUDP, engine.ProtoSCTP, engine.ProtoDCCP:
		return true
	}
	return false
}

// tupleFamily reports whether src and dst are of one family (ok), and
// whether that is IPv4.
func tupleFamily(src, dst netip.Addr) (v4, ok bool) {
	switch {
	case src.Is4() && dst.Is4():
		return true, true
	case src.Is6() && dst.Is6():
		return false, true
	}
	return false, false
}

// FromExpect sets x to the attributes conntrackd 1.4.7 sends for the
// kernel expectation e, in the same way (exp2msg):
//
//   - the master's original addresses (when both are of one family) and
//     L4PROTO, the expected tuple's addresses and L4PROTO, the mask's
//     addresses (when e has a mask) and L4PROTO (the expected protocol,
//     as the kernel reports the mask);
//   - the PORT of each of those tuples when the master's protocol is TCP,
//     UDP, SCTP or DCCP (conntrackd decides on the master's protocol for
//     all three), in network order: unlike CT's ICMP_ID, SPAT and DPAT,
//     the expectation ports have no host-order quirk;
//   - TIMEOUT when e has one; FLAGS always; CLASS when e has one;
//   - HELPER_NAME and FN when set and short enough for a receiver;
//   - for an expectation with a NAT part (e.Has&engine.HasExpNAT) whose
//     NAT tuple is IPv4 (the protocol has no IPv6 NAT attribute; an IPv6
//     one is left out): NAT_IPV4 (a missing destination as 0.0.0.0, as
//     the kernel reports it), NAT_L4PROTO, NAT_PORT under the same rule
//     as the other ports, and NAT_DIR.
//
// The zone is left out: the protocol does not carry it. The sender's CommitTimeout rule (no TIMEOUT) is the caller's.
func (x *Expect) FromExpect(e *engine.Expect) {
	*x = Expect{}
	var s ExpAttrs
	ports := expPorts(e.MasterProtoNum)
	if v4, ok := tupleFamily(e.MasterSrc, e.MasterDst); ok {
		x.Master.Src, x.Master.Dst = e.MasterSrc.Unmap(), e.MasterDst.Unmap()
		s = s.With(pickExp(v4, ExpAttrMasterIPv4, ExpAttrMasterIPv6))
	}
	x.Master.Proto = uint8(e.MasterProtoNum)
	s = s.With(ExpAttrMasterL4Proto)
	if v4, ok := tupleFamily(e.Src, e.Dst); ok {
		x.Expected.Src, x.Expected.Dst = e.Src.Unmap(), e.Dst.Unmap()
		s = s.With(pickExp(v4, ExpAttrExpectIPv4, ExpAttrExpectIPv6))
	}
	x.Expected.Proto = uint8(e.ProtoNum)
	s = s.With(ExpAttrExpectL4Proto)
	if v4, ok := tupleFamily(e.MaskSrc, e.MaskDst); ok {
		x.Mask.Src, x.Mask.Dst = e.MaskSrc.Unmap(), e.MaskDst.Unmap()
		s = s.With(pickExp(v4, ExpAttrMaskIPv4, ExpAttrMaskIPv6))
	}
	x.Mask.Proto = uint8(e.ProtoNum)
	s = s.With(ExpAttrMaskL4Proto)
	if ports {
		x.Master.Sport, x.Master.Dport = uint16(e.MasterSport), uint16(e.MasterDport)
		x.Expected.Sport, x.Expected.Dport = uint16(e.Sport), uint16(e.Dport)
		x.Mask.Sport, x.Mask.Dport = uint16(e.MaskSport), uint16(e.MaskDport)
		s = s.With(ExpAttrMasterPort, ExpAttrExpectPort, ExpAttrMaskPort)
	}
	if e.Has&engine.HasExpTimeout != 0 {
		x.Timeout = uint32(e.Timeout)
		s = s.With(ExpAttrTimeout)
	}
	x.Flags = uint32(e.Flags)
	s = s.With(ExpAttrFlags)
	if e.Has&engine.HasExpClass != 0 {
		x.Class = uint32(e.Class)
		s = s.With(ExpAttrClass)
	}
	if e.Helper != "" && validCString(e.Helper, MaxHelperName) == nil {
		x.Helper = e.Helper
		s = s.With(ExpAttrHelperName)
	}
	if e.Fn != "" && validCString(e.Fn, MaxExpFn) == nil {
		x.Fn = e.Fn
		s = s.With(ExpAttrFn)
	}
	if e.Has&engine.HasExpNAT != 0 && e.NATSrc.Unmap().Is4() && (!e.NATDst.IsValid() || e.NATDst.Unmap().Is4()) {
		x.NAT.Src, x.NAT.Dst = e.NATSrc.Unmap(), netip.IPv4Unspecified()
		if e.NATDst.IsValid() {
			x.NAT.Dst = e.NATDst.Unmap()
		}
		x.NAT.Proto = uint8(e.NATProtoNum)
		x.NATDir = uint32(e.NATDir)
		s = s.With(ExpAttrNATIPv4, ExpAttrNATL4Proto, ExpAttrNATDir)
		if ports {
			x.NAT.Sport, x.NAT.Dport = uint16(e.NATSport), uint16(e.NATDport)
			s = s.With(ExpAttrNATPort)
		}
	}
	x.Attrs = s
}

// pickExp returns a if cond, else b.
func pickExp(cond bool, a, b ExpAttr) ExpAttr {
	if cond {
		return a
	}
	return b
}

// ToExpect resets e and fills it from x, for the attributes present: the
// family (of the expected addresses, else the master's), the expected
// tuple, its mask, the master tuple, timeout, flags, class, helper and
// function name, and the NAT part when any NAT attribute is present (its
// protocol, without NAT_L4PROTO, is the master's, as the kernel reports
// it). The zone is 0 (the protocol has none).
func (x *Expect) ToExpect(e *engine.Expect) {
	*e = engine.Expect{}
	s := x.Attrs
	switch {
	case s.Has(ExpAttrExpectIPv4), !s.Has(ExpAttrExpectIPv6) && s.Has(ExpAttrMasterIPv4):
		e.Family = engine.FamilyName(engine.FamilyIPv4)
	case s.Has(ExpAttrExpectIPv6), s.Has(ExpAttrMasterIPv6):
		e.Family = engine.FamilyName(engine.FamilyIPv6)
	}
	if s.Has(ExpAttrExpectIPv4) || s.Has(ExpAttrExpectIPv6) {
		e.Src, e.Dst = x.Expected.Src, x.Expected.Dst
	}
	if s.Has(ExpAttrExpectL4Proto) {
		e.ProtoNum, e.Proto = int(x.Expected.Proto), engine.ProtoName(int(x.Expected.Proto))
	}
	if s.Has(ExpAttrExpectPort) {
		e.Sport, e.Dport = int(x.Expected.Sport), int(x.Expected.Dport)
	}
	if s.Has(ExpAttrMaskIPv4) || s.Has(ExpAttrMaskIPv6) {
		e.MaskSrc, e.MaskDst = x.Mask.Src, x.Mask.Dst
		e.Has |= engine.HasExpMask
	}
	if s.Has(ExpAttrMaskPort) {
		e.MaskSport, e.MaskDport = int(x.Mask.Sport), int(x.Mask.Dport)
		e.Has |= engine.HasExpMask
	}
	if s.Has(ExpAttrMasterIPv4) || s.Has(ExpAttrMasterIPv6) {
		e.MasterSrc, e.MasterDst = x.Master.Src, x.Master.Dst
		e.Has |= engine.HasExpMaster
	}
	if s.Has(ExpAttrMasterL4Proto) {
		e.MasterProtoNum, e.MasterProto = int(x.Master.Proto), engine.ProtoName(int(x.Master.Proto))
	}
	if s.Has(ExpAttrMasterPort) {
		e.MasterSport, e.MasterDport = int(x.Master.Sport), int(x.Master.Dport)
	}
	if s.Has(ExpAttrTimeout) {
		e.Timeout = int(x.Timeout)
		e.Has |= engine.HasExpTimeout
	}
	if s.Has(ExpAttrFlags) {
		e.SetFlags(int(x.Flags))
	}
	if s.Has(ExpAttrClass) {
		e.Class = int(x.Class)
		e.Has |= engine.HasExpClass
	}
	if s.Has(ExpAttrHelperName) {
		e.Helper = x.Helper
		e.Has |= engine.HasExpHelper
	}
	if s.Has(ExpAttrFn) {
		e.Fn = x.Fn
		e.Has |= engine.HasExpFn
	}
	x.toExpectNAT(e)
}

// toExpectNAT sets e's NAT part from x's NAT attributes, if any.
func (x *Expect) toExpectNAT(e *engine.Expect) {
	s := x.Attrs
	if !s.Has(ExpAttrNATIPv4) && !s.Has(ExpAttrNATL4Proto) && !s.Has(ExpAttrNATPort) && !s.Has(ExpAttrNATDir) {
		return
	}
	e.Has |= engine.HasExpNAT
	if s.Has(ExpAttrNATIPv4) {
		e.NATSrc, e.NATDst = x.NAT.Src, x.NAT.Dst
	}
	e.NATProtoNum = e.MasterProtoNum
	if s.Has(ExpAttrNATL4Proto) {
		e.NATProtoNum = int(x.NAT.Proto)
	}
	if s.Has(ExpAttrNATPort) {
		e.NATSport, e.NATDport = int(x.NAT.Sport), int(x.NAT.Dport)
	}
	if s.Has(ExpAttrNATDir) {
		e.NATDir = int(x.NATDir)
	}
}
