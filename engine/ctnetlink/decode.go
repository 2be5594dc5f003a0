//go:build linux

package ctnetlink

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"ctq/engine"
)

// Errors of the attribute walker; DecodeFlow wraps them with context.
var (
	errShortMessage  = errors.New("message shorter than its nfgenmsg header")
	errTruncatedAttr = errors.New("truncated attribute")
	errNoOrigTuple   = errors.New("no original tuple (CTA_TUPLE_ORIG)")
)

// nextAttr splits the first netlink attribute off b: its type (without the
// NLA_F_* flags), its payload and the attributes after it.
func nextAttr(b []byte) (typ uint16, val, rest []byte, err error) {
	if len(b) < nlaHdrLen {
		return 0, nil, nil, errTruncatedAttr
	}
	n := int(binary.NativeEndian.Uint16(b))
	if n < nlaHdrLen || n > len(b) {
		return 0, nil, nil, errTruncatedAttr
	}
	typ = binary.NativeEndian.Uint16(b[2:]) & nlaTypeMask
	val = b[nlaHdrLen:n]
	// The next attribute starts at the 4-byte aligned end; the last one
	// may lack its padding.
	next := (n + 3) &^ 3
	if next > len(b) {
		next = len(b)
	}
	return typ, val, b[next:], nil
}

// Fixed-size payload readers; each fails on a payload of another size.

func attrU8(typ uint16, val []byte) (uint8, error) {
	if len(val) != 1 {
		return 0, badSize(typ, val)
	}
	return val[0], nil
}

func attrU16(typ uint16, val []byte) (uint16, error) {
	if len(val) != 2 {
		return 0, badSize(typ, val)
	}
	return binary.BigEndian.Uint16(val), nil
}

func attrU32(typ uint16, val []byte) (uint32, error) {
	if len(val) != 4 {
		return 0, badSize(typ, val)
	}
	return binary.BigEndian.Uint32(val), nil
}

// scalarInto decodes a big-endian unsigned attribute of size bytes (2 or
// 4) into *dst and records attr in *has.
func scalarInto(typ uint16, val []byte, size int, dst *int, has *engine.Attr, attr engine.Attr) error {
	if len(val) != size {
		return badSize(typ, val)
	}
	if size == 2 {
		*dst = int(binary.BigEndian.Uint16(val))
	} else {
		*dst = int(binary.BigEndian.Uint32(val))
	}
	*has |= attr
	return nil
}

func attrU64(typ uint16, val []byte) (uint64, error) {
	if len(val) != 8 {
		return 0, badSize(typ, val)
	}
	return binary.BigEndian.Uint64(val), nil
}

func badSize(typ uint16, val []byte) error {
	return fmt.Errorf("attribute %d: unexpected payload size %d", typ, len(val))
}

// attrString returns a NUL-terminated string payload without its NUL.
func attrString(val []byte) []byte {
	for i, c := range val {
		if c == 0 {
			return val[:i]
		}
	}
	return val
}

// helperNames are the names of the kernel's conntrack helpers; decoding one
// of them does not allocate.
var helperNames = []string{
	"ftp", "tftp", "sip", "irc", "amanda", "pptp", "sane", "snmp",
	"netbios-ns", "RAS", "Q.931", "H.245", "h323",
}

// internHelper returns the helper name in b as a string, allocating only
// for names the kernel does not ship.
func internHelper(b []byte) string {
	for _, n := range helperNames {
		if string(b) == n {
			return n
		}
	}
	return string(b)
}

// flowDecoder holds what DecodeFlow collects before it can be applied to
// the Flow (a state needs the protocol, counters are set together).
type flowDecoder struct {
	f         *engine.Flow
	now       time.Time
	proto     int
	hasProto  bool
	state     int
	hasState  bool
	counters  [4]int // orig packets, orig bytes, reply packets, reply bytes
	hasCounts bool
	hasOrig   bool
}

