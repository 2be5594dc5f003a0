package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// AppendMessage appends the encoding of m to dst, byte for byte as
// conntrackd 1.4.7 would send it, and returns the extended slice. It
// writes ProtocolVersion and computes the length; m.Header.Version must be
// 0 or ProtocolVersion and m.Header.Len is ignored.
//
// m must be a message conntrackd accepts: a conntrack type with CT set, an
// expectation type with Exp set (flags: HELLO and HELLO_BACK at most), or
// NET_T_CTL with at least one of ACK, NACK, RESYNC and ALIVE and Control
// set exactly when one of the first three is (for ACK and NACK, To not
// before From). On error dst is returned unchanged.
func AppendMessage(dst []byte, m *Message) ([]byte, error) {
	if err := m.validate(); err != nil {
		return dst, fmt.Errorf("encode %v message: %w", m.Header.Type, err)
	}
	h := m.Header
	start := len(dst)
	w := tlvWriter{b: dst}
	w.b = append(w.b, ProtocolVersion<<4|byte(h.Type), byte(h.Flags), 0, 0)
	w.b = binary.BigEndian.AppendUint32(w.b, h.Seq)
	switch {
	case m.CT != nil:
		m.CT.appendTo(&w)
	case m.Exp != nil:
		m.Exp.appendTo(&w)
	case m.Control != nil:
		w.b = binary.BigEndian.AppendUint32(w.b, m.Control.From)
		w.b = binary.BigEndian.AppendUint32(w.b, m.Control.To)
	}
	binary.BigEndian.PutUint16(w.b[start+2:], uint16(len(w.b)-start))
	return w.b, nil
}

// validate checks that m is a message conntrackd accepts.
func (m *Message) validate() error {
	h := m.Header
	if h.Version != 0 && h.Version != ProtocolVersion {
		return fmt.Errorf("version %d, want %d", h.Version, ProtocolVersion)
	}
	switch {
	case h.Type <= MsgDataMax:
		if !h.IsData() {
			return fmt.Errorf("flags %v on a data message", h.Flags)
		}
		if m.Control != nil {
			return errors.New("data message with a control range")
		}
		if h.Type.IsCT() {
			if m.CT == nil || m.Exp != nil {
				return errors.New("want a conntrack body and nothing else")
			}
			return m.CT.validate()
		}
		if m.Exp == nil || m.CT != nil {
			return errors.New("want an expectation body and nothing else")
		}
		return m.Exp.validate()
	case h.Type == MsgControl:
		if m.CT != nil || m.Exp != nil {
			return errors.New("control message with a body")
		}
		if !h.HasRange() {
			if !h.IsAlive() {
				return fmt.Errorf("flags %v: want ACK, NACK, RESYNC or ALIVE", h.Flags)
			}
			if m.Control != nil {
				return errors.New("ALIVE message with a range")
			}
			return nil
		}
		if m.Control == nil {
			return fmt.Errorf("%v message without a range", h.Flags&rangeFlags)
		}
		if h.Flags&(FlagACK|FlagNACK) != 0 && SeqBefore(m.Control.To, m.Control.From) {
			return fmt.Errorf("range [%d, %d] ends before it starts", m.Control.From, m.Control.To)
		}
		return nil
	}
	return fmt.Errorf("unknown type %d", uint8(h.Type))
}
