package format

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"time"
	"unicode/utf8"

	"ctq/engine"
)

// XMLHeader opens conntrack's xml document; conntrack prints it before the
// first entry, and not at all when there is none.
const XMLHeader = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<conntrack>\n"

// XMLFooter closes the document opened by XMLHeader.
const XMLFooter = "</conntrack>\n"

// xmlFlowOpen are the <flow> tags, selected by the event kind.
var xmlFlowOpen = [...]string{
	EventNone:    "<flow>",
	EventNew:     `<flow type="new">`,
	EventUpdate:  `<flow type="update">`,
	EventDestroy: `<flow type="destroy">`,
}

// independentAttrs are the attributes whose presence opens
// <meta direction="independent">.
const independentAttrs = engine.HasState | engine.HasTimeout | engine.HasMark | engine.HasSecmark |
	engine.HasZone | engine.HasUse | engine.HasStatus | engine.HasID | engine.HasLabels |
	engine.HasStart | engine.HasStop | engine.HasSecctx

// AppendXML appends one conntrack -o xml <flow> element for f (no
// newline), with the structure of libnetfilter_conntrack 1.0.9, two bugs
// fixed (see the package documentation): strings are escaped, and SCTP and
// DCCP states carry their own names. ev adds the type attribute of events;
// flags may hold FlagKTimestamp (<timestamp>) and FlagTime (<when>, the
// current time in opts.Location). Labels are printed only when
// opts.LabelNames is non-nil. opts may be nil.
func AppendXML(buf []byte, f *engine.Flow, ev Event, flags TextFlags, opts *Options) []byte {
	if int(ev) < len(xmlFlowOpen) {
		buf = append(buf, xmlFlowOpen[ev]...)
	} else {
		buf = append(buf, xmlFlowOpen[EventNone]...)
	}
	af := f.L3Num()
	buf = appendXMLTuple(buf, f, af, false)
	replyAF := 0
	if f.Has&engine.HasReply != 0 {
		replyAF = af
	}
	buf = appendXMLTuple(buf, f, replyAF, true)

	meta := f.Has&independentAttrs != 0
	if meta {
		buf = append(buf, `<meta direction="independent">`...)
	}
	if f.Has&engine.HasState != 0 && engine.StateTable(f.ProtoNum) != nil {
		buf = append(buf, "<state>"...)
		buf = append(buf, engine.StateName(f.ProtoNum, f.StateNum)...)
		buf = append(buf, "</state>"...)
	}
	if f.Has&engine.HasTimeout != 0 {
		buf = appendXMLUint(buf, "timeout", u32(f.Timeout))
	}
	if f.Has&engine.HasMark != 0 {
		buf = appendXMLUint(buf, "mark", u32(f.Mark))
	}
	if names := opts.labelNames(); names != nil && f.Has&engine.HasLabels != 0 {
		buf = append(buf, "<labels>"...)
		for n := nextLabel(&f.Labels, 0); n >= 0; n = nextLabel(&f.Labels, n+1) {
			if name := names[n]; name != "" {
				buf = appendXMLString(buf, "label", name)
			}
		}
		buf = append(buf, "</labels>"...)
	}
	if f.Has&engine.HasSecmark != 0 {
		buf = appendXMLUint(buf, "secmark", u32(f.Secmark))
	}
	if f.Has&engine.HasSecctx != 0 {
		buf = appendXMLString(buf, "secctx", f.Secctx)
	}
	if f.Has&engine.HasZone != 0 {
		buf = appendXMLUint(buf, "zone", u16(f.Zone))
	}
	if f.Has&engine.HasUse != 0 {
		buf = appendXMLUint(buf, "use", u32(f.Use))
	}
	if f.Has&engine.HasID != 0 {
		buf = appendXMLUint(buf, "id", u32(f.ID))
	}
	if f.Has&engine.HasStatus != 0 {
		if f.Status&engine.StatusAssured != 0 {
			buf = append(buf, "<assured/>"...)
		}
		if f.Status&engine.StatusSeenReply == 0 {
			buf = append(buf, "<unreplied/>"...)
		}
	}
	start, stop := f.Has&engine.HasStart != 0, f.Has&engine.HasStop != 0
	if flags&FlagKTimestamp != 0 && (start || stop) {
		buf = append(buf, "<timestamp>"...)
		if start {
			buf = appendXMLUint(buf, "start", uint64(f.Start.UnixNano()))
		}
		if stop {
			buf = appendXMLUint(buf, "stop", uint64(f.Stop.UnixNano()))
		}
		buf = append(buf, "</timestamp>"...)
	}
	switch {
	case start && stop:
		// (stop - start) / 10^9 in unsigned nanoseconds.
		d := (uint64(f.Stop.UnixNano()) - uint64(f.Start.UnixNano())) / uint64(time.Second)
		buf = appendXMLUint(buf, "deltatime", d)
	case start:
		buf = appendXMLUint(buf, "deltatime", uint64(opts.now().Unix()-unixSec(f.Start)))
	}
	if meta {
		buf = append(buf, "</meta>"...)
	}
	if flags&FlagTime != 0 {
		buf = appendXMLWhen(buf, opts.now().In(opts.location()))
	}
	if f.Has&engine.HasHelper != 0 {
		buf = appendXMLString(buf, "helper", f.Helper)
	}
	return append(buf, "</flow>"...)
}

