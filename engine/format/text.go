package format

import (
	"net/netip"
	"strconv"
	"time"

	"ctq/internal/quote"

	"ctq/engine"
)

// eventLabels are the text event labels, printf("%9s ", label).
var eventLabels = [...]string{
	EventNone:    "",
	EventNew:     "    [NEW] ",
	EventUpdate:  " [UPDATE] ",
	EventDestroy: "[DESTROY] ",
}

// ctimeLayout is ctime(3) without its newline.
const ctimeLayout = "Mon Jan _2 15:04:05 2006"

// padName appends "%-8s %u " of a protocol name and number.
func padName(buf []byte, name string, num uint64) []byte {
	buf = append(buf, name...)
	for i := len(name); i < 8; i++ {
		buf = append(buf, ' ')
	}
	buf = append(buf, ' ')
	buf = appendUint(buf, num)
	return append(buf, ' ')
}

// AppendText appends one conntrack text line for f (no newline): the line
// of conntrack -L, or of conntrack -E when ev is not EventNone. It matches
// libnetfilter_conntrack 1.0.9's default output byte for byte: fields in
// conntrack's order, each only when its attribute is present (f.Has).
//
// Labels are printed only when opts.LabelNames is non-nil. opts may be nil.
func AppendText(buf []byte, f *engine.Flow, ev Event, flags TextFlags, opts *Options) []byte {
	if int(ev) < len(eventLabels) {
		buf = append(buf, eventLabels[ev]...)
	}
	af := f.L3Num()
	if flags&FlagExtended != 0 {
		buf = padName(buf, engine.FamilyName(af), uint64(af))
	}
	buf = padName(buf, engine.ProtoName(f.ProtoNum), u8(f.ProtoNum))
	if f.Has&engine.HasTimeout != 0 {
		buf = appendUint(buf, u32(f.Timeout))
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasState != 0 && engine.StateTable(f.ProtoNum) != nil {
		buf = append(buf, engine.StateName(f.ProtoNum, f.StateNum)...)
		buf = append(buf, ' ')
	}

	// Original tuple.
	buf = appendTextTuple(buf, f, af, false)
	if f.Has&engine.HasOrigZone != 0 {
		buf = append(buf, "zone-orig="...)
		buf = appendUint(buf, u16(f.OrigZone))
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasCounters != 0 {
		buf = appendCounters(buf, f.OrigPackets, f.OrigBytes)
	}
	if f.Has&engine.HasStatus != 0 && f.Status&engine.StatusSeenReply == 0 {
		buf = append(buf, "[UNREPLIED] "...)
	}

	// Reply tuple.
	if f.Has&engine.HasReply != 0 {
		buf = appendTextTuple(buf, f, af, true)
	}
	if f.Has&engine.HasReplyZone != 0 {
		buf = append(buf, "zone-reply="...)
		buf = appendUint(buf, u16(f.ReplyZone))
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasCounters != 0 {
		buf = appendCounters(buf, f.ReplyPackets, f.ReplyBytes)
	}

	if f.Has&engine.HasStatus != 0 {
		switch {
		case f.Status&engine.StatusHWOffload != 0:
			buf = append(buf, "[HW_OFFLOAD] "...)
		case f.Status&engine.StatusOffload != 0:
			buf = append(buf, "[OFFLOAD] "...)
		case f.Status&engine.StatusAssured != 0:
			buf = append(buf, "[ASSURED] "...)
		}
	}
	if f.Has&engine.HasMark != 0 {
		buf = append(buf, "mark="...)
		buf = appendUint(buf, u32(f.Mark))
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasSecmark != 0 {
		buf = append(buf, "secmark="...)
		buf = appendUint(buf, u32(f.Secmark))
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasSecctx != 0 {
		buf = append(buf, "secctx="...)
		buf = quote.Append(buf, f.Secctx)
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasZone != 0 {
		buf = append(buf, "zone="...)
		buf = appendUint(buf, u16(f.Zone))
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasStart != 0 {
		buf = append(buf, "delta-time="...)
		buf = appendUint(buf, uint64(textDelta(f, opts)))
		buf = append(buf, ' ')
	}
	if flags&FlagKTimestamp != 0 {
		loc := opts.location()
		if f.Has&engine.HasStart != 0 {
			buf = append(buf, "[start="...)
			buf = appendCtime(buf, f.Start, loc)
			buf = append(buf, "] "...)
		}
		if f.Has&engine.HasStop != 0 {
			buf = append(buf, "[stop="...)
			buf = appendCtime(buf, f.Stop, loc)
			buf = append(buf, "] "...)
		}
	}
	if f.Has&engine.HasHelper != 0 {
		buf = append(buf, "helper="...)
		buf = quote.Append(buf, f.Helper)
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasUse != 0 {
		buf = append(buf, "use="...)
		buf = appendUint(buf, u32(f.Use))
		buf = append(buf, ' ')
	}
	if flags&FlagID != 0 && f.Has&engine.HasID != 0 {
		buf = append(buf, "id="...)
		buf = appendUint(buf, u32(f.ID))
		buf = append(buf, ' ')
	}
	if names := opts.labelNames(); names != nil && f.Has&engine.HasLabels != 0 {
		buf = append(buf, "labels="...)
		for n := nextLabel(&f.Labels, 0); n >= 0; n = nextLabel(&f.Labels, n+1) {
			if name := names[n]; name != "" {
				buf = quote.Append(buf, name)
				buf = append(buf, ',')
			}
		}
		// conntrack drops the last character: the trailing comma, or the
		// '=' when no set bit has a name.
		buf = append(buf[:len(buf)-1], ' ')
	}
	// Drop the trailing blank.
	return buf[:len(buf)-1]
}

// appendTextTuple appends "src=A dst=A " and the layer-4 part of one
// direction.
func appendTextTuple(buf []byte, f *engine.Flow, af int, reply bool) []byte {
	if reply {
		return appendTuple(buf, "src=", "dst=", af, f.ReplySrc, f.ReplyDst, f.ProtoNum,
			f.ReplySport, f.ReplyDport, f.ReplyICMPType, f.ReplyICMPCode, f.ReplyICMPID)
	}
	return appendTuple(buf, "src=", "dst=", af, f.Src, f.Dst, f.ProtoNum,
		f.Sport, f.Dport, f.ICMPType, f.ICMPCode, f.ICMPID)
}

// appendTuple appends "SRC=A DST=A " (for IPv4 and IPv6, SRC and DST
// being srcKey and dstKey) and the layer-4 fields of proto, as conntrack
// prints a tuple of a flow or of an expectation: ports, GRE keys, or
// ICMP's type, code and id.
func appendTuple(buf []byte, srcKey, dstKey string, af int, src, dst netip.Addr, proto, sport, dport, itype, icode, iid int) []byte {
	if af == engine.FamilyIPv4 || af == engine.FamilyIPv6 {
		buf = append(buf, srcKey...)
		buf = appendAddr(buf, src, af)
		buf = append(buf, ' ')
		buf = append(buf, dstKey...)
		buf = appendAddr(buf, dst, af)
		buf = append(buf, ' ')
	}
	switch proto {
	case engine.ProtoTCP, engine.ProtoUDP, engine.ProtoUDPLite, engine.ProtoSCTP, engine.ProtoDCCP:
		buf = append(buf, "sport="...)
		buf = appendUint(buf, u16(sport))
		buf = append(buf, " dport="...)
		buf = appendUint(buf, u16(dport))
		buf = append(buf, ' ')
	case engine.ProtoGRE:
		buf = append(buf, "srckey=0x"...)
		buf = strconv.AppendUint(buf, u16(sport), 16)
		buf = append(buf, " dstkey=0x"...)
		buf = strconv.AppendUint(buf, u16(dport), 16)
		buf = append(buf, ' ')
	case engine.ProtoICMP, engine.ProtoICMPv6:
		buf = append(buf, "type="...)
		buf = appendUint(buf, u8(itype))
		buf = append(buf, " code="...)
		buf = appendUint(buf, u8(icode))
		buf = append(buf, " id="...)
		buf = appendUint(buf, u16(iid))
		buf = append(buf, ' ')
	}
	return buf
}

func appendCounters(buf []byte, packets, bytes int) []byte {
	buf = append(buf, "packets="...)
	buf = appendUint(buf, uint64(packets))
	buf = append(buf, " bytes="...)
	buf = appendUint(buf, uint64(bytes))
	return append(buf, ' ')
}

// unixSec is a kernel timestamp in whole seconds, (time_t)(ns / 10^9).
func unixSec(t time.Time) int64 {
	return t.UnixNano() / int64(time.Second)
}

// textDelta is the text delta-time: stop (or now, truncated to the second,
// while the entry lives) minus start, both in whole seconds. A negative
// result wraps as conntrack's %llu does.
func textDelta(f *engine.Flow, opts *Options) int64 {
	var stop int64
	if f.Has&engine.HasStop != 0 {
		stop = unixSec(f.Stop)
	}
	if stop == 0 {
		stop = opts.now().Unix()
	}
	return stop - unixSec(f.Start)
}

// appendCtime appends ctime(3) of t's whole seconds, without the newline.
func appendCtime(buf []byte, t time.Time, loc *time.Location) []byte {
	return time.Unix(unixSec(t), 0).In(loc).AppendFormat(buf, ctimeLayout)
}

// AppendEventTime appends the prefix conntrack -E -o timestamp prints
// before each text event: "[SECONDS.MICROSECONDS]\t", seconds at least 8
// digits and microseconds 6 digits, zero-padded.
func AppendEventTime(buf []byte, t time.Time) []byte {
	buf = append(buf, '[')
	sec := t.Unix()
	if sec < 0 {
		buf = append(buf, '-')
		sec = -sec
	}
	buf = appendPadded(buf, uint64(sec), 8)
	buf = append(buf, '.')
	buf = appendPadded(buf, uint64(t.Nanosecond()/1000), 6)
	return append(buf, "]\t"...)
}

// appendPadded appends v in decimal with at least width digits.
func appendPadded(buf []byte, v uint64, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendUint(tmp[:0], v, 10)
	for i := len(s); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, s...)
}
