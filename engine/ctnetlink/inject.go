//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"ctq/engine"
)

// Injector applies single changes to the conntrack table right away, each
// answered by the kernel before the call returns, on a netlink socket of
// its own. Its port ID marks the kernel events its changes cause
// (Event.PortID), so that the caller can tell them apart. A sync node that
// writes what its peer sends straight into the kernel (conntrackd's
// DisableExternalCache) uses one; it writes expectations too (their
// events carry its port ID as well). An Injector is used by one goroutine.
type Injector struct {
	l   *Live
	c   *netlink.Conn
	pid uint32
	buf []byte
}

// OpenInjector opens an Injector on the source's namespace.
func (l *Live) OpenInjector() (*Injector, error) {
	c, err := l.dial()
	if err != nil {
		return nil, fmt.Errorf("open injector: %w", err)
	}
	if err := c.SetOption(netlink.CapAcknowledge, true); err != nil {
		l.release(c)
		return nil, kernelError("open injector: cap acknowledgements", err)
	}
	return &Injector{l: l, c: c, pid: c.PID()}, nil
}

// PortID is the netlink port ID of the Injector's socket.
func (i *Injector) PortID() uint32 {
	return i.pid
}

// Create creates f (see encodeCreate); an entry with its tuple fails with
// an error matching unix.EEXIST.
func (i *Injector) Create(ctx context.Context, f *engine.Flow) error {
	return i.do(ctx, opCreate, ipctnlMsgCtNew, netlink.Create|netlink.Excl, f,
		func(e *attrEncoder) error { return encodeCreate(e, f) })
}

// Update applies c to the entry f (see encodeUpdate); a missing entry
// fails with an error matching unix.ENOENT.
func (i *Injector) Update(ctx context.Context, f *engine.Flow, c engine.Change) error {
	return i.do(ctx, opUpdate, ipctnlMsgCtNew, 0, f,
		func(e *attrEncoder) error { return encodeUpdate(e, f, &c) })
}

// Delete deletes the entry f (see encodeDelete); a missing entry fails
// with an error matching unix.ENOENT.
func (i *Injector) Delete(ctx context.Context, f *engine.Flow) error {
	return i.do(ctx, opDelete, ipctnlMsgCtDelete, 0, f,
		func(e *attrEncoder) error { return encodeDelete(e, f) })
}

// do encodes one request, sends it and waits for its answer.
func (i *Injector) do(ctx context.Context, op batchOp, msgType int, flags netlink.HeaderFlags, f *engine.Flow, encode func(*attrEncoder) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %v: %w", op, keyOf(f), err)
	}
	e := attrEncoder{b: i.buf[:0]}
	if err := encode(&e); err != nil {
		i.buf = e.b
		return fmt.Errorf("%s %v: %w", op, keyOf(f), unencodable{err})
	}
	i.buf = e.b
	kernel, err := i.exchange(ctx, ctMessage(msgType, flags|netlink.Acknowledge, e.b))
	if kernel {
		return &entryError{op: op, key: keyOf(f), err: err}
	}
	if err != nil {
		return fmt.Errorf("%s %v: %w", op, keyOf(f), err)
	}
	return nil
}

// exchange sends req and waits for its answer. kernel reports that err
// is the kernel's answer (else it is the context's end or errClosed).
func (i *Injector) exchange(ctx context.Context, req netlink.Message) (kernel bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	stop := context.AfterFunc(ctx, func() { _ = i.c.SetDeadline(time.Unix(1, 0)) })
	_, err = exchange(i.c, req)
	if !stop() {
		// Interrupted: the next request starts without the deadline.
		_ = i.c.SetDeadline(time.Time{})
		return false, context.Cause(ctx)
	}
	if err != nil && i.l.closed.Load() {
		return false, errClosed
	}
	return err != nil, err
}

// CreateExpect creates the expectation e (IPCTNL_MSG_EXP_NEW with
// NLM_F_CREATE|NLM_F_EXCL, see encodeExpectCreate), with the same errors
// as Live.CreateExpect: one with its expected tuple fails with an error
// matching unix.EEXIST, a missing master with unix.ENOENT. The kernel has
// no update of an expectation beyond its timeout; to change one, delete
// it and create it again.
func (i *Injector) CreateExpect(ctx context.Context, e *engine.Expect) error {
	op := "create expectation " + expectName(e)
	data, err := encodeExpectCreate(e)
	if err != nil {
		return fmt.Errorf("%s: %w", op, unencodable{err})
	}
	kernel, err := i.exchange(ctx, expMessage(ipctnlMsgExpNew, netlink.Create|netlink.Excl|netlink.Acknowledge, data))
	if kernel {
		return expectCreateError(op, kernelError(op, err))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// DeleteExpect deletes the expectation with e's expected tuple and zone
// (and ID when e.Has&HasExpID), as Live.DeleteExpect does: a missing one
// fails with an error matching ErrNotFound.
func (i *Injector) DeleteExpect(ctx context.Context, e *engine.Expect) error {
	op := "delete expectation " + expectName(e)
	data, err := encodeExpectDelete(e)
	if err != nil {
		return fmt.Errorf("%s: %w", op, unencodable{err})
	}
	kernel, err := i.exchange(ctx, expMessage(ipctnlMsgExpDelete, netlink.Acknowledge, data))
	switch {
	case kernel && errors.Is(err, unix.ENOENT):
		return fmt.Errorf("%s: %w", op, engine.ErrNotFound)
	case kernel:
		return kernelError(op, err)
	case err != nil:
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// Close releases the socket.
func (i *Injector) Close() error {
	i.l.release(i.c)
	return nil
}
