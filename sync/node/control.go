//go:build linux

package node

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/link"
)

// Internal returns copies of the internal cache's live entries (not DEAD):
// `conntrackd -i`; without internal cache (DisableInternalCache), the
// kernel table.
func (n *Node) Internal(ctx context.Context) ([]cache.Entry, error) {
	if n.noInternalCache() {
		var out []cache.Entry
		err := n.DumpFlows(ctx, false, func(f *engine.Flow, _ time.Time) error {
			out = append(out, cache.Entry{Key: cache.KeyOf(f), Flow: *f, Meta: cache.Meta{State: cache.StateAlive}})
			return nil
		})
		return out, err
	}
	return copies(ctx, n, n.internal.Live)
}

// External returns copies of the external cache's live entries:
// `conntrackd -e`.
func (n *Node) External(ctx context.Context) ([]cache.Entry, error) {
	return copies(ctx, n, n.external.Live)
}

// inLoop returns what get returns when the loop runs it.
func inLoop[T any](ctx context.Context, n *Node, get func() T) (T, error) {
	var out T
	err := n.do(ctx, func() { out = get() })
	return out, err
}

// copies returns copies of the entries list returns, made in the loop.
func copies[E any](ctx context.Context, n *Node, list func() []*E) ([]E, error) {
	return inLoop(ctx, n, func() []E {
		entries := list()
		out := make([]E, len(entries))
		for i, e := range entries {
			out[i] = *e
		}
		return out
	})
}

// RequestResync asks the peer to send its whole internal cache (a RESYNC
// message): `conntrackd -n`.
//
// ALARM has no resync (its refreshes resend everything): the request is
// refused, as conntrackd refuses -n there.
func (n *Node) RequestResync(ctx context.Context) error {
	if n.alarm != nil {
		return ErrNoResync
	}
	return n.do(ctx, func() {
		n.logf(slog.LevelInfo, "asking the peer for a resync")
		n.requestResync()
	})
}

// ErrNoResync is returned by RequestResync in ALARM mode.
var ErrNoResync = errors.New("ALARM mode has no resync: its periodic refreshes resend the whole table")

// BulkSend sends the whole internal cache to the peer: `conntrackd -B`.
func (n *Node) BulkSend(ctx context.Context) error {
	return n.do(ctx, func() {
		n.logf(slog.LevelInfo, "bulk send of the internal cache")
		n.bulkSend()
	})
}

// FlushCaches empties the internal and/or external cache, flows and
// expectations: `conntrackd -f internal|external`. A flush of the
// external cache waits for a commit in progress.
func (n *Node) FlushCaches(ctx context.Context, internal, external bool) error {
	if external {
		// A commit in progress reads the external cache a chunk at a
		// time: the flush waits for it (conntrackd refuses the flush).
		n.commitMu.Lock()
		defer n.commitMu.Unlock()
	}
	return n.do(ctx, func() {
		n.logf(slog.LevelInfo, "flushing caches (internal %v, external %v)", internal, external)
		if internal {
			for e := range n.queued {
				delete(n.queued, e)
			}
			n.dropQueuedEntries()
			n.internal.Flush()
			clear(n.guard.repair)
			clear(n.guard.repairExp)
		}
		if external {
			n.external.Flush()
		}
		n.flushExpect(internal, external)
	})
}

// dropQueuedEntries removes the cache entries from the transmit queue,
// keeping its control messages.
func (n *Node) dropQueuedEntries() {
	kept := n.txq[:0]
	for _, it := range n.txq {
		if it.isCtl() {
			kept = append(kept, it)
		}
	}
	clear(n.txq[len(kept):])
	n.txq = kept
	n.filterHeld(func(it txItem) bool { return it.entry == nil })
}

// Stats returns the node's counters.
func (n *Node) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := n.do(ctx, func() {
		s = n.stats.clone()
		if n.ftfw != nil {
			s.SeqLost, s.SeqBefore = n.ftfw.lost, n.ftfw.before
			s.ResendQueue, s.ResendObjects, s.ResendDropped = n.ftfw.rs.Len(), len(n.ftfw.rsEntries)+len(n.ftfw.rsExp), n.ftfw.rsDropped
			s.SeqJumps, s.SeqReanchors, s.NACKLimited = n.ftfw.jumps, n.ftfw.reanchors, n.ftfw.nackLimited
			s.RepairPending = len(n.guard.repair) + len(n.guard.repairExp)
			s.ImplicitResends = n.ftfw.implicit
			s.HelloResent = n.ftfw.flushed
			s.Window, s.WindowGrown = n.ftfw.windowLen(), n.ftfw.grown
		}
		s.Internal = n.internal.Stats()
		s.External = n.external.Stats()
		s.InternalExpect = n.internalExp.Stats()
		s.ExternalExpect = n.externalExp.Stats()
		s.Link = n.link.Stats()
		s.TxQueue = len(n.txq) + n.heldLen()
		s.ResendQueueLimit, s.ErrorQueueLimit = n.cfg.Sync.ResendQueueSize, n.cfg.Sync.ErrorQueueLength
		if n.sub != nil {
			s.WatchBuffer = n.sub.ReadBuffer()
		}
		if n.ftfw != nil {
			s.ResendItems = n.ftfw.items()
		}
		if a, ok := n.link.(authenticated); ok {
			s.Auth = a.AuthStats()
		}
		if set, ok := n.link.(*link.Set); ok {
			s.Links = set.Links()
		} else {
			lc := &n.cfg.Sync.Links[0]
			name := lc.Interface
			if name == "" {
				name = lc.Address.String()
			}
			s.Links = []link.LinkStatus{{Name: name, Transport: lc.Transport, Interface: lc.Interface,
				Line: lc.Line, Up: true, State: link.StateRunning, Active: true, Stats: s.Link}}
		}
	})
	return s, err
}
