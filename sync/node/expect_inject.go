//go:build linux

package node

import (
	"context"
	"errors"
	"time"

	"golang.org/x/sys/unix"

	"ctq/engine"
	"ctq/sync/wire"
)

// injectExpect writes a received expectation straight into the kernel, as
// conntrackd's external_inject does with DisableExternalCache: NEW and UPD
// create it, and one the kernel has already is deleted and created again
// (the kernel changes nothing of an existing expectation but its
// timeout); DEL deletes it (a missing one is no error). Its master must be
// in the kernel, with its helper: the peer's flow messages put it there
// first. The kernel events of these writes carry the injector's port ID
// and are not advertised. Failures are counted with those of the flows
// (Stats.InjectErrors).
func (n *Node) injectExpect(typ wire.MsgType, x *engine.Expect) {
	ctx, cancel := context.WithTimeout(context.Background(), injectTimeout)
	defer cancel()
	in := n.injector
	var err error
	switch typ {
	case wire.MsgExpNew, wire.MsgExpUpdate:
		c := n.injectedExpect(x)
		if err = in.CreateExpect(ctx, &c); errors.Is(err, unix.EEXIST) {
			if err = in.DeleteExpect(ctx, &c); err == nil || errors.Is(err, engine.ErrNotFound) {
				err = in.CreateExpect(ctx, &c)
			}
		}
	case wire.MsgExpDelete:
		if err = in.DeleteExpect(ctx, x); errors.Is(err, engine.ErrNotFound) {
			err = nil
		}
	}
	n.countInject(err)
}

// injectedExpect is a received expectation as it is written into the
// kernel: with the timeout CommitTimeout or else the one received (60 s
// without one), as for flows. The kernel gives the expectation of a
// master with a helper the helper's timeout anyway.
func (n *Node) injectedExpect(x *engine.Expect) engine.Expect {
	c := *x
	switch {
	case n.cfg.Sync.CommitTimeout > 0:
		c.Timeout = int(n.cfg.Sync.CommitTimeout / time.Second)
	case c.Has&engine.HasExpTimeout == 0 || c.Timeout <= 0:
		c.Timeout = 60
	}
	c.Has |= engine.HasExpTimeout
	return c
}
