//go:build linux

package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"

	"ctq/engine"
	"ctq/sync/cache"
)

// commitExpect creates the expectations of entries in the kernel, after
// the flows (their masters must exist), as conntrackd's cache-exp commit
// does: each with the timeout CommitTimeout, or else the received timeout
// less the time since it was received (60 s when that is not positive);
// one the kernel has already (EEXIST) is deleted and created once more.
// The expectation watch is out of the NEW and DESTROY groups meanwhile, so
// that the commit's own changes are not advertised back; the re-read of
// the tables after the commit puts them into the internal cache.
func (n *Node) commitExpect(ctx context.Context, entries []*cache.ExpectEntry, now time.Time, res *CommitResult) error {
	if len(entries) == 0 {
		return nil
	}
	var exps []engine.Expect
	if err := n.do(ctx, func() {
		for _, e := range entries {
			if e.InCache() && !e.Dead() {
				exps = append(exps, n.committedExpect(e, now))
			}
		}
	}); err != nil {
		return err
	}
	const quiet = engine.EventNew | engine.EventDestroy
	join := func() error { return nil }
	if n.expSub != nil {
		if err := n.expSub.Leave(quiet); err != nil {
			return fmt.Errorf("commit: expectation events: %w", err)
		}
		join = func() error {
			if err := n.expSub.Join(quiet); err != nil {
				return fmt.Errorf("commit: expectation events: %w", err)
			}
			return nil
		}
	}
	for i := range exps {
		replaced, err := n.createExpect(ctx, &exps[i])
		if replaced {
			res.ExpectReplaced++
		}
		switch {
		case err == nil:
			res.ExpectCreated++
		case ctx.Err() != nil:
			return errors.Join(fmt.Errorf("commit: create expectations: %w", ctx.Err()), join())
		default:
			res.ExpectFailed++
			res.addErrors([]error{err})
		}
	}
	return join()
}

// createExpect creates x; when the kernel has it already, it deletes it
// and creates it once more, reporting that it replaced one.
func (n *Node) createExpect(ctx context.Context, x *engine.Expect) (bool, error) {
	err := n.kernel.CreateExpect(ctx, x)
	if !errors.Is(err, unix.EEXIST) {
		return false, err
	}
	if err := n.kernel.DeleteExpect(ctx, x); err != nil && !errors.Is(err, engine.ErrNotFound) {
		return false, err
	}
	return true, n.kernel.CreateExpect(ctx, x)
}

// committedExpect is the entry's expectation as a commit creates it.
func (n *Node) committedExpect(e *cache.ExpectEntry, now time.Time) engine.Expect {
	x := e.Expect
	x.Timeout = e.CommitTimeout(now, n.cfg.Sync.CommitTimeout)
	x.Has |= engine.HasExpTimeout
	x.Has &^= engine.HasExpID
	return x
}
