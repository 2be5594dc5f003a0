package format

import (
	"bufio"
	"fmt"
	"io"

	"ctq/engine"
)

// NewExpect returns an ExpectWriter for format name writing to w. It takes
// the names New takes, with conntrack's behaviour for expectations:
//
//	text, extended, id, ktimestamp, labels, save
//	          the expectation line of conntrack -L expect (AppendExpect):
//	          conntrack ignores these flags, and save, for expectations
//	timestamp (alone or in a comma list) prefixes each line with the time
//	          of writing, "[SECONDS.MICROSECONDS]\t", as conntrack -L expect
//	          -o timestamp does (with zero padding, see the package doc)
//	xml       a document with root <expect> (header before the first entry,
//	          nothing at all for zero entries, the closing tag on Flush);
//	          with timestamp each <meta> has a <when>
//	json      one AppendExpectJSON object a line
//	csv       a header row, then one row an expectation
//	table     aligned columns for a terminal
//
// The writers buffer through a bufio.Writer: call Flush at the end.
func NewExpect(name string, w io.Writer, opts Options) (engine.ExpectWriter, error) {
	s, err := Parse(name)
	if err != nil {
		return nil, err
	}
	o := &opts
	switch s.Kind {
	case KindXML:
		flags := s.Flags
		return expectAdapter{newXMLWriter(w, XMLExpectHeader, XMLExpectFooter, func(buf []byte, e *engine.Expect) []byte {
			return AppendExpectXML(buf, e, EventNone, flags, o)
		})}, nil
	case KindJSON:
		return expectAdapter{newLines(w, func(buf []byte, e *engine.Expect) []byte {
			return AppendExpectJSON(buf, e)
		})}, nil
	case KindCSV:
		return expectAdapter{newCSVWriter(w, expectCSVColumns, o)}, nil
	case KindTable:
		return expectAdapter{newTableWriter(w, expectTableColumns)}, nil
	}
	if s.Flags&FlagTime != 0 {
		return expectAdapter{newLines(w, func(buf []byte, e *engine.Expect) []byte {
			buf = AppendEventTime(buf, o.now())
			return AppendExpect(buf, e, EventNone, o)
		})}, nil
	}
	return expectAdapter{newLines(w, func(buf []byte, e *engine.Expect) []byte {
		return AppendExpect(buf, e, EventNone, o)
	})}, nil
}

// expectAdapter turns a writer of *engine.Expect records into an
// engine.ExpectWriter.
type expectAdapter struct {
	w interface {
		Write(e *engine.Expect) error
		Flush() error
	}
}

// WriteExpect writes e.
func (a expectAdapter) WriteExpect(e *engine.Expect) error { return a.w.Write(e) }

// Flush completes and flushes the output.
func (a expectAdapter) Flush() error { return a.w.Flush() }

// lines writes one line a record of type T, rendered by line into a reused
// buffer, through a bufio.Writer.
type lines[T any] struct {
	bw   *bufio.Writer
	buf  []byte
	line func(buf []byte, x *T) []byte
}

func newLines[T any](w io.Writer, line func([]byte, *T) []byte) *lines[T] {
	return &lines[T]{bw: bufio.NewWriterSize(w, bufSize), buf: make([]byte, 0, 1024), line: line}
}

// Write renders x and writes it as one line.
func (l *lines[T]) Write(x *T) error {
	l.buf = append(l.line(l.buf[:0], x), '\n')
	if _, err := l.bw.Write(l.buf); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// Flush writes out whatever is buffered.
func (l *lines[T]) Flush() error {
	if err := l.bw.Flush(); err != nil {
		return fmt.Errorf("flush output: %w", err)
	}
	return nil
}
