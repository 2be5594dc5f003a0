package wire

import (
	"errors"
	"fmt"
)

// Decode walks the messages of one datagram in order and calls fn once for
// each: with the message and a nil error when conntrackd would accept it,
// with a nil message and an *Error when it would not. After an error whose
// Kind is Fatal the rest of the datagram is dropped and fn is not called
// again. A non-nil error from fn stops the walk and is returned.
//
// The checks and their order are those of conntrackd 1.4.7's receiver
// (channel_handler_routine, then the FTFW header verdict, then msg2ct or
// msg2exp); see Kind. Beyond them, a helper or function name without a
// NUL terminator is rejected as KindBadPayload (conntrackd would read past
// the attribute). A message's length need not be a multiple of 4 and the
// 1 to 4 bytes after its last TLV are ignored, as in conntrackd.
//
// Decode never retains datagram. It allocates one Message per accepted
// message, plus its body and labels, all bounded by the message length.
func Decode(datagram []byte, fn func(m *Message, err error) error) error {
	for off := 0; off < len(datagram); {
		m, n, err := decodeMessage(datagram[off:])
		if err != nil {
			err.Offset = off
			if cbErr := fn(nil, err); cbErr != nil {
				return cbErr
			}
		} else if cbErr := fn(m, nil); cbErr != nil {
			return cbErr
		}
		if n == 0 {
			return nil
		}
		off += n
	}
	return nil
}

// parseHeader reads the header at the start of b (at least HeaderLen
// bytes).
func parseHeader(b []byte) Header {
	return Header{
		Version: b[0] >> 4,
		Type:    MsgType(b[0] & 0x0f),
		Flags:   Flags(b[1]),
		Len:     be16(b[2:]),
		Seq:     be32(b[4:]),
	}
}

// decodeMessage decodes the message at the start of b. n is its length,
// or 0 when the rest of b must be dropped.
func decodeMessage(b []byte) (m *Message, n int, err *Error) {
	if len(b) < HeaderLen {
		return nil, 0, &Error{Kind: KindTruncated,
			Err: fmt.Errorf("%d bytes left, a header takes %d", len(b), HeaderLen)}
	}
	h := parseHeader(b)
	fail := func(k Kind, err error) *Error { return &Error{Kind: k, Header: h, Err: err} }
	switch {
	case h.Len == 0:
		return nil, 0, fail(KindBadSize, errors.New("length 0"))
	case int(h.Len) > len(b):
		return nil, 0, fail(KindBadSize, fmt.Errorf("length %d exceeds the %d bytes left", h.Len, len(b)))
	case h.HasRange() && len(b) < ControlLen:
		return nil, 0, fail(KindTruncated, fmt.Errorf("%d bytes left, a %v message takes %d", len(b), h.Flags&rangeFlags, ControlLen))
	case h.HasRange() && h.Len < ControlLen:
		return nil, 0, fail(KindBadSize, fmt.Errorf("length %d, a %v message takes %d", h.Len, h.Flags&rangeFlags, ControlLen))
	case h.Len < HeaderLen:
		return nil, 0, fail(KindBadSize, fmt.Errorf("length %d is shorter than the header", h.Len))
	}
	n = int(h.Len)
	if h.Version != ProtocolVersion {
		return nil, n, fail(KindBadVersion, fmt.Errorf("version %d, want %d", h.Version, ProtocolVersion))
	}
	m = &Message{Header: h}
	switch {
	case h.IsData():
		body := b[HeaderLen:n]
		var derr error
		if h.Type.IsCT() {
			m.CT, derr = decodeConntrack(body)
		} else {
			m.Exp, derr = decodeExpect(body)
		}
		if derr != nil {
			return nil, n, fail(KindBadPayload, fmt.Errorf("%v payload: %w", h.Type, derr))
		}
	case h.Type <= MsgDataMax:
		return nil, n, fail(KindBadHeader, fmt.Errorf("data message with flags %v", h.Flags))
	case h.Type != MsgControl:
		return nil, n, fail(KindBadType, fmt.Errorf("unknown type %d", uint8(h.Type)))
	case h.HasRange():
		c := &Control{From: be32(b[8:]), To: be32(b[12:])}
		if h.Flags&(FlagACK|FlagNACK) != 0 && SeqBefore(c.To, c.From) {
			return nil, n, fail(KindBadHeader, fmt.Errorf("range [%d, %d] ends before it starts", c.From, c.To))
		}
		m.Control = c
	case !h.IsAlive():
		return nil, n, fail(KindBadHeader, fmt.Errorf("control message with flags %v", h.Flags))
	}
	return m, n, nil
}
