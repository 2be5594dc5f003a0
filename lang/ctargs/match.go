package ctargs

import (
	"net/netip"

	"ctq/engine"
)

// matcher evaluates a command line's filters on an entry with
// conntrack's userspace semantics (nfct_filter, mnl_nfct_update_cb),
// fixed where 1.4.7 does not do what its options say (see Differences).
// It holds a copy of the parse: it is never changed after building.
type matcher struct {
	t       tmpl
	options uint32
	family  int
}

// maskedEqual reports whether a&mask == net&mask, for addresses of one
// family; masks need not be contiguous.
func maskedEqual(a, mask, net netip.Addr) bool {
	if !a.IsValid() || a.Is4() != mask.Is4() || a.Is4() != net.Is4() {
		return false
	}
	x, m, n := a.As16(), mask.As16(), net.As16()
	if a.Is4() {
		x4, m4, n4 := a.As4(), mask.As4(), net.As4()
		copy(x[:4], x4[:])
		copy(m[:4], m4[:])
		copy(n[:4], n4[:])
		for i := 4; i < 16; i++ {
			x[i], m[i], n[i] = 0, 0, 0
		}
	}
	for i := range x {
		if x[i]&m[i] != n[i]&m[i] {
			return false
		}
	}
	return true
}

// filter is nfct_filter: NAT, mark, labels, networks, then (when a
// comparison option was given) the template comparison.
func (m *matcher) filter(f *engine.Flow) (bool, error) {
	if !m.familyOK(f) || !m.nat(f) || !m.mark(f) || !m.labels(f) || !m.network(f) {
		return false, nil
	}
	if m.options&optComparison != 0 && !m.compare(f) {
		return false, nil
	}
	return true, nil
}

// update is the selection of -U (mnl_nfct_update_cb): NAT, labels,
// networks, id, then the original and reply tuples when given; the mark,
// status, timeout and state are what -U sets, not filters.
func (m *matcher) update(f *engine.Flow) (bool, error) {
	if !m.familyOK(f) || !m.nat(f) || !m.labels(f) || !m.network(f) {
		return false, nil
	}
	t := &m.t
	if m.options&optID != 0 && f.Has&engine.HasID != 0 && uint32(f.ID) != t.id {
		return false, nil
	}
	if m.options&(optSrc|optDst|optProto) != 0 && !m.origTuple(f) {
		return false, nil
	}
	if m.options&(optReplySrc|optReplyDst|optProto) != 0 && !m.replyTuple(f) {
		return false, nil
	}
	return true, nil
}

// familyOK checks the address family the command line implies or names.
func (m *matcher) familyOK(f *engine.Flow) bool {
	return m.family == engine.FamilyUnspec || f.L3Num() == m.family
}

// mark is filter_mark: (mark & mask) == value; an entry without a mark
// never matches.
func (m *matcher) mark(f *engine.Flow) bool {
	if m.options&optMark == 0 {
		return true
	}
	return f.Has&engine.HasMark != 0 && uint32(f.Mark)&m.t.markMask == m.t.mark
}

// labels is filter_label: every listed label set.
func (m *matcher) labels(f *engine.Flow) bool {
	if m.t.has&hasLabels == 0 {
		return true
	}
	if f.Has&engine.HasLabels == 0 {
		return false
	}
	for i, w := range m.t.labels.Words {
		if f.Labels.Words[i]&w != w {
			return false
		}
	}
	return true
}

// network is filter_network: the original source (destination) address
// under --mask-src (--mask-dst) or a CIDR prefix.
func (m *matcher) network(f *engine.Flow) bool {
	t := &m.t
	if m.options&optMaskSrc != 0 && t.has&hasSrc != 0 && !maskedEqual(f.Src, t.maskSrc, t.src) {
		return false
	}
	if m.options&optMaskDst != 0 && t.has&hasDst != 0 && !maskedEqual(f.Dst, t.maskDst, t.dst) {
		return false
	}
	return true
}