// appendXMLTuple appends the <meta> element of one direction. af is the
// tuple's family number (0 for a missing reply tuple, as conntrack prints
// it).
func appendXMLTuple(buf []byte, f *engine.Flow, af int, reply bool) []byte {
	src, dst := f.Src, f.Dst
	sport, dport := f.Sport, f.Dport
	zone, hasZone := f.OrigZone, f.Has&engine.HasOrigZone != 0
	proto := f.ProtoNum
	buf = append(buf, `<meta direction="`...)
	if reply {
		src, dst = f.ReplySrc, f.ReplyDst
		sport, dport = f.ReplySport, f.ReplyDport
		zone, hasZone = f.ReplyZone, f.Has&engine.HasReplyZone != 0
		if f.Has&engine.HasReply == 0 {
			proto = 0
		}
		buf = append(buf, `reply">`...)
	} else {
		buf = append(buf, `original">`...)
	}
	buf = append(buf, `<layer3 protonum="`...)
	buf = appendUint(buf, u8(af))
	buf = append(buf, `" protoname="`...)
	buf = append(buf, engine.FamilyName(af)...)
	buf = append(buf, `"><src>`...)
	if af == engine.FamilyIPv4 || af == engine.FamilyIPv6 {
		buf = appendAddr(buf, src, af)
	}
	buf = append(buf, "</src><dst>"...)
	if af == engine.FamilyIPv4 || af == engine.FamilyIPv6 {
		buf = appendAddr(buf, dst, af)
	}
	buf = append(buf, `</dst></layer3><layer4 protonum="`...)
	buf = appendUint(buf, u8(proto))
	buf = append(buf, `" protoname="`...)
	buf = append(buf, engine.ProtoName(proto)...)
	buf = append(buf, `">`...)
	switch proto {
	case engine.ProtoTCP, engine.ProtoUDP, engine.ProtoUDPLite, engine.ProtoSCTP, engine.ProtoDCCP:
		buf = appendXMLUint(buf, "sport", u16(sport))
		buf = appendXMLUint(buf, "dport", u16(dport))
	case engine.ProtoGRE:
		buf = append(buf, "<srckey>0x"...)
		buf = strconv.AppendUint(buf, u16(sport), 16)
		buf = append(buf, "</srckey><dstkey>0x"...)
		buf = strconv.AppendUint(buf, u16(dport), 16)
		buf = append(buf, "</dstkey>"...)
	}
	buf = append(buf, "</layer4>"...)
	if hasZone {
		buf = appendXMLUint(buf, "zone", u16(zone))
	}
	if f.Has&engine.HasCounters != 0 {
		packets, bytes := f.OrigPackets, f.OrigBytes
		if reply {
			packets, bytes = f.ReplyPackets, f.ReplyBytes
		}
		buf = append(buf, "<counters>"...)
		buf = appendXMLUint(buf, "packets", uint64(packets))
		buf = appendXMLUint(buf, "bytes", uint64(bytes))
		buf = append(buf, "</counters>"...)
	}
	return append(buf, "</meta>"...)
}

