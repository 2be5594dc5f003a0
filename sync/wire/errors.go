package wire

import "fmt"

// Kind classifies a message the receiver rejects, after the error counters
// conntrackd prints with `conntrackd -s network` (each also counts as one of
// its "Malformed messages").
type Kind uint8

// Kinds of rejected messages.
const (
	// KindTruncated: fewer bytes left in the datagram than a header needs
	// (8, or 16 for ACK, NACK and RESYNC). The rest of the datagram is
	// dropped. Counter "Truncated message" (msg_rcv_truncated).
	KindTruncated Kind = iota + 1
	// KindBadSize: the header's length is 0, larger than what is left of
	// the datagram, or smaller than the header. The rest of the datagram is
	// dropped. Counter "Bad message size" (msg_rcv_bad_size).
	KindBadSize
	// KindBadVersion: the version nibble is not ProtocolVersion. Only this
	// message is skipped. Counter "Wrong protocol version"
	// (msg_rcv_bad_version).
	KindBadVersion
	// KindBadHeader: a known type with flags that do not fit it: a data
	// type with a flag other than HELLO and HELLO_BACK, a control message
	// with none of ACK, NACK, RESYNC and ALIVE, or an ACK or NACK whose
	// range ends before it starts. Only this message is skipped. Counter
	// "Malformed header" (msg_rcv_bad_header).
	KindBadHeader
	// KindBadType: a type conntrackd does not know (6–9, 11–15). Only this
	// message is skipped. conntrackd's FTFW and NOTRACK modes count it
	// under "Malformed header" (they never reach their type check), ALARM
	// under "Bad message type" (msg_rcv_bad_type) when the flags are zero
	// and not at all otherwise.
	KindBadType
	// KindBadPayload: a TLV of a data message is malformed: shorter than
	// its header, longer than the rest of the message, of an unknown type,
	// or of a length its type does not allow. The whole message is
	// rejected, the walk goes on. Counter "Malformed payload"
	// (msg_rcv_bad_payload).
	KindBadPayload
)

// kindNames are conntrackd's labels of the counters, indexed by Kind.
var kindNames = [...]string{
	KindTruncated:  "Truncated message",
	KindBadSize:    "Bad message size",
	KindBadVersion: "Wrong protocol version",
	KindBadHeader:  "Malformed header",
	KindBadType:    "Bad message type",
	KindBadPayload: "Malformed payload",
}

// String is the label of conntrackd's counter for the kind.
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Fatal reports whether an error of this kind ends the walk of a datagram
// (the rest of it is dropped), as opposed to skipping one message.
func (k Kind) Fatal() bool {
	return k == KindTruncated || k == KindBadSize
}

// Error is a message the receiver rejects.
type Error struct {
	Kind Kind
	// Offset is where the message starts in the datagram.
	Offset int
	// Header is the message's header; it is zero when fewer than
	// HeaderLen bytes were left.
	Header Header
	// Err says what exactly is wrong.
	Err error
}

// Error gives the offset, the counter and the cause.
func (e *Error) Error() string {
	return fmt.Sprintf("sync message at offset %d: %v: %v", e.Offset, e.Kind, e.Err)
}

// Unwrap returns the detailed cause.
func (e *Error) Unwrap() error { return e.Err }