// DecodeFlow decodes the payload of one ctnetlink conntrack message
// (m.Data: the 4-byte nfgenmsg followed by attributes) into f, which it
// resets first. now is used for f.Age. Unknown attributes are ignored;
// a malformed message gives an error and leaves f partly filled.
func DecodeFlow(data []byte, f *engine.Flow, now time.Time) error {
	f.Reset()
	if len(data) < nfgenmsgLen {
		return fmt.Errorf("decode conntrack message: %w", errShortMessage)
	}
	f.SetFamily(int(data[0]))
	d := flowDecoder{f: f, now: now}
	if err := d.top(data[nfgenmsgLen:]); err != nil {
		return fmt.Errorf("decode conntrack message: %w", err)
	}
	if !d.hasOrig {
		return fmt.Errorf("decode conntrack message: %w", errNoOrigTuple)
	}
	f.SetProto(d.proto)
	if d.hasState {
		f.SetState(d.state)
	}
	if d.hasCounts {
		c := d.counters
		f.SetCounters(c[0], c[1], c[2], c[3])
	}
	return nil
}

// top decodes the top-level attributes (enum ctattr_type).
func (d *flowDecoder) top(b []byte) error {
	f := d.f
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return err
		}
		b = rest
		switch typ {
		case ctaTupleOrig:
			if err := d.tuple(val, false); err != nil {
				return fmt.Errorf("original tuple: %w", err)
			}
			d.hasOrig = true
		case ctaTupleReply:
			if err := d.tuple(val, true); err != nil {
				return fmt.Errorf("reply tuple: %w", err)
			}
			f.Has |= engine.HasReply
		case ctaStatus:
			v, err := attrU32(typ, val)
			if err != nil {
				return err
			}
			f.SetStatus(engine.Status(v))
		case ctaProtoinfo:
			if err := d.protoinfo(val); err != nil {
				return fmt.Errorf("protoinfo: %w", err)
			}
		case ctaHelp:
			if err := d.help(val); err != nil {
				return fmt.Errorf("helper: %w", err)
			}
		case ctaTimeout:
			err = scalarInto(typ, val, 4, &f.Timeout, &f.Has, engine.HasTimeout)
		case ctaMark:
			err = scalarInto(typ, val, 4, &f.Mark, &f.Has, engine.HasMark)
		case ctaSecmark:
			err = scalarInto(typ, val, 4, &f.Secmark, &f.Has, engine.HasSecmark)
		case ctaCountersOrig, ctaCountersReply:
			if err := d.counter(val, typ == ctaCountersReply); err != nil {
				return fmt.Errorf("counters: %w", err)
			}
		case ctaUse:
			err = scalarInto(typ, val, 4, &f.Use, &f.Has, engine.HasUse)
		case ctaID:
			err = scalarInto(typ, val, 4, &f.ID, &f.Has, engine.HasID)
		case ctaZone:
			err = scalarInto(typ, val, 2, &f.Zone, &f.Has, engine.HasZone)
		case ctaSecctx:
			if err := d.secctx(val); err != nil {
				return fmt.Errorf("secctx: %w", err)
			}
		case ctaTimestamp:
			if err := d.timestamp(val); err != nil {
				return fmt.Errorf("timestamp: %w", err)
			}
		case ctaLabels:
			if err := d.labels(val); err != nil {
				return fmt.Errorf("labels: %w", err)
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// tuple decodes a CTA_TUPLE_ORIG or CTA_TUPLE_REPLY nest.
func (d *flowDecoder) tuple(b []byte, reply bool) error {
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return err
		}
		b = rest
		switch typ {
		case ctaTupleIP:
			if err := d.tupleIP(val, reply); err != nil {
				return fmt.Errorf("addresses: %w", err)
			}
		case ctaTupleProto:
			if err := d.tupleProto(val, reply); err != nil {
				return fmt.Errorf("protocol: %w", err)
			}
		case ctaTupleZone:
			v, err := attrU16(typ, val)
			if err != nil {
				return err
			}
			if reply {
				d.f.ReplyZone = int(v)
				d.f.Has |= engine.HasReplyZone
			} else {
				d.f.OrigZone = int(v)
				d.f.Has |= engine.HasOrigZone
			}
		}
	}
	return nil
}

