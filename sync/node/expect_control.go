//go:build linux

package node

import (
	"context"
	"errors"
	"fmt"

	"ctq/engine"
	"ctq/sync/cache"
)

// InternalExpect returns copies of the internal expectation cache's live
// entries (not DEAD): `conntrackd -i expect`. It is empty without
// ExpectationSync.
func (n *Node) InternalExpect(ctx context.Context) ([]cache.ExpectEntry, error) {
	if n.noInternalCache() && n.expectSync() {
		if err := n.running(ctx); err != nil {
			return nil, err
		}
		var out []cache.ExpectEntry
		if _, err := n.kernel.ScanExpect(ctx, func(x *engine.Expect) error {
			if n.expWanted(x) {
				out = append(out, cache.ExpectEntry{Key: cache.ExpectKeyOf(x), Expect: *x, Meta: cache.Meta{State: cache.StateAlive}})
			}
			return nil
		}); err != nil {
			return nil, fmt.Errorf("dump the kernel expect table: %w", err)
		}
		return out, nil
	}
	return copies(ctx, n, n.internalExp.Live)
}

// ExternalExpect returns copies of the external expectation cache's live
// entries: `conntrackd -e expect`.
func (n *Node) ExternalExpect(ctx context.Context) ([]cache.ExpectEntry, error) {
	return copies(ctx, n, n.externalExp.Live)
}

// flushExpect empties the internal and/or external expectation cache
// (part of FlushCaches), dropping the internal entries waiting in the
// transmit queue.
func (n *Node) flushExpect(internal, external bool) {
	if internal {
		kept := n.txq[:0]
		for _, it := range n.txq {
			if it.exp == nil {
				kept = append(kept, it)
			}
		}
		clear(n.txq[len(kept):])
		n.txq = kept
		n.filterHeld(func(it txItem) bool { return it.exp == nil })
		clear(n.queuedExp)
		n.internalExp.Flush()
	}
	if external {
		n.externalExp.Flush()
	}
}

// flushKernelExpect empties the internal expectation cache, then deletes
// the kernel's expectations, so that their ends are not advertised:
// `conntrackd -F expect`. With a helper list or a Filter only the
// expectations the node syncs are deleted (one by one); otherwise the
// table is flushed in one request and -1 is reported. It reports how many
// expectations it deleted.
func (n *Node) flushKernelExpect(ctx context.Context) (int, error) {
	if err := n.do(ctx, func() { n.flushExpect(true, false) }); err != nil {
		return 0, err
	}
	if len(n.cfg.Sync.ExpectationHelpers) == 0 && n.filter == nil {
		if err := n.kernel.Flush(ctx, engine.TableExpect, engine.FamilyUnspec); err != nil {
			return 0, fmt.Errorf("flush the kernel expect table: %w", err)
		}
		return -1, nil
	}
	var doomed []engine.Expect
	if _, err := n.kernel.ScanExpect(ctx, func(x *engine.Expect) error {
		if n.expWanted(x) {
			doomed = append(doomed, *x)
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("flush the kernel expect table: %w", err)
	}
	done := 0
	for i := range doomed {
		err := n.kernel.DeleteExpect(ctx, &doomed[i])
		switch {
		case err == nil:
			done++
		case !errors.Is(err, engine.ErrNotFound):
			return done, fmt.Errorf("flush the kernel expect table: %w", err)
		}
	}
	return done, nil
}
