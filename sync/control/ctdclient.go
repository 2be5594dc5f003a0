package control

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"
)

// ctdErrorPrefix starts the line with which ctq's node reports a failed
// request to conntrackd's client (conntrackd's own daemon only logs
// failures and sends nothing).
const ctdErrorPrefix = "ERROR: "

// ctdLong are the codes of the requests that work on the whole kernel
// table before they answer: they wait LongTimeout.
var ctdLong = map[int32]bool{
	CodeFlushMaster: true, CodeExpFlushMaster: true, CodeAllFlushMaster: true,
	CodeResyncMaster: true, CodeExpResyncMaster: true, CodeAllResyncMaster: true,
	CodeCommit: true, CodeExpCommit: true, CodeAllCommit: true, CodeSendBulk: true,
}

// Conntrackd sends one of conntrackd's request codes to the daemon
// listening at cl.Path, ctq's node or conntrackd itself, as conntrackd's
// client does, and copies the reply to w as it arrives, unchanged. The
// reply ends when the daemon closes the connection. A reply holding a
// line that starts with "ERROR: " (how ctq's node reports a failed
// commit, flush or other request) is a *RemoteError with that line's
// text, once the whole reply is copied. A daemon that cannot be reached
// is an error wrapping the dial's; one that stops sending for the idle
// deadline (Timeout, else DefaultTimeout or, for commit, refresh, kernel
// flush and bulk, LongTimeout) a *TimeoutError.
func (cl Client) Conntrackd(ctx context.Context, code int32, w io.Writer) error {
	timeout := cl.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
		if ctdLong[code] {
			timeout = LongTimeout
		}
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "unix", cl.Path)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", cl.Path, err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	var req [4]byte
	binary.NativeEndian.PutUint32(req[:], uint32(code))
	c.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.Write(req[:]); err != nil {
		return cl.ctdErr(ctx, timeout, fmt.Errorf("send request %d: %w", code, err))
	}
	fail := &errorLines{}
	_, err = io.Copy(io.MultiWriter(w, fail), &idleReader{c: c, idle: timeout})
	if err != nil {
		return cl.ctdErr(ctx, timeout, fmt.Errorf("read the reply to request %d: %w", code, err))
	}
	fail.Write([]byte{'\n'}) // a last line without its newline
	if fail.msg != "" {
		return &RemoteError{Msg: fail.msg}
	}
	return nil
}

// ctdErr is err, or what stopped it: the context or the idle deadline.
func (cl Client) ctdErr(ctx context.Context, timeout time.Duration, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &TimeoutError{Path: cl.Path, After: timeout}
	}
	return err
}

// errorLines finds the first line starting with ctdErrorPrefix in what
// is written to it, whatever the pieces.
type errorLines struct {
	line []byte // the start of the current line, up to len(ctdErrorPrefix) bytes, or all of an error line
	in   bool   // the current line is an error line
	skip bool   // the current line is not
	msg  string
}

func (e *errorLines) Write(p []byte) (int, error) {
	for _, b := range p {
		if b == '\n' {
			if e.in && e.msg == "" {
				e.msg = strings.TrimPrefix(string(e.line), ctdErrorPrefix)
			}
			e.line, e.in, e.skip = e.line[:0], false, false
			continue
		}
		switch {
		case e.skip:
		case e.in:
			if len(e.line) < maxReplyLine {
				e.line = append(e.line, b)
			}
		default:
			e.line = append(e.line, b)
			if !bytes.HasPrefix([]byte(ctdErrorPrefix), e.line) {
				e.skip = true
			} else if len(e.line) == len(ctdErrorPrefix) {
				e.in = true
			}
		}
	}
	return len(p), nil
}
