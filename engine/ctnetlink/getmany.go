//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"ctq/engine"
)

// getChunk is how many lookups GetEach sends in one sendmsg; their
// answers (the entries, a few hundred bytes each) must fit the socket's
// receive buffer (getReadBuffer) together.
const (
	getChunk      = 128
	getReadBuffer = 1 << 20
)

var _ engine.MultiGetter = (*Live)(nil)

// GetEach looks up the entries of keys (engine.MultiGetter): getChunk
// IPCTNL_MSG_CT_GET requests to a sendmsg on a socket of its own, whose
// answers, one for each request (the entry, or an error), are read in
// order.
func (l *Live) GetEach(ctx context.Context, keys []engine.Flow, fn func(i int, f *engine.Flow, err error) error) error {
	const op = "get conntrack entries"
	if len(keys) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	c, err := l.dial()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer l.release(c)
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if err := c.SetReadBuffer(getReadBuffer); err != nil {
		return kernelError(op, err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	write := rawWriter(rc)

	var (
		buf  []byte
		f    engine.Flow
		seq  uint32 = 1
		errs        = make([]error, getChunk)
		rbuf        = make([]byte, messageBufferSize)
		got         = make([]bool, getChunk)
	)
	for lo := 0; lo < len(keys); lo += getChunk {
		chunk := keys[lo:min(lo+getChunk, len(keys))]
		buf = buf[:0]
		first := seq
		for i := range chunk {
			start := len(buf)
			e := attrEncoder{b: append(buf, make([]byte, nlmsgHdrLen)...)}
			fam, err := flowFamily(&chunk[i])
			if err == nil {
				e.startRequest(fam)
				err = e.lookupKey(&chunk[i])
			}
			if err != nil {
				return fmt.Errorf("%s: lookup key %v: %w", op, keyOf(&chunk[i]), err)
			}
			e.pad()
			buf = e.b
			putHeader(buf[start:], uint16(nfnlSubsysCTNetlink<<8|ipctnlMsgCtGet), uint16(netlink.Request), seq)
			seq++
		}
		if err := write(buf); err != nil {
			return l.getEachError(ctx, op, err)
		}
		// Answers come in request order; each entry is handed on as it
		// arrives, each error once the entries before it were.
		clear(got)
		clear(errs)
		next, n := 0, len(chunk)
		emit := func() error {
			for next < n && got[next] && errs[next] != nil {
				err := errs[next]
				if errors.Is(err, unix.ENOENT) {
					err = engine.ErrNotFound
				}
				if err := fn(lo+next, nil, err); err != nil {
					return err
				}
				next++
			}
			return nil
		}
		for next < n {
			// The kernel marks each answer NLM_F_MULTI but sends no
			// done message: the library's Receive would wait for one.
			m, err := readDatagram(rc, rbuf)
			if err != nil {
				return l.getEachError(ctx, op, err)
			}
			var ferr error
			perr := eachMessage(m, func(h netlink.Header, data []byte) bool {
				i := int(h.Sequence - first)
				if h.Sequence-first >= uint32(n) || got[i] {
					return true // not an answer of this chunk
				}
				got[i] = true
				switch {
				case h.Type == nlmsgError:
					errs[i] = errNoAnswer // an acknowledgement, not asked for
					if errno := answerErrno(data); errno != 0 {
						errs[i] = errno
					}
				case int(h.Type)>>8 != nfnlSubsysCTNetlink:
					errs[i] = fmt.Errorf("unexpected answer type %#x", h.Type)
				case i != next:
					ferr = fmt.Errorf("the answer to request %d came before that to request %d", i, next)
					return false
				default:
					if ferr = DecodeFlow(data, &f, time.Now()); ferr != nil {
						return false
					}
					if ferr = fn(lo+i, &f, nil); ferr != nil {
						return false
					}
					next++
				}
				ferr = emit()
				return ferr == nil
			})
			if perr != nil {
				return fmt.Errorf("%s: %w", op, perr)
			}
			if ferr != nil {
				return ferr
			}
		}
	}
	return nil
}

// getEachError is the error of a GetEach that could not go on.
func (l *Live) getEachError(ctx context.Context, op string, err error) error {
	switch {
	case l.closed.Load():
		return fmt.Errorf("%s: %w", op, errClosed)
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", op, context.Cause(ctx))
	}
	return kernelError(op, err)
}

// readDatagram reads one datagram into buf and returns it.
func readDatagram(rc syscall.RawConn, buf []byte) ([]byte, error) {
	var n, flags int
	var rerr error
	err := rc.Read(func(fd uintptr) bool {
		n, _, flags, _, rerr = unix.Recvmsg(int(fd), buf, nil, 0)
		return rerr != unix.EAGAIN
	})
	if err == nil {
		err = rerr
	}
	switch {
	case err != nil:
		return nil, &netlink.OpError{Op: "receive", Err: err}
	case flags&unix.MSG_TRUNC != 0:
		return nil, &netlink.OpError{Op: "receive", Err: errors.New("datagram longer than the receive buffer")}
	}
	return buf[:n], nil
}
