package wire

import (
	"fmt"
	"math/bits"
	"strings"
)

// CTAttr is the type of a conntrack TLV (enum nta_attr).
type CTAttr uint16

// Conntrack attributes. Addresses and the port groups are in network
// order; ICMP_ID, SPAT_PORT and DPAT_PORT are little-endian (conntrackd
// byte-swaps a value that is already in network order); every other
// integer is big-endian.
const (
	AttrIPv4           CTAttr = 0  // NTA_IPV4: original source and destination IPv4 address
	AttrIPv6           CTAttr = 1  // NTA_IPV6: original source and destination IPv6 address
	AttrL4Proto        CTAttr = 2  // NTA_L4PROTO: IP protocol number (u8)
	AttrPort           CTAttr = 3  // NTA_PORT: original source and destination port
	AttrTCPState       CTAttr = 4  // NTA_TCP_STATE: TCP_CONNTRACK_* (u8)
	AttrStatus         CTAttr = 5  // NTA_STATUS: IPS_* bits (u32)
	AttrTimeout        CTAttr = 6  // NTA_TIMEOUT: seconds left (u32)
	AttrMark           CTAttr = 7  // NTA_MARK: connection mark (u32)
	AttrMasterIPv4     CTAttr = 8  // NTA_MASTER_IPV4: master's original IPv4 addresses
	AttrMasterIPv6     CTAttr = 9  // NTA_MASTER_IPV6: master's original IPv6 addresses
	AttrMasterL4Proto  CTAttr = 10 // NTA_MASTER_L4PROTO: master's IP protocol (u8)
	AttrMasterPort     CTAttr = 11 // NTA_MASTER_PORT: master's original ports
	AttrSNATIPv4       CTAttr = 12 // NTA_SNAT_IPV4: reply destination IPv4 address
	AttrDNATIPv4       CTAttr = 13 // NTA_DNAT_IPV4: reply source IPv4 address
	AttrSPATPort       CTAttr = 14 // NTA_SPAT_PORT: reply destination port (little-endian)
	AttrDPATPort       CTAttr = 15 // NTA_DPAT_PORT: reply source port (little-endian)
	AttrNATSeqAdj      CTAttr = 16 // NTA_NAT_SEQ_ADJ: struct nta_attr_natseqadj
	AttrSCTPState      CTAttr = 17 // NTA_SCTP_STATE: SCTP_CONNTRACK_* (u8)
	AttrSCTPVtagOrig   CTAttr = 18 // NTA_SCTP_VTAG_ORIG: original verification tag (u32)
	AttrSCTPVtagReply  CTAttr = 19 // NTA_SCTP_VTAG_REPL: reply verification tag (u32)
	AttrDCCPState      CTAttr = 20 // NTA_DCCP_STATE: CT_DCCP_* state (u8)
	AttrDCCPRole       CTAttr = 21 // NTA_DCCP_ROLE: CT_DCCP_ROLE_* (u8)
	AttrICMPType       CTAttr = 22 // NTA_ICMP_TYPE: u8
	AttrICMPCode       CTAttr = 23 // NTA_ICMP_CODE: u8
	AttrICMPID         CTAttr = 24 // NTA_ICMP_ID: u16 (little-endian)
	AttrTCPWscaleOrig  CTAttr = 25 // NTA_TCP_WSCALE_ORIG: original window scale (u8)
	AttrTCPWscaleReply CTAttr = 26 // NTA_TCP_WSCALE_REPL: reply window scale (u8)
	AttrHelperName     CTAttr = 27 // NTA_HELPER_NAME: NUL-terminated helper name
	AttrLabels         CTAttr = 28 // NTA_LABELS: label bit map, big-endian u32 words
	AttrSNATIPv6       CTAttr = 29 // NTA_SNAT_IPV6: reply destination IPv6 address
	AttrDNATIPv6       CTAttr = 30 // NTA_DNAT_IPV6: reply source IPv6 address
	AttrSynproxy       CTAttr = 31 // NTA_SYNPROXY: struct nta_attr_synproxy
	AttrZone           CTAttr = 32 // NTA_ZONE: conntrack zone (u16)
	AttrMax            CTAttr = 33 // NTA_MAX: one past the last conntrack attribute
)

