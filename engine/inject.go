package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/mdlayher/netlink"
)

// Injector applies single changes to the conntrack table right away, each
// answered by the kernel before the call returns, on a netlink socket of
// its own. Its port ID marks the kernel events its changes cause
// (Event.PortID), so that the caller can tell them apart. A sync node that
// writes what its peer sends straight into the kernel (conntrackd's
// DisableExternalCache) uses one. An Injector is used by one goroutine.
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
func (i *Injector) Create(ctx context.Context, f *Flow) error {
	return i.do(ctx, opCreate, ipctnlMsgCtNew, netlink.Create|netlink.Excl, f,
		func(e *attrEncoder) error { return encodeCreate(e, f) })
}

// Update applies c to the entry f (see encodeUpdate); a missing entry
// fails with an error matching unix.ENOENT.
func (i *Injector) Update(ctx context.Context, f *Flow, c Change) error {
	return i.do(ctx, opUpdate, ipctnlMsgCtNew, 0, f,
		func(e *attrEncoder) error { return encodeUpdate(e, f, &c) })
}

// Delete deletes the entry f (see encodeDelete); a missing entry fails
// with an error matching unix.ENOENT.
func (i *Injector) Delete(ctx context.Context, f *Flow) error {
	return i.do(ctx, opDelete, ipctnlMsgCtDelete, 0, f,
		func(e *attrEncoder) error { return encodeDelete(e, f) })
}

// do encodes one request, sends it and waits for its answer.
func (i *Injector) do(ctx context.Context, op batchOp, msgType int, flags netlink.HeaderFlags, f *Flow, encode func(*attrEncoder) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s %v: %w", op, keyOf(f), err)
	}
	e := attrEncoder{b: i.buf[:0]}
	if err := encode(&e); err != nil {
		i.buf = e.b
		return fmt.Errorf("%s %v: %w", op, keyOf(f), unencodable{err})
	}
	i.buf = e.b
	stop := context.AfterFunc(ctx, func() { _ = i.c.SetDeadline(time.Unix(1, 0)) })
	_, err := exchange(i.c, ctMessage(msgType, flags|netlink.Acknowledge, e.b))
	if !stop() {
		// Interrupted: the next request starts without the deadline.
		_ = i.c.SetDeadline(time.Time{})
		return fmt.Errorf("%s %v: %w", op, keyOf(f), context.Cause(ctx))
	}
	if err != nil {
		if i.l.closed.Load() {
			return fmt.Errorf("%s %v: %w", op, keyOf(f), errClosed)
		}
		return &entryError{op: op, key: keyOf(f), err: err}
	}
	return nil
}

// Close releases the socket.
func (i *Injector) Close() error {
	i.l.release(i.c)
	return nil
}
