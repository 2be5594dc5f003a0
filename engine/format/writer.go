package format

import (
	"bufio"
	"fmt"
	"io"

	"ctq/engine"
)

// bufSize is the size of the bufio.Writer behind every writer.
const bufSize = 64 << 10

// AppendFunc appends the rendering of one flow (without the newline) to buf.
type AppendFunc func(buf []byte, f *engine.Flow) ([]byte, error)

// LineWriter is an engine.Writer that writes one line a flow, built by an
// AppendFunc into a reused buffer, through a bufio.Writer.
type LineWriter struct {
	bw   *bufio.Writer
	buf  []byte
	line AppendFunc
}

// NewLineWriter returns a LineWriter that renders each flow with line and
// writes it to w followed by a newline. It lets other packages stream a
// variant of a format, e.g. save lines with the -D prefix:
//
//	format.NewLineWriter(w, func(b []byte, f *engine.Flow) ([]byte, error) {
//		return format.AppendSave(b, f, format.EventDestroy)
//	})
func NewLineWriter(w io.Writer, line AppendFunc) *LineWriter {
	return &LineWriter{bw: bufio.NewWriterSize(w, bufSize), buf: make([]byte, 0, 1024), line: line}
}

// Write renders f and writes it as one line.
func (lw *LineWriter) Write(f *engine.Flow) error {
	b, err := lw.line(lw.buf[:0], f)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	lw.buf = b
	if _, err := lw.bw.Write(b); err != nil {
		return fmt.Errorf("write flow: %w", err)
	}
	return nil
}

// Flush writes out whatever is buffered.
func (lw *LineWriter) Flush() error {
	if err := lw.bw.Flush(); err != nil {
		return fmt.Errorf("flush output: %w", err)
	}
	return nil
}