// ExpAttr is the type of an expectation TLV (enum nta_exp_attr).
type ExpAttr uint16

// Expectation attributes; the encodings are those of the conntrack
// attributes of the same shape.
const (
	ExpAttrMasterIPv4    ExpAttr = 0  // NTA_EXP_MASTER_IPV4: master's original IPv4 addresses
	ExpAttrMasterIPv6    ExpAttr = 1  // NTA_EXP_MASTER_IPV6: master's original IPv6 addresses
	ExpAttrMasterL4Proto ExpAttr = 2  // NTA_EXP_MASTER_L4PROTO: master's IP protocol (u8)
	ExpAttrMasterPort    ExpAttr = 3  // NTA_EXP_MASTER_PORT: master's original ports
	ExpAttrExpectIPv4    ExpAttr = 4  // NTA_EXP_EXPECT_IPV4: expected IPv4 addresses
	ExpAttrExpectIPv6    ExpAttr = 5  // NTA_EXP_EXPECT_IPV6: expected IPv6 addresses
	ExpAttrExpectL4Proto ExpAttr = 6  // NTA_EXP_EXPECT_L4PROTO: expected IP protocol (u8)
	ExpAttrExpectPort    ExpAttr = 7  // NTA_EXP_EXPECT_PORT: expected ports
	ExpAttrMaskIPv4      ExpAttr = 8  // NTA_EXP_MASK_IPV4: IPv4 address mask
	ExpAttrMaskIPv6      ExpAttr = 9  // NTA_EXP_MASK_IPV6: IPv6 address mask
	ExpAttrMaskL4Proto   ExpAttr = 10 // NTA_EXP_MASK_L4PROTO: protocol of the mask (u8)
	ExpAttrMaskPort      ExpAttr = 11 // NTA_EXP_MASK_PORT: port mask
	ExpAttrTimeout       ExpAttr = 12 // NTA_EXP_TIMEOUT: seconds left (u32)
	ExpAttrFlags         ExpAttr = 13 // NTA_EXP_FLAGS: NF_CT_EXPECT_* (u32)
	ExpAttrClass         ExpAttr = 14 // NTA_EXP_CLASS: expectation class (u32)
	ExpAttrNATIPv4       ExpAttr = 15 // NTA_EXP_NAT_IPV4: NAT tuple IPv4 addresses
	ExpAttrNATPort       ExpAttr = 16 // NTA_EXP_NAT_PORT: NAT tuple ports
	ExpAttrNATL4Proto    ExpAttr = 17 // NTA_EXP_NAT_L4PROTO: NAT tuple IP protocol (u8)
	ExpAttrNATDir        ExpAttr = 18 // NTA_EXP_NAT_DIR: NAT direction (u32)
	ExpAttrHelperName    ExpAttr = 19 // NTA_EXP_HELPER_NAME: NUL-terminated helper name
	ExpAttrFn            ExpAttr = 20 // NTA_EXP_FN: NUL-terminated expectation function name
	ExpAttrMax           ExpAttr = 21 // NTA_EXP_MAX: one past the last expectation attribute
)

// Limits on the variable-length attributes, as TLV lengths (header
// included) the receiver accepts.
const (
	// maxHelperTLV is NFCT_HELPER_NAME_MAX: at most 11 characters and the
	// NUL fit once the 4-byte TLV header is counted against it.
	maxHelperTLV = 16
	// maxFnTLV is the receiver's limit on NTA_EXP_FN.
	maxFnTLV = 32
	// maxLabelsTLV is NTA_SIZE(NTA_LABELS_MAX_SIZE): 1024 bytes of labels.
	maxLabelsTLV = attrHeaderLen + 1024
)

// Limits on the variable-length values.
const (
	// MaxHelperName is the longest helper name a receiver accepts.
	MaxHelperName = maxHelperTLV - attrHeaderLen - 1
	// MaxExpFn is the longest expectation function name a receiver accepts.
	MaxExpFn = maxFnTLV - attrHeaderLen - 1
	// MaxLabelWords is the most label words NTA_LABELS can carry.
	MaxLabelWords = (maxLabelsTLV - attrHeaderLen) / 4
)

