package format

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strconv"

	"ctq/internal/quote"

	"ctq/engine"
)

// csvColumn is one column of the csv format for records of type T: its
// header and an appender of the raw (unquoted) cell, which appends nothing
// for an absent attribute. names are the label names of Options.
type csvColumn[T any] struct {
	name string
	cell func(buf []byte, x *T, names map[int]string) []byte
}

// csvColumns is the fixed column set of the csv format.
var csvColumns = []csvColumn[engine.Flow]{
	{"family", func(b []byte, f *engine.Flow, _ map[int]string) []byte { return append(b, f.Family...) }},
	{"proto", func(b []byte, f *engine.Flow, _ map[int]string) []byte { return append(b, f.Proto...) }},
	{"protonum", func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		return strconv.AppendInt(b, int64(f.ProtoNum), 10)
	}},
	{"src", func(b []byte, f *engine.Flow, _ map[int]string) []byte { return appendValidAddr(b, f.Src) }},
	{"dst", func(b []byte, f *engine.Flow, _ map[int]string) []byte { return appendValidAddr(b, f.Dst) }},
	{"sport", portCell(func(f *engine.Flow) int { return f.Sport }, false)},
	{"dport", portCell(func(f *engine.Flow) int { return f.Dport }, false)},
	{"icmp_type", icmpCell(func(f *engine.Flow) int { return f.ICMPType }, false)},
	{"icmp_code", icmpCell(func(f *engine.Flow) int { return f.ICMPCode }, false)},
	{"icmp_id", icmpCell(func(f *engine.Flow) int { return f.ICMPID }, false)},
	{"reply_src", func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if f.Has&engine.HasReply == 0 {
			return b
		}
		return appendValidAddr(b, f.ReplySrc)
	}},
	{"reply_dst", func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if f.Has&engine.HasReply == 0 {
			return b
		}
		return appendValidAddr(b, f.ReplyDst)
	}},
	{"reply_sport", portCell(func(f *engine.Flow) int { return f.ReplySport }, true)},
	{"reply_dport", portCell(func(f *engine.Flow) int { return f.ReplyDport }, true)},
	{"reply_icmp_type", icmpCell(func(f *engine.Flow) int { return f.ReplyICMPType }, true)},
	{"reply_icmp_code", icmpCell(func(f *engine.Flow) int { return f.ReplyICMPCode }, true)},
	{"reply_icmp_id", icmpCell(func(f *engine.Flow) int { return f.ReplyICMPID }, true)},
	{"state", func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if f.Has&engine.HasState == 0 {
			return b
		}
		return append(b, f.State...)
	}},
	{"status", func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if f.Has&engine.HasStatus == 0 {
			return b
		}
		return appendStatusNames(b, f.Status, '|')
	}},
	{"mark", optCell(func(f *engine.Flow) int { return f.Mark }, engine.HasMark)},
	{"secmark", optCell(func(f *engine.Flow) int { return f.Secmark }, engine.HasSecmark)},
	{"zone", optCell(func(f *engine.Flow) int { return f.Zone }, engine.HasZone)},
	{"orig_zone", optCell(func(f *engine.Flow) int { return f.OrigZone }, engine.HasOrigZone)},
	{"reply_zone", optCell(func(f *engine.Flow) int { return f.ReplyZone }, engine.HasReplyZone)},
	{"timeout", optCell(func(f *engine.Flow) int { return f.Timeout }, engine.HasTimeout)},
	{"id", optCell(func(f *engine.Flow) int { return f.ID }, engine.HasID)},
	{"use", optCell(func(f *engine.Flow) int { return f.Use }, engine.HasUse)},
	{"labels", func(b []byte, f *engine.Flow, names map[int]string) []byte {
		if f.Has&engine.HasLabels == 0 {
			return b
		}
		return appendLabelList(b, f.Labels, names, '|')
	}},
	{"helper", func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if f.Has&engine.HasHelper == 0 {
			return b
		}
		return append(b, f.Helper...)
	}},
	{"secctx", func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if f.Has&engine.HasSecctx == 0 {
			return b
		}
		return append(b, f.Secctx...)
	}},
	{"packets", optCell(func(f *engine.Flow) int { return f.Packets }, engine.HasCounters)},
	{"bytes", optCell(func(f *engine.Flow) int { return f.Bytes }, engine.HasCounters)},
	{"orig_packets", optCell(func(f *engine.Flow) int { return f.OrigPackets }, engine.HasCounters)},
	{"orig_bytes", optCell(func(f *engine.Flow) int { return f.OrigBytes }, engine.HasCounters)},
	{"reply_packets", optCell(func(f *engine.Flow) int { return f.ReplyPackets }, engine.HasCounters)},
	{"reply_bytes", optCell(func(f *engine.Flow) int { return f.ReplyBytes }, engine.HasCounters)},
	{"start", func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if f.Has&engine.HasStart == 0 {
			return b
		}
		return f.Start.UTC().AppendFormat(b, jsonTimeLayout)
	}},
	{"stop", func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if f.Has&engine.HasStop == 0 {
			return b
		}
		return f.Stop.UTC().AppendFormat(b, jsonTimeLayout)
	}},
	{"age", func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if f.Has&engine.HasStart == 0 {
			return b
		}
		return appendSeconds(b, f.Age)
	}},
}

// portCell renders a port (or GRE key) for protocols that have ports; a
// reply cell also needs the reply tuple.
func portCell(get func(*engine.Flow) int, reply bool) func([]byte, *engine.Flow, map[int]string) []byte {
	return func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if !engine.HasPorts(f.ProtoNum) || reply && f.Has&engine.HasReply == 0 {
			return b
		}
		return strconv.AppendInt(b, int64(get(f)), 10)
	}
}