// tupleIP decodes a CTA_TUPLE_IP nest.
func (d *flowDecoder) tupleIP(b []byte, reply bool) error {
	src, dst := &d.f.Src, &d.f.Dst
	if reply {
		src, dst = &d.f.ReplySrc, &d.f.ReplyDst
	}
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return err
		}
		b = rest
		switch typ {
		case ctaIPv4Src, ctaIPv4Dst:
			if len(val) != 4 {
				return badSize(typ, val)
			}
			a := netip.AddrFrom4([4]byte(val))
			if typ == ctaIPv4Src {
				*src = a
			} else {
				*dst = a
			}
		case ctaIPv6Src, ctaIPv6Dst:
			if len(val) != 16 {
				return badSize(typ, val)
			}
			a := netip.AddrFrom16([16]byte(val))
			if typ == ctaIPv6Src {
				*src = a
			} else {
				*dst = a
			}
		}
	}
	return nil
}

// tupleProto decodes a CTA_TUPLE_PROTO nest.
func (d *flowDecoder) tupleProto(b []byte, reply bool) error {
	f := d.f
	sport, dport := &f.Sport, &f.Dport
	icmpType, icmpCode, icmpID := &f.ICMPType, &f.ICMPCode, &f.ICMPID
	if reply {
		sport, dport = &f.ReplySport, &f.ReplyDport
		icmpType, icmpCode, icmpID = &f.ReplyICMPType, &f.ReplyICMPCode, &f.ReplyICMPID
	}
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return err
		}
		b = rest
		switch typ {
		case ctaProtoNum:
			v, err := attrU8(typ, val)
			if err != nil {
				return err
			}
			// The original tuple's protocol wins; the reply's is used
			// only when the original has none.
			if !reply || !d.hasProto {
				d.proto, d.hasProto = int(v), true
			}
		case ctaProtoSrcPort, ctaProtoDstPort, ctaProtoICMPID, ctaProtoICMPv6ID:
			v, err := attrU16(typ, val)
			if err != nil {
				return err
			}
			switch typ {
			case ctaProtoSrcPort:
				*sport = int(v)
			case ctaProtoDstPort:
				*dport = int(v)
			default:
				*icmpID = int(v)
			}
		case ctaProtoICMPType, ctaProtoICMPCode, ctaProtoICMPv6Type, ctaProtoICMPv6Code:
			v, err := attrU8(typ, val)
			if err != nil {
				return err
			}
			if typ == ctaProtoICMPType || typ == ctaProtoICMPv6Type {
				*icmpType = int(v)
			} else {
				*icmpCode = int(v)
			}
		}
	}
	return nil
}

// protoinfo decodes a CTA_PROTOINFO nest (TCP, DCCP or SCTP).
func (d *flowDecoder) protoinfo(b []byte) error {
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return err
		}
		b = rest
		switch typ {
		case ctaProtoinfoTCP, ctaProtoinfoDCCP, ctaProtoinfoSCTP:
			if err := d.protoinfoL4(typ, val); err != nil {
				return err
			}
		}
	}
	return nil
}

