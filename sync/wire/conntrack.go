package wire

import (
	"errors"
	"fmt"
	"net/netip"

	"ctq/engine"
)

// Tuple is the part of a tuple conntrackd sends: the addresses, the IP
// protocol and, for protocols with ports, the ports (GRE: the keys).
type Tuple struct {
	Src, Dst     netip.Addr
	Proto        uint8
	Sport, Dport uint16
}

// NATSeqAdj is the TCP sequence adjustment of a NATed connection whose
// payload a helper rewrote (struct nta_attr_natseqadj).
type NATSeqAdj struct {
	OrigCorrectionPos  uint32
	OrigOffsetBefore   uint32
	OrigOffsetAfter    uint32
	ReplyCorrectionPos uint32
	ReplyOffsetBefore  uint32
	ReplyOffsetAfter   uint32
}

// Synproxy is the SYN proxy state of a connection (struct
// nta_attr_synproxy). The kernel reports one, all zero, for every entry
// created through ctnetlink.
type Synproxy struct {
	ITS   uint32
	ISN   uint32
	TSOff uint32
}

// Conntrack is the body of a CT NEW, UPD or DEL message: every conntrack
// attribute conntrackd 1.4.7 knows. Attrs says which are present; a field
// whose attribute is absent is zero. The reply tuple is never sent: the
// receiver rebuilds it by inverting Orig and applying the NAT attributes.
type Conntrack struct {
	// Attrs is the set of attributes present. The address attributes
	// come in IPv4 and IPv6 variants (NTA_IPV4 or NTA_IPV6 for Orig,
	// NTA_MASTER_IPV4 or NTA_MASTER_IPV6 for Master, NTA_SNAT_IPV4 or
	// NTA_SNAT_IPV6 for SNATAddr, NTA_DNAT_IPV4 or NTA_DNAT_IPV6 for
	// DNATAddr), and at most one of each pair may be present.
	Attrs CTAttrs

	// Orig is the original tuple: NTA_IPV4 or NTA_IPV6, NTA_L4PROTO and
	// NTA_PORT.
	Orig Tuple
	// Status holds the IPS_* bits (NTA_STATUS).
	Status engine.Status
	// Timeout is the seconds left (NTA_TIMEOUT).
	Timeout uint32
	// Mark is the connection mark (NTA_MARK).
	Mark uint32

	// TCPState is a TCP_CONNTRACK_* state (NTA_TCP_STATE).
	TCPState uint8
	// TCPWScaleOrig and TCPWScaleReply are the window scale factors
	// (NTA_TCP_WSCALE_ORIG, NTA_TCP_WSCALE_REPL); conntrackd only sends
	// them with TCPWindowTracking on.
	TCPWScaleOrig, TCPWScaleReply uint8
	// SCTPState is an SCTP_CONNTRACK_* state (NTA_SCTP_STATE).
	SCTPState uint8
	// SCTPVtagOrig and SCTPVtagReply are the verification tags
	// (NTA_SCTP_VTAG_ORIG, NTA_SCTP_VTAG_REPL), big-endian on the wire
	// like the tag in an SCTP header. (engine.Flow holds them the way
	// conntrack(8) shows them: those bytes read in host order.)
	SCTPVtagOrig, SCTPVtagReply uint32
	// DCCPState and DCCPRole are the DCCP state and role (NTA_DCCP_STATE,
	// NTA_DCCP_ROLE).
	DCCPState, DCCPRole uint8
	// ICMPType, ICMPCode and ICMPID are the ICMP or ICMPv6 fields of the
	// original tuple (NTA_ICMP_TYPE, NTA_ICMP_CODE, NTA_ICMP_ID).
	ICMPType, ICMPCode uint8
	ICMPID             uint16

	// Master is the original tuple of the connection this one is related
	// to: NTA_MASTER_IPV4 or NTA_MASTER_IPV6, NTA_MASTER_L4PROTO and
	// NTA_MASTER_PORT.
	Master Tuple

	// SNATAddr is the reply tuple's destination of a source-NATed
	// connection (NTA_SNAT_IPV4, NTA_SNAT_IPV6).
	SNATAddr netip.Addr
	// DNATAddr is the reply tuple's source of a destination-NATed
	// connection (NTA_DNAT_IPV4, NTA_DNAT_IPV6).
	DNATAddr netip.Addr
	// SNATPort is the reply tuple's destination port of a source-NATed
	// connection (NTA_SPAT_PORT).
	SNATPort uint16
	// DNATPort is the reply tuple's source port of a destination-NATed
	// connection (NTA_DPAT_PORT).
	DNATPort uint16
	// SeqAdj is the NAT sequence adjustment (NTA_NAT_SEQ_ADJ).
	SeqAdj NATSeqAdj

	// Helper is the name of the helper attached (NTA_HELPER_NAME), at
	// most MaxHelperName bytes.
	Helper string
	// Labels is the label bit map (NTA_LABELS): word i holds labels 32*i
	// to 32*i+31, label 32*i+b in bit b. 1 to MaxLabelWords words.
	Labels []uint32
	// Synproxy is the SYN proxy state (NTA_SYNPROXY).
	Synproxy Synproxy
	// Zone is the conntrack zone (NTA_ZONE).
	Zone uint16
}