// appendXMLWhen appends conntrack's <when> element for t.
func appendXMLWhen(buf []byte, t time.Time) []byte {
	buf = append(buf, "<when>"...)
	buf = appendXMLUint(buf, "hour", uint64(t.Hour()))
	buf = append(buf, "<min>"...)
	buf = appendPadded(buf, uint64(t.Minute()), 2)
	buf = append(buf, "</min><sec>"...)
	buf = appendPadded(buf, uint64(t.Second()), 2)
	buf = append(buf, "</sec>"...)
	buf = appendXMLUint(buf, "wday", uint64(t.Weekday())+1)
	buf = appendXMLUint(buf, "day", uint64(t.Day()))
	buf = appendXMLUint(buf, "month", uint64(t.Month()))
	buf = append(buf, "<year>"...)
	buf = strconv.AppendInt(buf, int64(t.Year()), 10)
	buf = append(buf, "</year>"...)
	return append(buf, "</when>"...)
}

// appendXMLUint appends <tag>v</tag>.
func appendXMLUint(buf []byte, tag string, v uint64) []byte {
	buf = append(buf, '<')
	buf = append(buf, tag...)
	buf = append(buf, '>')
	buf = appendUint(buf, v)
	buf = append(buf, "</"...)
	buf = append(buf, tag...)
	return append(buf, '>')
}

// appendXMLString appends <tag>s</tag> with s escaped.
func appendXMLString(buf []byte, tag, s string) []byte {
	buf = append(buf, '<')
	buf = append(buf, tag...)
	buf = append(buf, '>')
	buf = appendXMLEscaped(buf, s)
	buf = append(buf, "</"...)
	buf = append(buf, tag...)
	return append(buf, '>')
}

// appendXMLEscaped appends s with the XML special characters escaped.
// Characters XML 1.0 cannot carry at all (control characters other than
// tab, newline and carriage return, invalid UTF-8) become U+FFFD.
func appendXMLEscaped(buf []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '&':
				buf = append(buf, "&amp;"...)
			case c == '<':
				buf = append(buf, "&lt;"...)
			case c == '>':
				buf = append(buf, "&gt;"...)
			case c == '"':
				buf = append(buf, "&quot;"...)
			case c == '\'':
				buf = append(buf, "&apos;"...)
			case c == '\t':
				buf = append(buf, "&#9;"...)
			case c == '\n':
				buf = append(buf, "&#10;"...)
			case c == '\r':
				buf = append(buf, "&#13;"...)
			case c < 0x20 || c == 0x7f:
				buf = append(buf, "\uFFFD"...)
			default:
				buf = append(buf, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1 || r == 0xFFFE || r == 0xFFFF:
			buf = append(buf, "\uFFFD"...)
		case r < 0xa0:
			// C1 controls (U+009B is CSI) as character references, so that
			// a terminal never sees them raw.
			buf = append(buf, "&#x"...)
			buf = append(buf, hexDigits[r>>4], hexDigits[r&0xf], ';')
		default:
			buf = append(buf, s[i:i+size]...)
		}
		i += size
	}
	return buf
}

// xmlWriter writes a conntrack -o xml listing of records of type T: the
// header before the first record, one <flow> a line, and the footer on
// Flush when the header was written.
type xmlWriter[T any] struct {
	bw             *bufio.Writer
	buf            []byte
	header, footer string
	render         func(buf []byte, x *T) []byte
	opened         bool
}

func newXMLWriter[T any](w io.Writer, header, footer string, render func([]byte, *T) []byte) *xmlWriter[T] {
	return &xmlWriter[T]{bw: bufio.NewWriterSize(w, bufSize), buf: make([]byte, 0, 2048),
		header: header, footer: footer, render: render}
}

// Write writes x as one <flow> line, after the header for the first one.
func (x *xmlWriter[T]) Write(v *T) error {
	b := x.buf[:0]
	if !x.opened {
		b = append(b, x.header...)
		x.opened = true
	}
	b = x.render(b, v)
	b = append(b, '\n')
	x.buf = b
	if _, err := x.bw.Write(b); err != nil {
		return fmt.Errorf("write xml: %w", err)
	}
	return nil
}

// Flush closes the document if one was opened and flushes the output. A
// later Write starts a new document.
func (x *xmlWriter[T]) Flush() error {
	if x.opened {
		x.opened = false
		if _, err := x.bw.WriteString(x.footer); err != nil {
			return fmt.Errorf("write xml: %w", err)
		}
	}
	if err := x.bw.Flush(); err != nil {
		return fmt.Errorf("flush xml: %w", err)
	}
	return nil
}
