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
var expOrder = [NTA_EXP_MAX]ExpAttr{
	NTA_EXP_MASTER_IPV4, NTA_EXP_MASTER_IPV6, NTA_EXP_MASTER_L4PROTO, NTA_EXP_MASTER_PORT,
	NTA_EXP_EXPECT_IPV4, NTA_EXP_EXPECT_IPV6, NTA_EXP_EXPECT_L4PROTO, NTA_EXP_EXPECT_PORT,
	NTA_EXP_MASK_IPV4, NTA_EXP_MASK_IPV6, NTA_EXP_MASK_L4PROTO, NTA_EXP_MASK_PORT,
	NTA_EXP_TIMEOUT, NTA_EXP_FLAGS, NTA_EXP_CLASS,
	NTA_EXP_NAT_IPV4, NTA_EXP_NAT_L4PROTO, NTA_EXP_NAT_PORT, NTA_EXP_NAT_DIR,
	NTA_EXP_HELPER_NAME, NTA_EXP_FN,
}

// allExpAttrs is the set of every known expectation attribute.
const allExpAttrs = ExpAttrs(1)<<NTA_EXP_MAX - 1

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
	case NTA_EXP_MASTER_IPV4, NTA_EXP_MASTER_IPV6:
		e.Master.Src, e.Master.Dst = addrPair(v, len(v)/2)
		e.Attrs = e.Attrs.Without(NTA_EXP_MASTER_IPV4, NTA_EXP_MASTER_IPV6)
	case NTA_EXP_MASTER_L4PROTO:
		e.Master.Proto = v[0]
	case NTA_EXP_MASTER_PORT:
		e.Master.Sport, e.Master.Dport = be16(v), be16(v[2:])
	case NTA_EXP_EXPECT_IPV4, NTA_EXP_EXPECT_IPV6:
		e.Expected.Src, e.Expected.Dst = addrPair(v, len(v)/2)
		e.Attrs = e.Attrs.Without(NTA_EXP_EXPECT_IPV4, NTA_EXP_EXPECT_IPV6)
	case NTA_EXP_EXPECT_L4PROTO:
		e.Expected.Proto = v[0]
	case NTA_EXP_EXPECT_PORT:
		e.Expected.Sport, e.Expected.Dport = be16(v), be16(v[2:])
	case NTA_EXP_MASK_IPV4, NTA_EXP_MASK_IPV6:
		e.Mask.Src, e.Mask.Dst = addrPair(v, len(v)/2)
		e.Attrs = e.Attrs.Without(NTA_EXP_MASK_IPV4, NTA_EXP_MASK_IPV6)
	case NTA_EXP_MASK_L4PROTO:
		e.Mask.Proto = v[0]
	case NTA_EXP_MASK_PORT:
		e.Mask.Sport, e.Mask.Dport = be16(v), be16(v[2:])
	case NTA_EXP_TIMEOUT:
		e.Timeout = be32(v)
	case NTA_EXP_FLAGS:
		e.Flags = be32(v)
	case NTA_EXP_CLASS:
		e.Class = be32(v)
	case NTA_EXP_NAT_IPV4:
		e.NAT.Src, e.NAT.Dst = addrPair(v, sizeIPv4)
	case NTA_EXP_NAT_PORT:
		e.NAT.Sport, e.NAT.Dport = be16(v), be16(v[2:])
	case NTA_EXP_NAT_L4PROTO:
		e.NAT.Proto = v[0]
	case NTA_EXP_NAT_DIR:
		e.NATDir = be32(v)
	case NTA_EXP_HELPER_NAME:
		s, err := cString(v)
		if err != nil {
			return fmt.Errorf("helper name: %w", err)
		}
		e.Helper = s
	case NTA_EXP_FN:
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
		{"master tuple", s.Has(NTA_EXP_MASTER_IPV4), s.Has(NTA_EXP_MASTER_IPV6), &e.Master},
		{"expected tuple", s.Has(NTA_EXP_EXPECT_IPV4), s.Has(NTA_EXP_EXPECT_IPV6), &e.Expected},
		{"mask", s.Has(NTA_EXP_MASK_IPV4), s.Has(NTA_EXP_MASK_IPV6), &e.Mask},
		{"NAT tuple", s.Has(NTA_EXP_NAT_IPV4), false, &e.NAT},
	}
	for _, tu := range tuples {
		if err := checkFamily(tu.has4, tu.has6, tu.t.Src, tu.t.Dst); err != nil {
			return fmt.Errorf("%s: %w", tu.name, err)
		}
	}
	if s.Has(NTA_EXP_HELPER_NAME) {
		if err := validCString(e.Helper, MaxHelperName); err != nil {
			return fmt.Errorf("helper name: %w", err)
		}
	}
	if s.Has(NTA_EXP_FN) {
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
	case NTA_EXP_MASTER_IPV4, NTA_EXP_MASTER_IPV6:
		w.addrs(t, e.Master.Src, e.Master.Dst)
	case NTA_EXP_MASTER_L4PROTO:
		w.u8(t, e.Master.Proto)
	case NTA_EXP_MASTER_PORT:
		w.ports(t, e.Master.Sport, e.Master.Dport)
	case NTA_EXP_EXPECT_IPV4, NTA_EXP_EXPECT_IPV6:
		w.addrs(t, e.Expected.Src, e.Expected.Dst)
	case NTA_EXP_EXPECT_L4PROTO:
		w.u8(t, e.Expected.Proto)
	case NTA_EXP_EXPECT_PORT:
		w.ports(t, e.Expected.Sport, e.Expected.Dport)
	case NTA_EXP_MASK_IPV4, NTA_EXP_MASK_IPV6:
		w.addrs(t, e.Mask.Src, e.Mask.Dst)
	case NTA_EXP_MASK_L4PROTO:
		w.u8(t, e.Mask.Proto)
	case NTA_EXP_MASK_PORT:
		w.ports(t, e.Mask.Sport, e.Mask.Dport)
	case NTA_EXP_TIMEOUT:
		w.be32(t, e.Timeout)
	case NTA_EXP_FLAGS:
		w.be32(t, e.Flags)
	case NTA_EXP_CLASS:
		w.be32(t, e.Class)
	case NTA_EXP_NAT_IPV4:
		w.addrs(t, e.NAT.Src, e.NAT.Dst)
	case NTA_EXP_NAT_L4PROTO:
		w.u8(t, e.NAT.Proto)
	case NTA_EXP_NAT_PORT:
		w.ports(t, e.NAT.Sport, e.NAT.Dport)
	case NTA_EXP_NAT_DIR:
		w.be32(t, e.NATDir)
	case NTA_EXP_HELPER_NAME:
		w.cString(t, e.Helper)
	case NTA_EXP_FN:
		w.cString(t, e.Fn)
	}
}