// Value sizes of the attribute shapes.
const (
	sizeU8     = 1
	sizeU16    = 2
	sizeU32    = 4
	sizeIPv4   = 4
	sizeIPv6   = 16
	sizeGroup4 = 2 * sizeIPv4 // struct nfct_attr_grp_ipv4
	sizeGroup6 = 2 * sizeIPv6 // struct nfct_attr_grp_ipv6
	sizePorts  = 4            // struct nfct_attr_grp_port
	sizeSeqAdj = 6 * 4        // struct nta_attr_natseqadj
	sizeSynprx = 3 * 4        // struct nta_attr_synproxy
)

// ctSizes are the exact value sizes of the fixed-size conntrack
// attributes; 0 marks the variable-length ones.
var ctSizes = [AttrMax]int{
	AttrIPv4:           sizeGroup4,
	AttrIPv6:           sizeGroup6,
	AttrL4Proto:        sizeU8,
	AttrPort:           sizePorts,
	AttrTCPState:       sizeU8,
	AttrStatus:         sizeU32,
	AttrTimeout:        sizeU32,
	AttrMark:           sizeU32,
	AttrMasterIPv4:     sizeGroup4,
	AttrMasterIPv6:     sizeGroup6,
	AttrMasterL4Proto:  sizeU8,
	AttrMasterPort:     sizePorts,
	AttrSNATIPv4:       sizeIPv4,
	AttrDNATIPv4:       sizeIPv4,
	AttrSPATPort:       sizeU16,
	AttrDPATPort:       sizeU16,
	AttrNATSeqAdj:      sizeSeqAdj,
	AttrSCTPState:      sizeU8,
	AttrSCTPVtagOrig:   sizeU32,
	AttrSCTPVtagReply:  sizeU32,
	AttrDCCPState:      sizeU8,
	AttrDCCPRole:       sizeU8,
	AttrICMPType:       sizeU8,
	AttrICMPCode:       sizeU8,
	AttrICMPID:         sizeU16,
	AttrTCPWscaleOrig:  sizeU8,
	AttrTCPWscaleReply: sizeU8,
	AttrSNATIPv6:       sizeIPv6,
	AttrDNATIPv6:       sizeIPv6,
	AttrSynproxy:       sizeSynprx,
	AttrZone:           sizeU16,
}

// ctMaxTLV are the TLV length limits of the variable-length conntrack
// attributes.
var ctMaxTLV = [AttrMax]int{
	AttrHelperName: maxHelperTLV,
	AttrLabels:     maxLabelsTLV,
}

// expSizes are the exact value sizes of the fixed-size expectation
// attributes; 0 marks the variable-length ones.
var expSizes = [ExpAttrMax]int{
	ExpAttrMasterIPv4:    sizeGroup4,
	ExpAttrMasterIPv6:    sizeGroup6,
	ExpAttrMasterL4Proto: sizeU8,
	ExpAttrMasterPort:    sizePorts,
	ExpAttrExpectIPv4:    sizeGroup4,
	ExpAttrExpectIPv6:    sizeGroup6,
	ExpAttrExpectL4Proto: sizeU8,
	ExpAttrExpectPort:    sizePorts,
	ExpAttrMaskIPv4:      sizeGroup4,
	ExpAttrMaskIPv6:      sizeGroup6,
	ExpAttrMaskL4Proto:   sizeU8,
	ExpAttrMaskPort:      sizePorts,
	ExpAttrTimeout:       sizeU32,
	ExpAttrFlags:         sizeU32,
	ExpAttrClass:         sizeU32,
	ExpAttrNATIPv4:       sizeGroup4,
	ExpAttrNATPort:       sizePorts,
	ExpAttrNATL4Proto:    sizeU8,
	ExpAttrNATDir:        sizeU32,
}

// expMaxTLV are the TLV length limits of the variable-length expectation
// attributes.
var expMaxTLV = [ExpAttrMax]int{
	ExpAttrHelperName: maxHelperTLV,
	ExpAttrFn:         maxFnTLV,
}

