package wire

import "fmt"

// Expect is the body of an EXP NEW, UPD or DEL message: every expectation
// attribute conntrackd 1.4.7 knows. Attrs says which are present; a field
// whose attribute is absent is zero.
type Expect struct {
	// Attrs is the set of attributes present. Of each IPv4/IPv6 pair
	// (NTA_EXP_MASTER_IPV4/6, NTA_EXP_EXPECT_IPV4/6, NTA_EXP_MASK_IPV4/6)
	// at most one may be present; the NAT tuple is IPv4 only.
	Attrs ExpAttrs

	// Master is the original tuple of the master connection:
	// NTA_EXP_MASTER_IPV4 or _IPV6, _L4PROTO and _PORT.
	Master Tuple
	// Expected is the expected tuple: NTA_EXP_EXPECT_IPV4 or _IPV6,
	// _L4PROTO and _PORT.
	Expected Tuple
	// Mask is the mask applied to the expected tuple: NTA_EXP_MASK_IPV4 or
	// _IPV6, _L4PROTO and _PORT.
	Mask Tuple
	// Timeout is the seconds left (NTA_EXP_TIMEOUT).
	Timeout uint32
	// Flags holds the NF_CT_EXPECT_* bits (NTA_EXP_FLAGS).
	Flags uint32
	// Class is the expectation class (NTA_EXP_CLASS).
	Class uint32
	// NAT is the NAT tuple: NTA_EXP_NAT_IPV4, _L4PROTO and _PORT.
	NAT Tuple
	// NATDir is the direction the NAT tuple applies to (NTA_EXP_NAT_DIR).
	NATDir uint32
	// Helper is the name of the helper that created the expectation
	// (NTA_EXP_HELPER_NAME), at most MaxHelperName bytes.
	Helper string
	// Fn is the name of the expectation function (NTA_EXP_FN), at most
	// MaxExpFn bytes.
	Fn string
}

// expOrder is the order in which conntrackd 1.4.7's exp2msg emits the
// attributes.
var expOrder = [ExpAttrMax]ExpAttr{
	ExpAttrMasterIPv4, ExpAttrMasterIPv6, ExpAttrMasterL4Proto, ExpAttrMasterPort,
	ExpAttrExpectIPv4, ExpAttrExpectIPv6, ExpAttrExpectL4Proto, ExpAttrExpectPort,
	ExpAttrMaskIPv4, ExpAttrMaskIPv6, ExpAttrMaskL4Proto, ExpAttrMaskPort,
	ExpAttrTimeout, ExpAttrFlags, ExpAttrClass,
	ExpAttrNATIPv4, ExpAttrNATL4Proto, ExpAttrNATPort, ExpAttrNATDir,
	ExpAttrHelperName, ExpAttrFn,
}

// allExpAttrs is the set of every known expectation attribute.
const allExpAttrs = ExpAttrs(1)<<ExpAttrMax - 1

