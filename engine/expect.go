package engine

import (
	"context"
	"net/netip"
)

// Expect is one entry of the expect table: a connection a helper (ftp,
// sip, ...) expects, tied to its master connection. Its fields carry the
// names the language gives them (the expr tag).
type Expect struct {
	// Family is "ipv4" or "ipv6"; Proto/ProtoNum the expected layer-4
	// protocol.
	Family   string `expr:"family"`
	Proto    string `expr:"proto"`
	ProtoNum int    `expr:"protonum"`

	// The expected tuple.
	Src   netip.Addr `expr:"src"`
	Dst   netip.Addr `expr:"dst"`
	Sport int        `expr:"sport"`
	Dport int        `expr:"dport"`

	// The mask applied to the expected tuple.
	MaskSrc   netip.Addr `expr:"mask_src"`
	MaskDst   netip.Addr `expr:"mask_dst"`
	MaskSport int        `expr:"mask_sport"`
	MaskDport int        `expr:"mask_dport"`

	// The master connection's original tuple.
	MasterProto    string     `expr:"master_proto"`
	MasterProtoNum int        `expr:"master_protonum"`
	MasterSrc      netip.Addr `expr:"master_src"`
	MasterDst      netip.Addr `expr:"master_dst"`
	MasterSport    int        `expr:"master_sport"`
	MasterDport    int        `expr:"master_dport"`

	Timeout int    `expr:"timeout"` // seconds left
	ID      int    `expr:"id"`
	Zone    int    `expr:"zone"`
	Helper  string `expr:"helper"`
	Class   int    `expr:"class"`
	// Flags holds the NF_CT_EXPECT_* bits; the booleans are derived.
	Flags     int    `expr:"flags"`
	Permanent bool   `expr:"permanent"`
	Inactive  bool   `expr:"inactive"`
	Userspace bool   `expr:"userspace"`
	Fn        string `expr:"fn"` // CTA_EXPECT_FN, the helper's expectfn

	// The NAT part of an expectation a NAT helper (nf_nat_ftp, ...) set
	// up (CTA_EXPECT_NAT, present when e.Has&HasExpNAT): NATDir is the
	// direction of the master the expected connection is mapped in
	// (CTA_EXPECT_NAT_DIR, 0 original, 1 reply), the NAT tuple
	// (CTA_EXPECT_NAT_TUPLE) the address and port it is mapped back to.
	// The kernel keeps only the tuple's source address and source port
	// (the "saved" address and port; the source address is 0.0.0.0 or ::
	// when the helper keeps the address); it reports the master's protocol
	// and a zero destination.
	NATDir      int        `expr:"nat_dir"`
	NATProtoNum int        `expr:"nat_protonum"`
	NATSrc      netip.Addr `expr:"nat_src"`
	NATDst      netip.Addr `expr:"nat_dst"`
	NATSport    int        `expr:"nat_sport"`
	NATDport    int        `expr:"nat_dport"`

	// Has says which optional attributes were present.
	Has ExpectAttr `expr:"-"`
}

// ExpectAttr is a set of optional Expect attributes, recorded in
// Expect.Has.
type ExpectAttr uint32

// Optional attributes of an Expect.
const (
	HasExpTimeout ExpectAttr = 1 << iota // CTA_EXPECT_TIMEOUT
	HasExpID                             // CTA_EXPECT_ID
	HasExpZone                           // CTA_EXPECT_ZONE
	HasExpHelper                         // CTA_EXPECT_HELP_NAME
	HasExpClass                          // CTA_EXPECT_CLASS
	HasExpFlags                          // CTA_EXPECT_FLAGS
	HasExpFn                             // CTA_EXPECT_FN
	HasExpMask                           // CTA_EXPECT_MASK
	HasExpMaster                         // CTA_EXPECT_MASTER
	HasExpNAT                            // CTA_EXPECT_NAT
)

// Expectation flags (NF_CT_EXPECT_*).
const (
	ExpectPermanent = 0x1 // NF_CT_EXPECT_PERMANENT
	ExpectInactive  = 0x2 // NF_CT_EXPECT_INACTIVE
	ExpectUserspace = 0x4 // NF_CT_EXPECT_USERSPACE
)

// SetFlags sets Flags and the booleans derived from them.
func (e *Expect) SetFlags(flags int) {
	e.Flags = flags
	e.Permanent = flags&ExpectPermanent != 0
	e.Inactive = flags&ExpectInactive != 0
	e.Userspace = flags&ExpectUserspace != 0
	e.Has |= HasExpFlags
}

// ExpectSource is implemented by sources that hold an expect table (the
// live kernel).
type ExpectSource interface {
	// ScanExpect calls yield for each expectation; the *Expect is reused.
	ScanExpect(ctx context.Context, yield func(*Expect) error) (ScanStats, error)
	// CreateExpect creates e; its master connection must exist (and, on
	// current kernels, have a helper).
	CreateExpect(ctx context.Context, e *Expect) error
	// DeleteExpect deletes the expectation with e's expected tuple (and
	// ID when e.Has&HasExpID); ErrNotFound when there is none.
	DeleteExpect(ctx context.Context, e *Expect) error
}

// ExpectWriter receives expectations for output, as Writer receives flows.
type ExpectWriter interface {
	WriteExpect(e *Expect) error
	Flush() error
}
