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

// tableBuffered is how many rows the table format holds back to size its
// columns before it streams.
const tableBuffered = 1000

// tableColumn is one column of the table format for records of type T.
type tableColumn[T any] struct {
	name  string
	right bool // right-aligned (numbers)
	cell  func(buf []byte, x *T) []byte
}

// tableColumns are the columns of the table format. An absent value
// prints as "-".
var tableColumns = []tableColumn[engine.Flow]{
	{"PROTO", false, func(b []byte, f *engine.Flow) []byte { return append(b, f.Proto...) }},
	{"SRC", false, func(b []byte, f *engine.Flow) []byte { return appendEndpoint(b, f.ProtoNum, f.Src, f.Sport) }},
	{"DST", false, func(b []byte, f *engine.Flow) []byte { return appendEndpoint(b, f.ProtoNum, f.Dst, f.Dport) }},
	{"STATE", false, func(b []byte, f *engine.Flow) []byte {
		switch {
		case f.Has&engine.HasState != 0:
			return append(b, f.State...)
		case isICMP(f.ProtoNum):
			b = append(b, "type="...)
			b = strconv.AppendInt(b, int64(f.ICMPType), 10)
			b = append(b, " code="...)
			return strconv.AppendInt(b, int64(f.ICMPCode), 10)
		}
		return b
	}},
	{"REPLY-SRC", false, func(b []byte, f *engine.Flow) []byte {
		if f.Has&engine.HasReply == 0 {
			return b
		}
		return appendEndpoint(b, f.ProtoNum, f.ReplySrc, f.ReplySport)
	}},
	{"REPLY-DST", false, func(b []byte, f *engine.Flow) []byte {
		if f.Has&engine.HasReply == 0 {
			return b
		}
		return appendEndpoint(b, f.ProtoNum, f.ReplyDst, f.ReplyDport)
	}},
	{"MARK", true, tableNum(func(f *engine.Flow) int { return f.Mark }, engine.HasMark)},
	{"ZONE", true, tableNum(func(f *engine.Flow) int { return f.Zone }, engine.HasZone)},
	{"TIMEOUT", true, tableNum(func(f *engine.Flow) int { return f.Timeout }, engine.HasTimeout)},
	{"PACKETS", true, tableNum(func(f *engine.Flow) int { return f.Packets }, engine.HasCounters)},
	{"BYTES", true, tableNum(func(f *engine.Flow) int { return f.Bytes }, engine.HasCounters)},
	{"FLAGS", false, func(b []byte, f *engine.Flow) []byte {
		if f.Has&engine.HasStatus == 0 {
			return b
		}
		return appendFlags(b, f.Status)
	}},
}

// tableFlags are the status facts the FLAGS column shows, in order.
var tableFlags = [...]struct {
	name  string
	unset bool // shown when the bit is clear
	bit   engine.Status
}{
	{"UNREPLIED", true, engine.StatusSeenReply},
	{"ASSURED", false, engine.StatusAssured},
	{"SNAT", false, engine.StatusSrcNAT},
	{"DNAT", false, engine.StatusDstNAT},
	{"OFFLOAD", false, engine.StatusOffload},
	{"HW_OFFLOAD", false, engine.StatusHWOffload},
	{"DYING", false, engine.StatusDying},
}

func appendFlags(b []byte, s engine.Status) []byte {
	start := len(b)
	for _, fl := range tableFlags {
		if (s&fl.bit != 0) == fl.unset {
			continue
		}
		if len(b) > start {
			b = append(b, ',')
		}
		b = append(b, fl.name...)
	}
	return b
}

func tableNum(get func(*engine.Flow) int, bit engine.Attr) func([]byte, *engine.Flow) []byte {
	return func(b []byte, f *engine.Flow) []byte {
		if f.Has&bit == 0 {
			return b
		}
		return strconv.AppendInt(b, int64(get(f)), 10)
	}
}

// appendEndpoint appends addr:port ([addr]:port for IPv6), GRE keys in
// hex, the bare address for protocols without ports.
func appendEndpoint(b []byte, proto int, a netip.Addr, port int) []byte {
	if !a.IsValid() {
		return b
	}
	if !engine.HasPorts(proto) {
		return a.AppendTo(b)
	}
	if a.Is6() && !a.Is4In6() {
		b = append(b, '[')
		b = a.AppendTo(b)
		b = append(b, ']')
	} else {
		b = a.Unmap().AppendTo(b)
	}
	b = append(b, ':')
	if proto == engine.ProtoGRE {
		b = append(b, "0x"...)
		return strconv.AppendUint(b, u16(port), 16)
	}
	return strconv.AppendInt(b, int64(port), 10)
}

// tableWriter writes records of type T in aligned columns. It holds back
// the first tableBuffered rows to size the columns, then writes them and
// streams the rest with those widths (a longer cell pushes its row's later
// cells right).
type tableWriter[T any] struct {
	bw        *bufio.Writer
	cols      []tableColumn[T]
	rows      [][]string
	widths    []int
	streaming bool
	scratch   []byte
	line      []byte
}

func newTableWriter[T any](w io.Writer, cols []tableColumn[T]) *tableWriter[T] {
	return &tableWriter[T]{bw: bufio.NewWriterSize(w, bufSize), cols: cols}
}

// Write adds x as one row.
func (t *tableWriter[T]) Write(x *T) error {
	row := make([]string, len(t.cols))
	for i, c := range t.cols {
		t.scratch = c.cell(t.scratch[:0], x)
		if len(t.scratch) == 0 {
			row[i] = "-"
		} else {
			row[i] = quote.Escape(string(t.scratch))
		}
	}
	if t.streaming {
		return t.writeRow(row)
	}
	t.rows = append(t.rows, row)
	if len(t.rows) >= tableBuffered {
		return t.release()
	}
	return nil
}

// release sizes the columns from the held rows and writes the header and
// the rows; later rows stream.
func (t *tableWriter[T]) release() error {
	header := make([]string, len(t.cols))
	t.widths = make([]int, len(t.cols))
	for i, c := range t.cols {
		header[i] = c.name
		t.widths[i] = len(c.name)
	}
	for _, row := range t.rows {
		for i, cell := range row {
			t.widths[i] = max(t.widths[i], len(cell))
		}
	}
	t.streaming = true
	if err := t.writeRow(header); err != nil {
		return err
	}
	for _, row := range t.rows {
		if err := t.writeRow(row); err != nil {
			return err
		}
	}
	t.rows = nil
	return nil
}

// writeRow writes one row with the current widths, two blanks between
// columns and none at the end of the line.
func (t *tableWriter[T]) writeRow(row []string) error {
	b := t.line[:0]
	for i, cell := range row {
		pad := t.widths[i] - len(cell)
		last := i == len(row)-1
		if i > 0 {
			b = append(b, ' ', ' ')
		}
		if t.cols[i].right {
			b = appendBlanks(b, pad)
			b = append(b, cell...)
		} else {
			b = append(b, cell...)
			if !last {
				b = appendBlanks(b, pad)
			}
		}
	}
	b = append(b, '\n')
	t.line = b
	if _, err := t.bw.Write(b); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

func appendBlanks(b []byte, n int) []byte {
	for ; n > 0; n-- {
		b = append(b, ' ')
	}
	return b
}

// Flush writes the held rows (the header alone when there were none) and
// flushes the output. A later Write starts a new table.
func (t *tableWriter[T]) Flush() error {
	if !t.streaming {
		if err := t.release(); err != nil {
			return err
		}
	}
	t.streaming = false
	if err := t.bw.Flush(); err != nil {
		return fmt.Errorf("flush table: %w", err)
	}
	return nil
}
