package conntrack

import (
	"fmt"
	"io"
)

// stdioBlock is the size of the blocks in which glibc writes a fully
// buffered standard output: st_blksize, 4096 for pipes and the usual
// file systems.
const stdioBlock = 4096

// blockWriter buffers standard output as conntrack's stdio does when it is
// not a terminal: it writes blocks of exactly stdioBlock bytes as they
// fill, and the rest at the end (Flush). Where stdout and stderr share a
// pipe (2>&1), the summary lines then land between the same bytes as
// conntrack's do: after the last full block, before the rest.
//
// On a terminal stdio buffers lines instead: each Write is written out at
// once (the writers of engine/format hand over whole lines).
type blockWriter struct {
	w    io.Writer
	buf  []byte
	err  error
	line bool // a terminal: write at the end of each Write
}

func newBlockWriter(w io.Writer, line bool) *blockWriter {
	return &blockWriter{w: w, buf: make([]byte, 0, stdioBlock), line: line}
}

// Write buffers p, writing each block that fills.
func (b *blockWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		if b.err != nil {
			return n, b.err
		}
		k := copy(b.buf[len(b.buf):cap(b.buf)], p)
		b.buf = b.buf[:len(b.buf)+k]
		p, n = p[k:], n+k
		if len(b.buf) == cap(b.buf) {
			b.write()
		}
	}
	if b.line {
		b.write()
	}
	return n, b.err
}

// WriteString is Write for a string.
func (b *blockWriter) WriteString(s string) (int, error) {
	n := 0
	for len(s) > 0 {
		if b.err != nil {
			return n, b.err
		}
		k := copy(b.buf[len(b.buf):cap(b.buf)], s)
		b.buf = b.buf[:len(b.buf)+k]
		s, n = s[k:], n+k
		if len(b.buf) == cap(b.buf) {
			b.write()
		}
	}
	if b.line {
		b.write()
	}
	return n, b.err
}

// write writes what is buffered.
func (b *blockWriter) write() {
	if len(b.buf) == 0 || b.err != nil {
		return
	}
	if _, err := b.w.Write(b.buf); err != nil {
		b.err = fmt.Errorf("write standard output: %w", err)
	}
	b.buf = b.buf[:0]
}

// Flush writes what is buffered.
func (b *blockWriter) Flush() error {
	b.write()
	return b.err
}