// ctOrder is the order in which conntrackd 1.4.7's ct2msg emits the
// attributes. Of the protocol-specific groups (TCP, SCTP, DCCP, ICMP) a
// message holds one, so one order serves every protocol.
var ctOrder = [AttrMax]CTAttr{
	AttrIPv4, AttrIPv6, AttrStatus, AttrL4Proto, AttrPort,
	AttrTCPState, AttrTCPWscaleOrig, AttrTCPWscaleReply,
	AttrSCTPState, AttrSCTPVtagOrig, AttrSCTPVtagReply,
	AttrDCCPState, AttrDCCPRole,
	AttrICMPType, AttrICMPCode, AttrICMPID,
	AttrTimeout, AttrMark,
	AttrMasterIPv4, AttrMasterIPv6, AttrMasterL4Proto, AttrMasterPort,
	AttrSNATIPv4, AttrDNATIPv4, AttrSNATIPv6, AttrDNATIPv6,
	AttrSPATPort, AttrDPATPort, AttrNATSeqAdj,
	AttrHelperName, AttrLabels, AttrSynproxy, AttrZone,
}

// allCTAttrs is the set of every known conntrack attribute.
const allCTAttrs = CTAttrs(1)<<AttrMax - 1

// decodeConntrack decodes the TLVs of a CT message. Of two attributes
// that fill the same field the later wins; a label attribute whose length
// is not a positive multiple of 4 is ignored, as conntrackd does.
func decodeConntrack(body []byte) (*Conntrack, error) {
	c := new(Conntrack)
	err := walkTLVs(body, ctSizes[:], ctMaxTLV[:], func(t uint16, v []byte) error {
		return c.set(CTAttr(t), v)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// set stores the value v of attribute a, whose size walkTLVs checked.
func (c *Conntrack) set(a CTAttr, v []byte) error {
	switch a {
	case AttrIPv4:
		c.Orig.Src, c.Orig.Dst = addrPair(v, sizeIPv4)
		c.Attrs = c.Attrs.Without(AttrIPv6)
	case AttrIPv6:
		c.Orig.Src, c.Orig.Dst = addrPair(v, sizeIPv6)
		c.Attrs = c.Attrs.Without(AttrIPv4)
	case AttrL4Proto:
		c.Orig.Proto = v[0]
	case AttrPort:
		c.Orig.Sport, c.Orig.Dport = be16(v), be16(v[2:])
	case AttrTCPState:
		c.TCPState = v[0]
	case AttrStatus:
		c.Status = engine.Status(be32(v))
	case AttrTimeout:
		c.Timeout = be32(v)
	case AttrMark:
		c.Mark = be32(v)
	case AttrMasterIPv4:
		c.Master.Src, c.Master.Dst = addrPair(v, sizeIPv4)
		c.Attrs = c.Attrs.Without(AttrMasterIPv6)
	case AttrMasterIPv6:
		c.Master.Src, c.Master.Dst = addrPair(v, sizeIPv6)
		c.Attrs = c.Attrs.Without(AttrMasterIPv4)
	case AttrMasterL4Proto:
		c.Master.Proto = v[0]
	case AttrMasterPort:
		c.Master.Sport, c.Master.Dport = be16(v), be16(v[2:])
	case AttrSNATIPv4, AttrSNATIPv6:
		c.SNATAddr = addrOf(v)
		c.Attrs = c.Attrs.Without(AttrSNATIPv4, AttrSNATIPv6)
	case AttrDNATIPv4, AttrDNATIPv6:
		c.DNATAddr = addrOf(v)
		c.Attrs = c.Attrs.Without(AttrDNATIPv4, AttrDNATIPv6)
	case AttrSPATPort:
		c.SNATPort = le16(v)
	case AttrDPATPort:
		c.DNATPort = le16(v)
	case AttrNATSeqAdj:
		c.SeqAdj = NATSeqAdj{be32(v), be32(v[4:]), be32(v[8:]), be32(v[12:]), be32(v[16:]), be32(v[20:])}
	case AttrSCTPState:
		c.SCTPState = v[0]
	case AttrSCTPVtagOrig:
		c.SCTPVtagOrig = be32(v)
	case AttrSCTPVtagReply:
		c.SCTPVtagReply = be32(v)
	case AttrDCCPState:
		c.DCCPState = v[0]
	case AttrDCCPRole:
		c.DCCPRole = v[0]
	case AttrICMPType:
		c.ICMPType = v[0]
	case AttrICMPCode:
		c.ICMPCode = v[0]
	case AttrICMPID:
		c.ICMPID = le16(v)
	case AttrTCPWscaleOrig:
		c.TCPWScaleOrig = v[0]
	case AttrTCPWscaleReply:
		c.TCPWScaleReply = v[0]
	case AttrHelperName:
		s, err := cString(v)
		if err != nil {
			return fmt.Errorf("helper name: %w", err)
		}
		c.Helper = s
	case AttrLabels:
		if len(v) == 0 || len(v)%4 != 0 {
			return nil
		}
		c.Labels = make([]uint32, len(v)/4)
		for i := range c.Labels {
			c.Labels[i] = be32(v[4*i:])
		}
	case AttrSynproxy:
		// struct nta_attr_synproxy: its, isn, tsoff.
		c.Synproxy = Synproxy{ITS: be32(v), ISN: be32(v[4:]), TSOff: be32(v[8:])}
	case AttrZone:
		c.Zone = be16(v)
	}
	c.Attrs = c.Attrs.With(a)
	return nil
}

// validate checks that c can be encoded into a message conntrackd accepts.
func (c *Conntrack) validate() error {
	if extra := c.Attrs &^ allCTAttrs; extra != 0 {
		return fmt.Errorf("unknown attributes %#x", uint64(extra))
	}
	s := c.Attrs
	if err := checkFamily(s.Has(AttrIPv4), s.Has(AttrIPv6), c.Orig.Src, c.Orig.Dst); err != nil {
		return fmt.Errorf("original tuple: %w", err)
	}
	if err := checkFamily(s.Has(AttrMasterIPv4), s.Has(AttrMasterIPv6), c.Master.Src, c.Master.Dst); err != nil {
		return fmt.Errorf("master tuple: %w", err)
	}
	if err := checkFamily(s.Has(AttrSNATIPv4), s.Has(AttrSNATIPv6), c.SNATAddr); err != nil {
		return fmt.Errorf("SNAT address: %w", err)
	}
	if err := checkFamily(s.Has(AttrDNATIPv4), s.Has(AttrDNATIPv6), c.DNATAddr); err != nil {
		return fmt.Errorf("DNAT address: %w", err)
	}
	if s.Has(AttrHelperName) {
		if err := validCString(c.Helper, MaxHelperName); err != nil {
			return fmt.Errorf("helper name: %w", err)
		}
	}
	if s.Has(AttrLabels) && (len(c.Labels) == 0 || len(c.Labels) > MaxLabelWords) {
		return fmt.Errorf("labels: %d words, want 1 to %d", len(c.Labels), MaxLabelWords)
	}
	return nil
}

// errBothFamilies is returned for an address that is said to be both IPv4
// and IPv6.
var errBothFamilies = errors.New("both the IPv4 and the IPv6 attribute are set")

// checkFamily checks that the addresses of an attribute pair are all of
// the family of the attribute present (has4 or has6, not both).
func checkFamily(has4, has6 bool, addrs ...netip.Addr) error {
	if has4 && has6 {
		return errBothFamilies
	}
	for _, a := range addrs {
		switch {
		case has4 && !a.Is4():
			return fmt.Errorf("address %v is not IPv4", a)
		case has6 && (!a.Is6() || a.Zone() != ""):
			return fmt.Errorf("address %v is not a plain IPv6 address", a)
		}
	}
	return nil
}

// appendTo appends c's TLVs in conntrackd's order; c must be valid.
func (c *Conntrack) appendTo(w *tlvWriter) {
	for _, a := range ctOrder {
		if c.Attrs.Has(a) {
			c.put(w, a)
		}
	}
}

// put appends attribute a.
func (c *Conntrack) put(w *tlvWriter, a CTAttr) {
	t := uint16(a)
	switch a {
	case AttrIPv4, AttrIPv6:
		w.addrs(t, c.Orig.Src, c.Orig.Dst)
	case AttrL4Proto:
		w.u8(t, c.Orig.Proto)
	case AttrPort:
		w.ports(t, c.Orig.Sport, c.Orig.Dport)
	case AttrTCPState:
		w.u8(t, c.TCPState)
	case AttrStatus:
		w.be32(t, uint32(c.Status))
	case AttrTimeout:
		w.be32(t, c.Timeout)
	case AttrMark:
		w.be32(t, c.Mark)
	case AttrMasterIPv4, AttrMasterIPv6:
		w.addrs(t, c.Master.Src, c.Master.Dst)
	case AttrMasterL4Proto:
		w.u8(t, c.Master.Proto)
	case AttrMasterPort:
		w.ports(t, c.Master.Sport, c.Master.Dport)
	case AttrSNATIPv4, AttrSNATIPv6:
		w.addrs(t, c.SNATAddr)
	case AttrDNATIPv4, AttrDNATIPv6:
		w.addrs(t, c.DNATAddr)
	case AttrSPATPort:
		w.le16(t, c.SNATPort)
	case AttrDPATPort:
		w.le16(t, c.DNATPort)
	case AttrNATSeqAdj:
		q := c.SeqAdj
		w.be32(t, q.OrigCorrectionPos, q.OrigOffsetBefore, q.OrigOffsetAfter,
			q.ReplyCorrectionPos, q.ReplyOffsetBefore, q.ReplyOffsetAfter)
	case AttrSCTPState:
		w.u8(t, c.SCTPState)
	case AttrSCTPVtagOrig:
		w.be32(t, c.SCTPVtagOrig)
	case AttrSCTPVtagReply:
		w.be32(t, c.SCTPVtagReply)
	case AttrDCCPState:
		w.u8(t, c.DCCPState)
	case AttrDCCPRole:
		w.u8(t, c.DCCPRole)
	case AttrICMPType:
		w.u8(t, c.ICMPType)
	case AttrICMPCode:
		w.u8(t, c.ICMPCode)
	case AttrICMPID:
		w.le16(t, c.ICMPID)
	case AttrTCPWscaleOrig:
		w.u8(t, c.TCPWScaleOrig)
	case AttrTCPWscaleReply:
		w.u8(t, c.TCPWScaleReply)
	case AttrHelperName:
		w.cString(t, c.Helper)
	case AttrLabels:
		w.be32(t, c.Labels...)
	case AttrSynproxy:
		w.be32(t, c.Synproxy.ITS, c.Synproxy.ISN, c.Synproxy.TSOff)
	case AttrZone:
		w.be16(t, c.Zone)
	}
}
