package wire

import (
	"fmt"
	"strings"
)

// ProtocolVersion is the only protocol version conntrackd has ever spoken
// (the high nibble of a message's first byte, CONNTRACKD_PROTOCOL_VERSION).
const ProtocolVersion = 1 // CONNTRACKD_PROTOCOL_VERSION

// Message sizes.
const (
	// HeaderLen is the size of the header every message starts with
	// (NETHDR_SIZ).
	HeaderLen = 8 // NETHDR_SIZ
	// ControlLen is the size of an ACK, NACK or RESYNC message: the header
	// followed by the from and to sequence numbers (NETHDR_ACK_SIZ).
	ControlLen = 16 // NETHDR_ACK_SIZ
	// attrHeaderLen is the size of a TLV header (struct netattr).
	attrHeaderLen = 4
)

// MsgType is the message type, the low nibble of a message's first byte
// (enum nethdr_type).
type MsgType uint8

// Message types.
const (
	MsgCTNew     MsgType = 0  // NET_T_STATE_CT_NEW: a new conntrack entry
	MsgCTUpdate  MsgType = 1  // NET_T_STATE_CT_UPD: a changed conntrack entry
	MsgCTDelete  MsgType = 2  // NET_T_STATE_CT_DEL: a destroyed conntrack entry
	MsgExpNew    MsgType = 3  // NET_T_STATE_EXP_NEW: a new expectation
	MsgExpUpdate MsgType = 4  // NET_T_STATE_EXP_UPD: a changed expectation
	MsgExpDelete MsgType = 5  // NET_T_STATE_EXP_DEL: a destroyed expectation
	MsgDataMax   MsgType = 5  // NET_T_STATE_MAX: the highest data type
	MsgControl   MsgType = 10 // NET_T_CTL: a control message (ACK, NACK, RESYNC, ALIVE)
)

// msgTypeNames are the names MsgType.String prints, indexed by type.
var msgTypeNames = [...]string{
	MsgCTNew:     "CT_NEW",
	MsgCTUpdate:  "CT_UPD",
	MsgCTDelete:  "CT_DEL",
	MsgExpNew:    "EXP_NEW",
	MsgExpUpdate: "EXP_UPD",
	MsgExpDelete: "EXP_DEL",
	MsgControl:   "CTL",
}

// String is the type's short name ("CT_NEW", "CTL"), or "type(N)" for a
// type conntrackd does not know.
func (t MsgType) String() string {
	if int(t) < len(msgTypeNames) && msgTypeNames[t] != "" {
		return msgTypeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// IsCT reports whether t carries a conntrack entry (CT NEW, UPD or DEL).
func (t MsgType) IsCT() bool {
	return t <= MsgCTDelete
}

// IsExp reports whether t carries an expectation (EXP NEW, UPD or DEL).
func (t MsgType) IsExp() bool {
	return t >= MsgExpNew && t <= MsgExpDelete
}

// Flags is the flag byte of a message header.
type Flags uint8

// Header flags.
const (
	FlagUnused    Flags = 1 << 0 // NET_F_UNUSED: never set
	FlagResync    Flags = 1 << 1 // NET_F_RESYNC: send me your whole internal cache
	FlagNACK      Flags = 1 << 2 // NET_F_NACK: I missed [from, to], resend it
	FlagACK       Flags = 1 << 3 // NET_F_ACK: I have [from, to]
	FlagAlive     Flags = 1 << 4 // NET_F_ALIVE: keepalive
	FlagHello     Flags = 1 << 5 // NET_F_HELLO: the sender (re)started
	FlagHelloBack Flags = 1 << 6 // NET_F_HELLO_BACK: answer to a HELLO
)

// helloFlags are the flags a data message may carry.
const helloFlags = FlagHello | FlagHelloBack

// rangeFlags are the flags of the control messages that carry a sequence
// range (the 16-byte form).
const rangeFlags = FlagACK | FlagNACK | FlagResync

// flagNames are the names Flags.String prints, indexed by bit.
var flagNames = [...]string{"UNUSED", "RESYNC", "NACK", "ACK", "ALIVE", "HELLO", "HELLO_BACK", "0x80"}

// String joins the names of the set flags with "|" ("ACK|HELLO"), or "0".
func (f Flags) String() string {
	if f == 0 {
		return "0"
	}
	var names []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	return strings.Join(names, "|")
}

// Header is the 8-byte header every message starts with (struct nethdr).
type Header struct {
	// Version is the protocol version; Decode only returns messages of
	// ProtocolVersion, and AppendMessage writes ProtocolVersion.
	Version uint8
	Type    MsgType
	Flags   Flags
	// Len is the message length the header declares, header included.
	// AppendMessage computes it and ignores the value given.
	Len uint16
	// Seq is the sender's sequence number.
	Seq uint32
}

// IsData reports whether h heads a data message: a conntrack or expectation
// type with no flag but HELLO and HELLO_BACK (IS_DATA).
func (h Header) IsData() bool {
	return h.Type <= MsgDataMax && h.Flags&^helloFlags == 0
}

// IsACK reports whether h heads an ACK (IS_ACK).
func (h Header) IsACK() bool { return h.Type == MsgControl && h.Flags&FlagACK != 0 }

// IsNACK reports whether h heads a NACK (IS_NACK).
func (h Header) IsNACK() bool { return h.Type == MsgControl && h.Flags&FlagNACK != 0 }

// IsResync reports whether h heads a RESYNC request (IS_RESYNC).
func (h Header) IsResync() bool { return h.Type == MsgControl && h.Flags&FlagResync != 0 }

// IsAlive reports whether h heads a keepalive (IS_ALIVE).
func (h Header) IsAlive() bool { return h.Type == MsgControl && h.Flags&FlagAlive != 0 }

// IsHello reports whether h carries HELLO (IS_HELLO); any type may.
func (h Header) IsHello() bool { return h.Flags&FlagHello != 0 }

// IsHelloBack reports whether h carries HELLO_BACK (IS_HELLO_BACK); any
// type may.
func (h Header) IsHelloBack() bool { return h.Flags&FlagHelloBack != 0 }

// HasRange reports whether h heads a control message that carries a
// sequence range (ACK, NACK or RESYNC), which makes it ControlLen bytes.
func (h Header) HasRange() bool {
	return h.Type == MsgControl && h.Flags&rangeFlags != 0
}

// String describes the header like "v1 CTL ACK|HELLO len=16 seq=1795389893".
func (h Header) String() string {
	return fmt.Sprintf("v%d %v %v len=%d seq=%d", h.Version, h.Type, h.Flags, h.Len, h.Seq)
}

// Control is the sequence range of an ACK, NACK or RESYNC message (the
// from and to fields of struct nethdr_ack). The range is inclusive and in
// the receiver's own sequence space; RESYNC carries 0, 0.
type Control struct {
	From uint32
	To   uint32
}

// Message is one decoded message. Exactly one of Control, CT and Exp is set
// for a message that has a body: Control for ACK, NACK and RESYNC, CT for
// the conntrack types, Exp for the expectation types. An ALIVE carries
// nothing but its header.
type Message struct {
	Header  Header
	Control *Control
	CT      *Conntrack
	Exp     *Expect
}

// SeqBefore reports whether sequence number a comes before b in serial
// number arithmetic (wrapping at 2^32), as conntrackd's before() does.
func SeqBefore(a, b uint32) bool {
	return int32(a-b) < 0
}
