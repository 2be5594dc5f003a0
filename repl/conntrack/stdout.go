package conntrack

import (
	"fmt"
	"io"
)

// stdioBlock is the size of the blocks in which glibc writes a fully
// buffered standard output: st_blksize, 4096 for pipes and the usual
// file systems.
const stdioBlock = 4096

// blockBuffer is how much blockWriter holds: whole blocks.
const blockBuffer = 16 * stdioBlock

// blockWriter buffers standard output so that, seen from standard error,
// it is written as conntrack's stdio writes it when it is not a terminal:
// in whole blocks of stdioBlock bytes as they fill, and the rest at exit.
// Before each write to standard error (stderrWriter) every whole block
// buffered is written, and only the rest waits: where stdout and stderr
// share a pipe (2>&1), the summary lines land between the same bytes as
// conntrack's. Between writes to standard error it writes larger runs of
// whole blocks, which the reader cannot tell apart.
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
	return &blockWriter{w: w, buf: make([]byte, 0, blockBuffer), line: line}
}

// Write buffers p, writing the buffer out each time it fills.
func (b *blockWriter) Write(p []byte) (int, error) { return bufferBlocks(b, p) }

// WriteString is Write for a string.
func (b *blockWriter) WriteString(s string) (int, error) { return bufferBlocks(b, s) }

// bufferBlocks is Write and WriteString.
func bufferBlocks[T string | []byte](b *blockWriter, p T) (int, error) {
	n := 0
	for len(p) > 0 {
		if b.err != nil {
			return n, b.err
		}
		k := copy(b.buf[len(b.buf):cap(b.buf)], p)
		b.buf = b.buf[:len(b.buf)+k]
		p, n = p[k:], n+k
		if len(b.buf) == cap(b.buf) {
			b.write(len(b.buf))
		}
	}
	if b.line {
		b.write(len(b.buf))
	}
	return n, b.err
}

// write writes the first n bytes buffered and keeps the rest.
func (b *blockWriter) write(n int) {
	if n == 0 || b.err != nil {
		return
	}
	if _, err := b.w.Write(b.buf[:n]); err != nil {
		b.err = fmt.Errorf("write standard output: %w", err)
	}
	b.buf = b.buf[:copy(b.buf, b.buf[n:])]
}

// blocks writes the whole blocks buffered (what stdio has written by
// then), keeping the rest.
func (b *blockWriter) blocks() { b.write(len(b.buf) / stdioBlock * stdioBlock) }

// Flush writes everything buffered.
func (b *blockWriter) Flush() error {
	b.write(len(b.buf))
	return b.err
}

// stderrWriter is standard error: before each write, standard output's
// whole blocks go out, as stdio would have written them by then.
type stderrWriter struct {
	out *blockWriter
	w   io.Writer
}

func (s stderrWriter) Write(p []byte) (int, error) {
	s.out.blocks()
	return s.w.Write(p)
}