// icmpCell renders an ICMP field for ICMP and ICMPv6 flows.
func icmpCell(get func(*engine.Flow) int, reply bool) func([]byte, *engine.Flow, map[int]string) []byte {
	return func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if !isICMP(f.ProtoNum) || reply && f.Has&engine.HasReply == 0 {
			return b
		}
		return strconv.AppendInt(b, int64(get(f)), 10)
	}
}

// optCell renders an optional number, present when its Has bit is set.
func optCell(get func(*engine.Flow) int, bit engine.Attr) func([]byte, *engine.Flow, map[int]string) []byte {
	return func(b []byte, f *engine.Flow, _ map[int]string) []byte {
		if f.Has&bit == 0 {
			return b
		}
		return strconv.AppendInt(b, int64(get(f)), 10)
	}
}

// appendValidAddr appends a, or nothing for a missing address.
func appendValidAddr(b []byte, a netip.Addr) []byte {
	if !a.IsValid() {
		return b
	}
	return a.AppendTo(b)
}

// appendStatusNames appends the names of the set status bits joined by
// sep, or "0" when none is set.
func appendStatusNames(b []byte, s engine.Status, sep byte) []byte {
	start := len(b)
	for i, name := range engine.StatusNames {
		if s&(1<<i) == 0 {
			continue
		}
		if len(b) > start {
			b = append(b, sep)
		}
		b = append(b, name...)
	}
	if len(b) == start {
		b = append(b, '0')
	}
	return b
}

// appendLabelList appends the set label bits, by name where names has one,
// joined by sep.
func appendLabelList(b []byte, l engine.Labels, names map[int]string, sep byte) []byte {
	first := true
	for n := nextLabel(&l, 0); n >= 0; n = nextLabel(&l, n+1) {
		if !first {
			b = append(b, sep)
		}
		first = false
		if name := names[n]; name != "" {
			b = append(b, name...)
		} else {
			b = strconv.AppendInt(b, int64(n), 10)
		}
	}
	return b
}

// appendCSVField appends one field, quoted as RFC 4180 requires when it
// holds a comma, a double quote, CR or LF. Other control characters and
// non-printable runes are escaped (\x1b), so that none reaches a terminal.
func appendCSVField(b []byte, field []byte) []byte {
	quoted, odd := false, false
	for _, c := range field {
		switch {
		case c == ',' || c == '"' || c == '\r' || c == '\n':
			quoted = true
		case c < 0x20 && c != '\t' || c >= 0x7f:
			odd = true
		}
	}
	if odd {
		if s := string(field); !quote.CleanKeepSpace(s) {
			field = quote.AppendKeepSpace(nil, s)
		}
	}
	if !quoted {
		return append(b, field...)
	}
	b = append(b, '"')
	for _, c := range field {
		if c == '"' {
			b = append(b, '"')
		}
		b = append(b, c)
	}
	return append(b, '"')
}

// AppendCSVHeader appends the csv header row (no newline).
func AppendCSVHeader(buf []byte) []byte {
	return appendCSVHeader(buf, csvColumns)
}

// AppendCSV appends f as one csv row (no newline), in the columns of
// AppendCSVHeader; scratch is a reusable buffer for the cells and is
// returned for reuse. opts may be nil.
func AppendCSV(buf, scratch []byte, f *engine.Flow, opts *Options) ([]byte, []byte) {
	return appendCSVRow(buf, scratch, csvColumns, f, opts.labelNames())
}

// appendCSVHeader appends the names of cols joined by commas.
func appendCSVHeader[T any](buf []byte, cols []csvColumn[T]) []byte {
	for i, c := range cols {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, c.name...)
	}
	return buf
}

// appendCSVRow appends the cells of x in cols, quoted as needed; scratch
// holds each raw cell and is returned for reuse.
func appendCSVRow[T any](buf, scratch []byte, cols []csvColumn[T], x *T, names map[int]string) ([]byte, []byte) {
	for i, c := range cols {
		if i > 0 {
			buf = append(buf, ',')
		}
		scratch = c.cell(scratch[:0], x, names)
		buf = appendCSVField(buf, scratch)
	}
	return buf, scratch
}

// csvWriter writes the csv format for records of type T: the header row
// before the first record (or at Flush when there was none), then one row
// a record.
type csvWriter[T any] struct {
	bw      *bufio.Writer
	buf     []byte
	scratch []byte
	cols    []csvColumn[T]
	names   map[int]string
	header  bool
}

func newCSVWriter[T any](w io.Writer, cols []csvColumn[T], opts *Options) *csvWriter[T] {
	return &csvWriter[T]{bw: bufio.NewWriterSize(w, bufSize), cols: cols, names: opts.labelNames()}
}

func (c *csvWriter[T]) writeHeader() error {
	c.header = true
	c.buf = append(appendCSVHeader(c.buf[:0], c.cols), '\n')
	if _, err := c.bw.Write(c.buf); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// Write writes x as one row.
func (c *csvWriter[T]) Write(x *T) error {
	if !c.header {
		if err := c.writeHeader(); err != nil {
			return err
		}
	}
	c.buf, c.scratch = appendCSVRow(c.buf[:0], c.scratch, c.cols, x, c.names)
	c.buf = append(c.buf, '\n')
	if _, err := c.bw.Write(c.buf); err != nil {
		return fmt.Errorf("write csv: %w", err)
	}
	return nil
}

// Flush writes the header if no row was written, and flushes the output.
func (c *csvWriter[T]) Flush() error {
	if !c.header {
		if err := c.writeHeader(); err != nil {
			return err
		}
	}
	if err := c.bw.Flush(); err != nil {
		return fmt.Errorf("flush csv: %w", err)
	}
	return nil
}
