//go:build linux

package ctnetlink

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// group is the requests of one sendmsg. The batch's caller fills it; the
// batch's sender goroutine sends it and reads the answers; the caller then
// settles it (counts and reports the outcomes) and fills it again. The
// sender takes one group at a time, in order, so the answers of two groups
// never share the socket's receive buffer, and the kernel sees the
// requests in the order they were queued.
type group struct {
	arena []byte // the requests, each with room for its header in front
	reqs  []pendingReq

	// Set by the sender.
	answered []bool
	errs     []error // the kernel's error for answered requests, nil: done
	unknown  int     // requests whose answer may have been lost
	overflow bool    // answers were dropped (ENOBUFS)
	sendErr  bool    // sendmsg failed: no request reached the kernel
	skipped  bool    // not sent: the batch ended before (err says why, if it ended here)
	err      error   // the error that ends the batch
}

// reset empties g for reuse.
func (g *group) reset() {
	g.arena, g.reqs = g.arena[:0], g.reqs[:0]
	g.unknown, g.overflow, g.sendErr, g.skipped, g.err = 0, false, false, false, nil
}

// sender sends the groups handed to it and reads their answers, until
// the batch closes. After a group whose error ends the batch, it sends
// nothing more. It waits while the source starts a dump (dumpStarts).
func (b *liveBatch) sender() {
	ended := false
	for g := range b.toSend {
		if !ended {
			b.l.starts.wait(b.ctx)
		}
		switch {
		case ended:
			g.skipped = true
		case b.ctx.Err() != nil:
			g.skipped, g.err = true, fmt.Errorf("batch: %w", context.Cause(b.ctx))
		case b.l.closed.Load():
			g.skipped, g.err = true, fmt.Errorf("batch: %w", errClosed)
		default:
			b.transmit(g)
		}
		ended = ended || g.err != nil
		b.sent <- g
	}
}

// transmit fills in the headers of g's requests, sends them in one
// sendmsg with an acknowledgement asked for the last, and reads the
// answers.
func (b *liveBatch) transmit(g *group) {
	n := len(g.reqs)
	first := b.seq
	for i, r := range g.reqs {
		fl := netlink.Request | r.flags
		if i == n-1 {
			fl |= netlink.Acknowledge
		}
		putHeader(g.arena[r.start:r.end], uint16(nfnlSubsysCTNetlink<<8|r.msgType), uint16(fl), b.seq)
		b.seq++
	}
	if cap(g.answered) < n {
		g.answered, g.errs = make([]bool, n), make([]error, n)
	}
	g.answered, g.errs = g.answered[:n], g.errs[:n]
	clear(g.answered)
	clear(g.errs)
	if err := b.write(g.arena); err != nil {
		g.sendErr = true
		g.err = b.fatal(fmt.Sprintf("send %d requests", n), err)
		return
	}
	b.receive(g, first)
}

// receive reads the answers to g's requests, sent from sequence number
// first on, until the last request's.
func (b *liveBatch) receive(g *group, first uint32) {
	n := len(g.reqs)
	for {
		msgs, err := b.c.Receive()
		if err != nil {
			var oe *netlink.OpError
			if errors.As(err, &oe) && oe.Sequence-first < uint32(n) {
				if errno, ok := oe.Err.(unix.Errno); ok {
					// An error answer: the request failed.
					i := int(oe.Sequence - first)
					if !g.answered[i] {
						g.answered[i], g.errs[i] = true, errno
					}
					if i == n-1 {
						break
					}
					continue
				}
			}
			if errors.Is(err, unix.ENOBUFS) {
				// Answers were dropped; what is left was queued before
				// sendmsg returned, so read it without waiting long.
				if !g.overflow {
					g.overflow = true
					if err := b.c.SetReadDeadline(time.Now().Add(drainWait)); err != nil {
						g.err = b.fatal("receive answers", err)
						break
					}
				}
				continue
			}
			if !g.overflow || !isTimeout(err) {
				g.err = b.fatal("receive answers", err)
			}
			break
		}
		last := false
		for _, m := range msgs {
			i := int(m.Header.Sequence - first)
			if m.Header.Type != netlink.Error || m.Header.Sequence-first >= uint32(n) || g.answered[i] {
				continue // not an answer of this group
			}
			// An acknowledgement (error code 0): the last request was done.
			g.answered[i] = true
			last = last || i == n-1
		}
		if last {
			break
		}
	}
	if g.overflow {
		if err := b.c.SetReadDeadline(time.Time{}); err != nil && g.err == nil {
			g.err = b.fatal("receive answers", err)
		}
	}
	// Requests without an answer succeeded, unless an answer may have been
	// lost (overflow) or was not read (an error ended the reading).
	for i := range n {
		if g.answered[i] {
			continue
		}
		if g.overflow || g.err != nil {
			g.unknown++
		} else {
			g.answered[i] = true
		}
	}
}

// rawWriter sends buf, whole requests with their headers, in one sendmsg
// to the kernel on rc. The library's SendMessages would marshal each
// request into a buffer of its own and copy them all into another.
func rawWriter(rc syscall.RawConn) func(buf []byte) error {
	return func(buf []byte) error {
		var werr error
		err := rc.Write(func(fd uintptr) bool {
			_, werr = unix.Write(int(fd), buf)
			return werr != unix.EAGAIN
		})
		if err == nil {
			err = werr
		}
		if err != nil {
			return &netlink.OpError{Op: "send", Err: err}
		}
		return nil
	}
}

// putHeader fills in the netlink header (struct nlmsghdr) at the start of
// msg, a whole request; the sender's port id is left 0 for the kernel to
// fill in.
func putHeader(msg []byte, typ, flags uint16, seq uint32) {
	binary.NativeEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.NativeEndian.PutUint16(msg[4:], typ)
	binary.NativeEndian.PutUint16(msg[6:], flags)
	binary.NativeEndian.PutUint32(msg[8:], seq)
	binary.NativeEndian.PutUint32(msg[12:], 0)
}