// decodeExpect decodes the TLVs of an EXP message. Of two attributes that
// fill the same field the later wins.
func decodeExpect(body []byte) (*Expect, error) {
	e := new(Expect)
	err := walkTLVs(body, expSizes[:], expMaxTLV[:], func(t uint16, v []byte) error {
		return e.set(ExpAttr(t), v)
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// set stores the value v of attribute a, whose size walkTLVs checked.
func (e *Expect) set(a ExpAttr, v []byte) error {
	switch a {
	case ExpAttrMasterIPv4, ExpAttrMasterIPv6:
		e.Master.Src, e.Master.Dst = addrPair(v, len(v)/2)
		e.Attrs = e.Attrs.Without(ExpAttrMasterIPv4, ExpAttrMasterIPv6)
	case ExpAttrMasterL4Proto:
		e.Master.Proto = v[0]
	case ExpAttrMasterPort:
		e.Master.Sport, e.Master.Dport = be16(v), be16(v[2:])
	case ExpAttrExpectIPv4, ExpAttrExpectIPv6:
		e.Expected.Src, e.Expected.Dst = addrPair(v, len(v)/2)
		e.Attrs = e.Attrs.Without(ExpAttrExpectIPv4, ExpAttrExpectIPv6)
	case ExpAttrExpectL4Proto:
		e.Expected.Proto = v[0]
	case ExpAttrExpectPort:
		e.Expected.Sport, e.Expected.Dport = be16(v), be16(v[2:])
	case ExpAttrMaskIPv4, ExpAttrMaskIPv6:
		e.Mask.Src, e.Mask.Dst = addrPair(v, len(v)/2)
		e.Attrs = e.Attrs.Without(ExpAttrMaskIPv4, ExpAttrMaskIPv6)
	case ExpAttrMaskL4Proto:
		e.Mask.Proto = v[0]
	case ExpAttrMaskPort:
		e.Mask.Sport, e.Mask.Dport = be16(v), be16(v[2:])
	case ExpAttrTimeout:
		e.Timeout = be32(v)
	case ExpAttrFlags:
		e.Flags = be32(v)
	case ExpAttrClass:
		e.Class = be32(v)
	case ExpAttrNATIPv4:
		e.NAT.Src, e.NAT.Dst = addrPair(v, sizeIPv4)
	case ExpAttrNATPort:
		e.NAT.Sport, e.NAT.Dport = be16(v), be16(v[2:])
	case ExpAttrNATL4Proto:
		e.NAT.Proto = v[0]
	case ExpAttrNATDir:
		e.NATDir = be32(v)
	case ExpAttrHelperName:
		s, err := cString(v)
		if err != nil {
			return fmt.Errorf("helper name: %w", err)
		}
		e.Helper = s
	case ExpAttrFn:
		s, err := cString(v)
		if err != nil {
			return fmt.Errorf("function name: %w", err)
		}
		e.Fn = s
	}
	e.Attrs = e.Attrs.With(a)
	return nil
}

// validate checks that e can be encoded into a message conntrackd accepts.
func (e *Expect) validate() error {
	if extra := e.Attrs &^ allExpAttrs; extra != 0 {
		return fmt.Errorf("unknown attributes %#x", uint32(extra))
	}
	s := e.Attrs
	tuples := []struct {
		name       string
		has4, has6 bool
		t          *Tuple
	}{
		{"master tuple", s.Has(ExpAttrMasterIPv4), s.Has(ExpAttrMasterIPv6), &e.Master},
		{"expected tuple", s.Has(ExpAttrExpectIPv4), s.Has(ExpAttrExpectIPv6), &e.Expected},
		{"mask", s.Has(ExpAttrMaskIPv4), s.Has(ExpAttrMaskIPv6), &e.Mask},
		{"NAT tuple", s.Has(ExpAttrNATIPv4), false, &e.NAT},
	}
	for _, tu := range tuples {
		if err := checkFamily(tu.has4, tu.has6, tu.t.Src, tu.t.Dst); err != nil {
			return fmt.Errorf("%s: %w", tu.name, err)
		}
	}
	if s.Has(ExpAttrHelperName) {
		if err := validCString(e.Helper, MaxHelperName); err != nil {
			return fmt.Errorf("helper name: %w", err)
		}
	}
	if s.Has(ExpAttrFn) {
		if err := validCString(e.Fn, MaxExpFn); err != nil {
			return fmt.Errorf("function name: %w", err)
		}
	}
	return nil
}

// appendTo appends e's TLVs in conntrackd's order; e must be valid.
func (e *Expect) appendTo(w *tlvWriter) {
	for _, a := range expOrder {
		if e.Attrs.Has(a) {
			e.put(w, a)
		}
	}
}

// put appends attribute a.
func (e *Expect) put(w *tlvWriter, a ExpAttr) {
	t := uint16(a)
	switch a {
	case ExpAttrMasterIPv4, ExpAttrMasterIPv6:
		w.addrs(t, e.Master.Src, e.Master.Dst)
	case ExpAttrMasterL4Proto:
		w.u8(t, e.Master.Proto)
	case ExpAttrMasterPort:
		w.ports(t, e.Master.Sport, e.Master.Dport)
	case ExpAttrExpectIPv4, ExpAttrExpectIPv6:
		w.addrs(t, e.Expected.Src, e.Expected.Dst)
	case ExpAttrExpectL4Proto:
		w.u8(t, e.Expected.Proto)
	case ExpAttrExpectPort:
		w.ports(t, e.Expected.Sport, e.Expected.Dport)
	case ExpAttrMaskIPv4, ExpAttrMaskIPv6:
		w.addrs(t, e.Mask.Src, e.Mask.Dst)
	case ExpAttrMaskL4Proto:
		w.u8(t, e.Mask.Proto)
	case ExpAttrMaskPort:
		w.ports(t, e.Mask.Sport, e.Mask.Dport)
	case ExpAttrTimeout:
		w.be32(t, e.Timeout)
	case ExpAttrFlags:
		w.be32(t, e.Flags)
	case ExpAttrClass:
		w.be32(t, e.Class)
	case ExpAttrNATIPv4:
		w.addrs(t, e.NAT.Src, e.NAT.Dst)
	case ExpAttrNATL4Proto:
		w.u8(t, e.NAT.Proto)
	case ExpAttrNATPort:
		w.ports(t, e.NAT.Sport, e.NAT.Dport)
	case ExpAttrNATDir:
		w.be32(t, e.NATDir)
	case ExpAttrHelperName:
		w.cString(t, e.Helper)
	case ExpAttrFn:
		w.cString(t, e.Fn)
	}
}
