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

// injectTimeout bounds one kernel write of a received entry.
const injectTimeout = 5 * time.Second

// inject writes a received entry straight into the kernel, as conntrackd
// does with DisableExternalCache: NEW creates (an entry that exists is
// deleted and created again), UPD updates the timeout, mark, status bits
// and labels (a missing entry is created; another failure deletes and
// creates), DEL deletes (a missing entry is no error). The kernel events
// of these writes carry the injector's port ID and are not advertised.
// What the kernel refuses is counted in Stats.InjectErrors.
func (n *Node) inject(typ wire.MsgType, f *engine.Flow) {
	ctx, cancel := context.WithTimeout(context.Background(), injectTimeout)
	defer cancel()
	in := n.injector
	var err error
	switch typ {
	case wire.MsgCTNew:
		c := n.injected(f)
		if err = in.Create(ctx, &c); errors.Is(err, unix.EEXIST) {
			err = n.recreate(ctx, &c)
		}
	case wire.MsgCTUpdate:
		c := n.injected(f)
		ch := engine.Change{SetTimeout: true, Timeout: uint32(c.Timeout),
			SetStatus: c.Status & (engine.StatusSeenReply | engine.StatusAssured),
			AddLabels: c.Labels}
		if c.Has&engine.HasMark != 0 {
			ch.SetMark, ch.Mark = true, uint32(c.Mark)
		}
		err = in.Update(ctx, &c, ch)
		switch {
		case errors.Is(err, unix.ENOENT):
			err = in.Create(ctx, &c)
		case err != nil:
			err = n.recreate(ctx, &c)
		}
	case wire.MsgCTDelete:
		if err = in.Delete(ctx, f); errors.Is(err, unix.ENOENT) {
			err = nil
		}
	}
	n.countInject(err)
}

// countInject counts one write of a received entry or expectation into
// the kernel, err its failure.
func (n *Node) countInject(err error) {
	if err != nil {
		n.stats.InjectErrors++
		n.stats.LastInjectError = err.Error()
		return
	}
	n.stats.Injected++
}

// recreate deletes the kernel's entry of f's key and creates f.
func (n *Node) recreate(ctx context.Context, f *engine.Flow) error {
	if err := n.injector.Delete(ctx, f); err != nil && !errors.Is(err, unix.ENOENT) {
		return err
	}
	return n.injector.Create(ctx, f)
}

// injected is a received flow as it is written into the kernel: without
// IPS_EXPECTED, with the timeout CommitTimeout or else the one received
// (60 s without one).
func (n *Node) injected(f *engine.Flow) engine.Flow {
	c := *f
	c.SetStatus(c.Status &^ engine.StatusExpected)
	switch {
	case n.cfg.Sync.CommitTimeout > 0:
		c.Timeout = int(n.cfg.Sync.CommitTimeout / time.Second)
	case c.Has&engine.HasTimeout == 0 || c.Timeout <= 0:
		c.Timeout = 60
	}
	c.Has |= engine.HasTimeout
	return c
}