// ctAttrNames are the names CTAttr.String prints, indexed by attribute.
var ctAttrNames = [AttrMax]string{
	"IPV4", "IPV6", "L4PROTO", "PORT", "TCP_STATE", "STATUS", "TIMEOUT", "MARK",
	"MASTER_IPV4", "MASTER_IPV6", "MASTER_L4PROTO", "MASTER_PORT", "SNAT_IPV4",
	"DNAT_IPV4", "SPAT_PORT", "DPAT_PORT", "NAT_SEQ_ADJ", "SCTP_STATE",
	"SCTP_VTAG_ORIG", "SCTP_VTAG_REPL", "DCCP_STATE", "DCCP_ROLE", "ICMP_TYPE",
	"ICMP_CODE", "ICMP_ID", "TCP_WSCALE_ORIG", "TCP_WSCALE_REPL", "HELPER_NAME",
	"LABELS", "SNAT_IPV6", "DNAT_IPV6", "SYNPROXY", "ZONE",
}

// expAttrNames are the names ExpAttr.String prints, indexed by attribute.
var expAttrNames = [ExpAttrMax]string{
	"MASTER_IPV4", "MASTER_IPV6", "MASTER_L4PROTO", "MASTER_PORT", "EXPECT_IPV4",
	"EXPECT_IPV6", "EXPECT_L4PROTO", "EXPECT_PORT", "MASK_IPV4", "MASK_IPV6",
	"MASK_L4PROTO", "MASK_PORT", "TIMEOUT", "FLAGS", "CLASS", "NAT_IPV4",
	"NAT_PORT", "NAT_L4PROTO", "NAT_DIR", "HELPER_NAME", "FN",
}

// String is the attribute's name without the NTA_ prefix ("IPV4"), or
// "attr(N)" for an unknown type.
func (a CTAttr) String() string {
	if a < AttrMax {
		return ctAttrNames[a]
	}
	return fmt.Sprintf("attr(%d)", uint16(a))
}

// String is the attribute's name without the NTA_EXP_ prefix
// ("MASTER_IPV4"), or "attr(N)" for an unknown type.
func (a ExpAttr) String() string {
	if a < ExpAttrMax {
		return expAttrNames[a]
	}
	return fmt.Sprintf("attr(%d)", uint16(a))
}

// CTAttrs is a set of conntrack attributes: bit n stands for CTAttr n.
type CTAttrs uint64

// Has reports whether a is in the set.
func (s CTAttrs) Has(a CTAttr) bool { return a < 64 && s&(1<<a) != 0 }

// With returns the set with the given attributes added.
func (s CTAttrs) With(as ...CTAttr) CTAttrs {
	for _, a := range as {
		s |= 1 << a
	}
	return s
}

// Without returns the set with the given attributes removed.
func (s CTAttrs) Without(as ...CTAttr) CTAttrs {
	for _, a := range as {
		s &^= 1 << a
	}
	return s
}

// String lists the attributes in the set, lowest first ("IPV4|STATUS").
func (s CTAttrs) String() string {
	var names []string
	for v := uint64(s); v != 0; v &= v - 1 {
		names = append(names, CTAttr(bits.TrailingZeros64(v)).String())
	}
	return strings.Join(names, "|")
}

// ExpAttrs is a set of expectation attributes: bit n stands for ExpAttr n.
type ExpAttrs uint32

// Has reports whether a is in the set.
func (s ExpAttrs) Has(a ExpAttr) bool { return a < 32 && s&(1<<a) != 0 }

// With returns the set with the given attributes added.
func (s ExpAttrs) With(as ...ExpAttr) ExpAttrs {
	for _, a := range as {
		s |= 1 << a
	}
	return s
}

// Without returns the set with the given attributes removed.
func (s ExpAttrs) Without(as ...ExpAttr) ExpAttrs {
	for _, a := range as {
		s &^= 1 << a
	}
	return s
}

// String lists the attributes in the set, lowest first.
func (s ExpAttrs) String() string {
	var names []string
	for v := uint32(s); v != 0; v &= v - 1 {
		names = append(names, ExpAttr(bits.TrailingZeros32(v)).String())
	}
	return strings.Join(names, "|")
}