// isNAT reports nfct_getobjopt's NFCT_GOPT_IS_SNAT/IS_SPAT (src) or
// IS_DNAT/IS_DPAT (dst): the NAT-done status bit and a reply tuple that
// differs from the original in the address (addr) or the port.
func isNAT(f *engine.Flow, src, addr bool) bool {
	bit := engine.StatusSrcNATDone
	if !src {
		bit = engine.StatusDstNATDone
	}
	if f.Has&engine.HasStatus != 0 && f.Status&bit == 0 {
		return false
	}
	switch {
	case src && addr:
		return f.ReplyDst != f.Src
	case src:
		return f.ReplyDport != f.Sport
	case addr:
		return f.ReplySrc != f.Dst
	}
	return f.ReplySport != f.Dport
}

// natSide is filter_nat's test of one side: -n (src) or -g (dst), with
// an optional address and port.
func natSide(f *engine.Flow, src bool, addr netip.Addr, hasAddr bool, port uint16, hasPort bool) bool {
	replyAddr, replyPort := f.ReplySrc, f.ReplySport
	if src {
		replyAddr, replyPort = f.ReplyDst, f.ReplyDport
	}
	has := false
	if hasAddr && isNAT(f, src, true) && replyAddr == addr {
		has = true
	}
	if hasPort {
		ok := isNAT(f, src, false) && uint16(replyPort) == port
		if hasAddr && has && !ok {
			has = false
		}
		if !hasAddr && ok {
			has = true
		}
	}
	if !hasAddr && !hasPort && (isNAT(f, src, true) || isNAT(f, src, false)) {
		has = true
	}
	return has
}

// nat is filter_nat, comparing IPv6 NAT addresses too.
func (m *matcher) nat(f *engine.Flow) bool {
	t := &m.t
	checkSrc := m.options&(optSrcNAT|optAnyNAT) != 0
	checkDst := m.options&(optDstNAT|optAnyNAT) != 0
	if !checkSrc && !checkDst {
		return true
	}
	var hasSrc, hasDst bool
	if checkSrc {
		hasSrc = natSide(f, true, t.snat, t.has&hasSNATAddr != 0, t.snatPort, t.has&hasSNATPort != 0)
	}
	if checkDst {
		hasDst = natSide(f, false, t.dnat, t.has&hasDNATAddr != 0, t.dnatPort, t.has&hasDNATPort != 0)
	}
	switch {
	case m.options&optAnyNAT != 0:
		return hasSrc || hasDst
	case checkSrc && checkDst:
		return hasSrc && hasDst
	case checkSrc:
		return hasSrc
	}
	return hasDst
}

// origTuple compares the original tuple fields given (NFCT_CMP_ORIG).
func (m *matcher) origTuple(f *engine.Flow) bool {
	t := &m.t
	if t.has&hasSrc != 0 && m.options&optMaskSrc == 0 && f.Src != t.src {
		return false
	}
	if t.has&hasDst != 0 && m.options&optMaskDst == 0 && f.Dst != t.dst {
		return false
	}
	if m.options&optProto != 0 && f.ProtoNum != t.proto {
		return false
	}
	if t.has&(hasSport|hasDport) != 0 {
		if !engine.HasPorts(f.ProtoNum) {
			return false
		}
		if t.has&hasSport != 0 && uint16(f.Sport) != t.sport {
			return false
		}
		if t.has&hasDport != 0 && uint16(f.Dport) != t.dport {
			return false
		}
	}
	if t.has&(hasICMPType|hasICMPCode|hasICMPID) != 0 {
		if f.ProtoNum != engine.ProtoICMP && f.ProtoNum != engine.ProtoICMPv6 {
			return false
		}
		if t.has&hasICMPType != 0 && uint8(f.ICMPType) != t.icmpType {
			return false
		}
		if t.has&hasICMPCode != 0 && uint8(f.ICMPCode) != t.icmpCode {
			return false
		}
		if t.has&hasICMPID != 0 && uint16(f.ICMPID) != t.icmpID {
			return false
		}
	}
	return true
}