// protoinfoL4 decodes the nest of one protocol inside CTA_PROTOINFO. The
// state attribute is number 1 for all three protocols.
func (d *flowDecoder) protoinfoL4(proto uint16, b []byte) error {
	f := d.f
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return err
		}
		b = rest
		switch {
		case typ == ctaProtoinfoTCPState: // = DCCP_STATE = SCTP_STATE
			v, err := attrU8(typ, val)
			if err != nil {
				return err
			}
			d.state, d.hasState = int(v), true
		case proto == ctaProtoinfoDCCP && typ == ctaProtoinfoDCCPRole:
			v, err := attrU8(typ, val)
			if err != nil {
				return err
			}
			f.DCCPRole = int(v)
			f.Has |= engine.HasRole
		case proto == ctaProtoinfoSCTP && (typ == ctaProtoinfoSCTPVtagOriginal || typ == ctaProtoinfoSCTPVtagReply):
			// conntrack(8) shows and saves the tags as the wire bytes read
			// in host order (it swaps them twice), and `--orig-vtag N`
			// sends them that way; read them alike so that saved lines
			// round-trip through conntrack -R.
			if len(val) != 4 {
				return badSize(typ, val)
			}
			v := binary.NativeEndian.Uint32(val)
			if typ == ctaProtoinfoSCTPVtagOriginal {
				f.OrigVtag = int(v)
			} else {
				f.ReplyVtag = int(v)
			}
			f.Has |= engine.HasVtags
		}
	}
	return nil
}

// help decodes a CTA_HELP nest.
func (d *flowDecoder) help(b []byte) error {
	name, ok, err := nestString(b, ctaHelpName)
	if ok {
		d.f.Helper = internHelper(name)
		d.f.Has |= engine.HasHelper
	}
	return err
}

// secctx decodes a CTA_SECCTX nest.
func (d *flowDecoder) secctx(b []byte) error {
	name, ok, err := nestString(b, ctaSecctxName)
	if ok {
		d.f.Secctx = string(name)
		d.f.Has |= engine.HasSecctx
	}
	return err
}

// nestString returns the (last) string attribute want of a nest.
func nestString(b []byte, want uint16) (val []byte, ok bool, err error) {
	for len(b) > 0 {
		typ, v, rest, err := nextAttr(b)
		if err != nil {
			return nil, false, err
		}
		b = rest
		if typ == want {
			val, ok = attrString(v), true
		}
	}
	return val, ok, nil
}

// counter decodes a CTA_COUNTERS_ORIG or CTA_COUNTERS_REPLY nest, 64-bit
// or old 32-bit.
func (d *flowDecoder) counter(b []byte, reply bool) error {
	i := 0
	if reply {
		i = 2
	}
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return err
		}
		b = rest
		var v uint64
		switch typ {
		case ctaCountersPackets, ctaCountersBytes:
			v, err = attrU64(typ, val)
		case ctaCounters32Packets, ctaCounters32Bytes:
			var v32 uint32
			v32, err = attrU32(typ, val)
			v = uint64(v32)
		default:
			continue
		}
		if err != nil {
			return err
		}
		if typ == ctaCountersPackets || typ == ctaCounters32Packets {
			d.counters[i] = int(v)
		} else {
			d.counters[i+1] = int(v)
		}
	}
	d.hasCounts = true
	return nil
}

// timestamp decodes a CTA_TIMESTAMP nest.
func (d *flowDecoder) timestamp(b []byte) error {
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return err
		}
		b = rest
		switch typ {
		case ctaTimestampStart, ctaTimestampStop:
			v, err := attrU64(typ, val)
			if err != nil {
				return err
			}
			t := time.Unix(0, int64(v))
			if typ == ctaTimestampStart {
				d.f.SetStart(t, d.now)
			} else {
				d.f.Stop = t
				d.f.Has |= engine.HasStop
			}
		}
	}
	return nil
}

// labels decodes CTA_LABELS: host-order 32-bit words, bit n of the label
// map in word n/32. Words beyond the 128 bits a Flow holds are ignored.
func (d *flowDecoder) labels(val []byte) error {
	if len(val)%4 != 0 {
		return badSize(ctaLabels, val)
	}
	w := &d.f.Labels.Words
	for i := 0; i < len(w) && 4*i < len(val); i++ {
		w[i] = binary.NativeEndian.Uint32(val[4*i:])
	}
	d.f.Has |= engine.HasLabels
	return nil
}
