//go:build linux

package ctnetlink

import (
	"errors"
	"fmt"

	"ctq/engine"
)

// errNoExpectTuple is returned for an expectation message without its
// expected tuple.
var errNoExpectTuple = errors.New("no expected tuple (CTA_EXPECT_TUPLE)")

// errNoNATParts is returned for a CTA_EXPECT_NAT nest without its
// direction or its tuple.
var errNoNATParts = errors.New("no direction (CTA_EXPECT_NAT_DIR) or no tuple (CTA_EXPECT_NAT_TUPLE)")

// DecodeExpect decodes the payload of one ctnetlink expectation message
// (m.Data of a NFNL_SUBSYS_CTNETLINK_EXP message: the 4-byte nfgenmsg
// followed by attributes) into e, which it resets first. Unknown
// attributes are skipped; a malformed message gives an error and leaves
// e partly filled.
func DecodeExpect(data []byte, e *engine.Expect) error {
	*e = engine.Expect{}
	if len(data) < nfgenmsgLen {
		return fmt.Errorf("decode expectation: %w", errShortMessage)
	}
	e.Family = engine.FamilyName(int(data[0]))
	if err := decodeExpectAttrs(data[nfgenmsgLen:], e); err != nil {
		return fmt.Errorf("decode expectation: %w", err)
	}
	return nil
}

func decodeExpectAttrs(b []byte, e *engine.Expect) error {
	var t engine.Flow // scratch for the tuples
	hasTuple := false
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return err
		}
		b = rest
		switch typ {
		case ctaExpectTuple:
			proto, err := decodeExpectTuple(val, &t)
			if err != nil {
				return fmt.Errorf("expected tuple: %w", err)
			}
			e.ProtoNum, e.Proto = proto, engine.ProtoName(proto)
			e.Src, e.Dst, e.Sport, e.Dport = t.Src, t.Dst, t.Sport, t.Dport
			hasTuple = true
		case ctaExpectMask:
			if _, err := decodeExpectTuple(val, &t); err != nil {
				return fmt.Errorf("mask: %w", err)
			}
			e.MaskSrc, e.MaskDst, e.MaskSport, e.MaskDport = t.Src, t.Dst, t.Sport, t.Dport
			e.Has |= engine.HasExpMask
		case ctaExpectMaster:
			proto, err := decodeExpectTuple(val, &t)
			if err != nil {
				return fmt.Errorf("master tuple: %w", err)
			}
			e.MasterProtoNum, e.MasterProto = proto, engine.ProtoName(proto)
			e.MasterSrc, e.MasterDst, e.MasterSport, e.MasterDport = t.Src, t.Dst, t.Sport, t.Dport
			e.Has |= engine.HasExpMaster
		case ctaExpectNAT:
			if err := decodeExpectNAT(val, e, &t); err != nil {
				return fmt.Errorf("nat: %w", err)
			}
		case ctaExpectTimeout, ctaExpectID, ctaExpectFlags, ctaExpectClass:
			v, err := attrU32(typ, val)
			if err != nil {
				return err
			}
			switch typ {
			case ctaExpectTimeout:
				e.Timeout = int(v)
				e.Has |= engine.HasExpTimeout
			case ctaExpectID:
				e.ID = int(v)
				e.Has |= engine.HasExpID
			case ctaExpectFlags:
				e.SetFlags(int(v))
			default:
				e.Class = int(v)
				e.Has |= engine.HasExpClass
			}
		case ctaExpectZone:
			v, err := attrU16(typ, val)
			if err != nil {
				return err
			}
			e.Zone = int(v)
			e.Has |= engine.HasExpZone
		case ctaExpectHelpName:
			e.Helper = internHelper(attrString(val))
			e.Has |= engine.HasExpHelper
		case ctaExpectFn:
			e.Fn = string(attrString(val))
			e.Has |= engine.HasExpFn
		}
	}
	if !hasTuple {
		return errNoExpectTuple
	}
	return nil
}

// decodeExpectTuple decodes a tuple nest into the original tuple of the
// scratch flow f and returns its protocol number.
func decodeExpectTuple(b []byte, f *engine.Flow) (int, error) {
	f.Reset()
	d := flowDecoder{f: f}
	if err := d.tuple(b, false); err != nil {
		return 0, err
	}
	return d.proto, nil
}

// decodeExpectNAT decodes a CTA_EXPECT_NAT nest into e, using the scratch
// flow t for its tuple. The kernel always sends both parts.
func decodeExpectNAT(b []byte, e *engine.Expect, t *engine.Flow) error {
	hasDir, hasTuple := false, false
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return err
		}
		b = rest
		switch typ {
		case ctaExpectNATDir:
			v, err := attrU32(typ, val)
			if err != nil {
				return err
			}
			e.NATDir = int(v)
			hasDir = true
		case ctaExpectNATTuple:
			proto, err := decodeExpectTuple(val, t)
			if err != nil {
				return fmt.Errorf("tuple: %w", err)
			}
			e.NATProtoNum = proto
			e.NATSrc, e.NATDst, e.NATSport, e.NATDport = t.Src, t.Dst, t.Sport, t.Dport
			hasTuple = true
		}
	}
	if !hasDir || !hasTuple {
		return errNoNATParts
	}
	e.Has |= engine.HasExpNAT
	return nil
}