// replyTuple compares the reply tuple fields given (NFCT_CMP_REPL).
func (m *matcher) replyTuple(f *engine.Flow) bool {
	t := &m.t
	if t.has&hasReplySrc != 0 && f.ReplySrc != t.replySrc {
		return false
	}
	if t.has&hasReplyDst != 0 && f.ReplyDst != t.replyDst {
		return false
	}
	if m.options&optProto != 0 && f.ProtoNum != t.proto {
		return false
	}
	if t.has&(hasReplySport|hasReplyDport) != 0 {
		if !engine.HasPorts(f.ProtoNum) {
			return false
		}
		if t.has&hasReplySport != 0 && uint16(f.ReplySport) != t.replySport {
			return false
		}
		if t.has&hasReplyDport != 0 && uint16(f.ReplyDport) != t.replyDport {
			return false
		}
	}
	return true
}

// compare is nfct_cmp(template, entry, NFCT_CMP_ALL | NFCT_CMP_MASK)
// for what the options put in the template: strict attributes must be
// present and equal; zones (and the secmark) compare with 0 when the
// entry has none.
func (m *matcher) compare(f *engine.Flow) bool {
	t := &m.t
	if !m.origTuple(f) || !m.replyTuple(f) {
		return false
	}
	if t.has&hasState != 0 && (f.Has&engine.HasState == 0 || f.ProtoNum != t.stateProto || f.StateNum != t.state) {
		return false
	}
	if t.has&hasOrigVtag != 0 && (f.Has&engine.HasVtags == 0 || uint32(f.OrigVtag) != t.origVtag) {
		return false
	}
	if t.has&hasReplyVtag != 0 && (f.Has&engine.HasVtags == 0 || uint32(f.ReplyVtag) != t.replyVtag) {
		return false
	}
	if t.has&hasRole != 0 && (f.Has&engine.HasRole == 0 || f.DCCPRole != t.role) {
		return false
	}
	if m.options&optTimeout != 0 && (f.Has&engine.HasTimeout == 0 || uint32(f.Timeout) != t.timeout) {
		return false
	}
	if m.options&optStatus != 0 {
		st := uint32(f.Status)
		if st&t.statusSet != t.statusSet || st&t.statusClear != 0 {
			return false
		}
	}
	if m.options&optID != 0 && (f.Has&engine.HasID == 0 || uint32(f.ID) != t.id) {
		return false
	}
	if m.options&optSecmark != 0 && uint32(f.Secmark) != t.secmark {
		return false
	}
	if m.options&optZone != 0 && uint16(f.Zone) != t.zone {
		return false
	}
	if m.options&optOrigZone != 0 && uint16(f.OrigZone) != t.origZone {
		return false
	}
	if m.options&optReplyZone != 0 && uint16(f.ReplyZone) != t.replyZone {
		return false
	}
	return true
}

// change computes what -U does to an entry: the mark
// ((old &^ mask) ^ value), the status bits ORed in, the timeout, the
// protocol state and the labels; parts that would not change are left
// out (conntrack does not send an update that changes nothing).
func (m *matcher) change(f *engine.Flow) (engine.Change, error) {
	t := &m.t
	var c engine.Change
	if m.options&optMark != 0 {
		old := uint32(f.Mark)
		if n := (old &^ t.markMask) ^ t.mark; n != old {
			c.SetMark, c.Mark = true, n
		}
	}
	if m.options&optStatus != 0 {
		if add := engine.Status(t.statusSet) &^ f.Status; add != 0 {
			c.SetStatus = add
		}
	}
	if m.options&optTimeout != 0 && (f.Has&engine.HasTimeout == 0 || uint32(f.Timeout) != t.timeout) {
		c.SetTimeout, c.Timeout = true, t.timeout
	}
	if t.has&hasState != 0 && (f.Has&engine.HasState == 0 || f.StateNum != t.state) {
		c.SetState, c.StateNum = true, t.state
	}
	if m.options&optLabelAdd != 0 {
		for i, w := range t.labelModify.Words {
			c.AddLabels.Words[i] = w &^ f.Labels.Words[i]
		}
	}
	if m.options&optLabelDel != 0 && f.Has&engine.HasLabels != 0 {
		for i, w := range f.Labels.Words {
			if t.has&hasLabelModify != 0 {
				w &= t.labelModify.Words[i]
			}
			c.DelLabels.Words[i] = w
		}
	}
	return c, nil
}
