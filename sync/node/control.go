package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/link"
	"ctq/sync/wire"
)

// Internal returns copies of the internal cache's live entries (not DEAD):
// `conntrackd -i`.
func (n *Node) Internal(ctx context.Context) ([]cache.Entry, error) {
	return n.entries(ctx, func() *cache.Cache { return n.internal })
}

// External returns copies of the external cache's live entries:
// `conntrackd -e`.
func (n *Node) External(ctx context.Context) ([]cache.Entry, error) {
	return n.entries(ctx, func() *cache.Cache { return n.external })
}

// entries copies the live entries of a cache in the loop.
func (n *Node) entries(ctx context.Context, which func() *cache.Cache) ([]cache.Entry, error) {
	var out []cache.Entry
	err := n.do(ctx, func() {
		c := which()
		out = make([]cache.Entry, 0, c.Len())
		c.Range(func(e *cache.Entry) bool {
			if e.State != cache.StateDead {
				out = append(out, *e)
			}
			return true
		})
	})
	return out, err
}

// RequestResync asks the peer to send its whole internal cache (a RESYNC
// message): `conntrackd -n`.
func (n *Node) RequestResync(ctx context.Context) error {
	return n.do(ctx, func() { n.txq = append(n.txq, txItem{ctl: wire.NET_F_RESYNC}) })
}

// BulkSend sends the whole internal cache to the peer: `conntrackd -B`.
func (n *Node) BulkSend(ctx context.Context) error {
	return n.do(ctx, n.bulkSend)
}

// FlushCaches empties the internal and/or external cache:
// `conntrackd -f internal|external`.
func (n *Node) FlushCaches(ctx context.Context, internal, external bool) error {
	return n.do(ctx, func() {
		if internal {
			for e := range n.queued {
				delete(n.queued, e)
			}
			n.dropQueuedEntries()
			n.internal.Flush()
		}
		if external {
			n.external.Flush()
		}
	})
}

// dropQueuedEntries removes the cache entries from the transmit queue,
// keeping its control messages.
func (n *Node) dropQueuedEntries() {
	kept := n.txq[:0]
	for _, it := range n.txq {
		if it.entry == nil {
			kept = append(kept, it)
		}
	}
	clear(n.txq[len(kept):])
	n.txq = kept
}

// Stats returns the node's counters.
func (n *Node) Stats(ctx context.Context) (Stats, error) {
	var s Stats
	err := n.do(ctx, func() {
		s = n.stats.clone()
		if n.ftfw != nil {
			s.SeqLost, s.SeqBefore = n.ftfw.lost, n.ftfw.before
			s.ResendQueue, s.ResendObjects, s.ResendDropped = n.ftfw.rs.Len(), len(n.ftfw.rsEntries), n.ftfw.rsDropped
		}
		s.Internal = n.internal.Stats()
		s.External = n.external.Stats()
		s.Link = n.link.Stats()
		if a, ok := n.link.(*link.Auth); ok {
			s.Auth = a.AuthStats()
		}
	})
	return s, err
}

// CommitResult reports a commit.
type CommitResult struct {
	// Entries is the number of external-cache entries committed.
	Entries int
	// Replaced counts kernel entries of the same keys that were removed
	// first; Created the entries made; Failed those the kernel refused,
	// with the first few errors in Errors.
	Replaced, Created, Failed int
	Errors                    []error
	// Duration is how long the kernel writes took.
	Duration time.Duration
}

// Commit writes the external cache into the kernel table, as
// `conntrackd -c` does: each entry without IPS_EXPECTED, with the reply
// tuple rebuilt from the original one and the NAT attributes, a TCP entry
// with window tracking relaxed (be liberal), and the timeout CommitTimeout
// or else the received timeout less the time since the entry was received
// (60 s when that is not positive). An entry the kernel already has is
// replaced (conntrackd deletes and creates again on EEXIST; Commit deletes
// the keys first, in one batch, then creates, in another). The external
// cache is not emptied. The kernel events of the commit enter the internal
// cache without being advertised.
func (n *Node) Commit(ctx context.Context) (CommitResult, error) {
	var flows []engine.Flow
	err := n.do(ctx, func() {
		now := n.now()
		for k, until := range n.own {
			if now.After(until) {
				delete(n.own, k)
			}
		}
		flows = make([]engine.Flow, 0, n.external.Len())
		n.external.Range(func(e *cache.Entry) bool {
			if e.State == cache.StateDead {
				return true
			}
			f := e.Flow
			f.SetStatus(f.Status &^ engine.IPS_EXPECTED)
			f.Timeout = e.CommitTimeout(now, n.cfg.Sync.CommitTimeout)
			f.Has |= engine.HasTimeout
			flows = append(flows, f)
			n.own[e.Key] = now.Add(ownWindow)
			return true
		})
	})
	res := CommitResult{Entries: len(flows)}
	if err != nil || len(flows) == 0 {
		return res, err
	}
	start := time.Now()
	// Entries the kernel already holds are replaced: found with one dump
	// (a backup's table is usually small) and deleted first, so the
	// creates do not fail and no delete is sent for an entry that is not
	// there (an error answer each).
	existing, err := n.existing(ctx, flows)
	if err != nil {
		return res, fmt.Errorf("commit: read the kernel table: %w", err)
	}
	if len(existing) > 0 {
		del, err := n.batch(ctx, existing, engine.Batch.Delete)
		if err != nil {
			return res, fmt.Errorf("commit: remove existing entries: %w", err)
		}
		res.Replaced = del.Done
	}
	cre, err := n.parallelBatch(ctx, flows, engine.Batch.Create)
	if err != nil {
		return res, fmt.Errorf("commit: create entries: %w", err)
	}
	res.Created, res.Failed, res.Errors = cre.Done, cre.Failed+cre.Unknown, cre.Errors
	res.Duration = time.Since(start)
	return res, nil
}

// existing returns the kernel's entries that have the key of one of flows.
func (n *Node) existing(ctx context.Context, flows []engine.Flow) ([]engine.Flow, error) {
	want := make(map[cache.Key]struct{}, len(flows))
	for i := range flows {
		want[cache.KeyOf(&flows[i])] = struct{}{}
	}
	var out []engine.Flow
	_, err := n.live.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		if _, ok := want[cache.KeyOf(f)]; ok {
			out = append(out, *f)
		}
		return nil
	})
	return out, err
}

// commitWorkers is how many batches a commit runs at once: the kernel
// inserts on the CPU of the sending thread, so two sockets use two CPUs.
const commitWorkers = 2

// parallelBatch runs op on every flow, the flows split between
// commitWorkers batches that run at the same time.
func (n *Node) parallelBatch(ctx context.Context, flows []engine.Flow, op func(engine.Batch, *engine.Flow) error) (engine.BatchStats, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total engine.BatchStats
		first error
	)
	per := (len(flows) + commitWorkers - 1) / commitWorkers
	for lo := 0; lo < len(flows); lo += per {
		part := flows[lo:min(lo+per, len(flows))]
		wg.Go(func() {
			st, err := n.batch(ctx, part, op)
			mu.Lock()
			defer mu.Unlock()
			total.Done += st.Done
			total.Gone += st.Gone
			total.Failed += st.Failed
			total.Unknown += st.Unknown
			total.Errors = append(total.Errors, st.Errors...)
			if err != nil && first == nil {
				first = err
			}
		})
	}
	wg.Wait()
	return total, first
}

// batch runs op on every flow in one kernel batch.
func (n *Node) batch(ctx context.Context, flows []engine.Flow, op func(engine.Batch, *engine.Flow) error) (engine.BatchStats, error) {
	b, err := n.live.NewBatch(ctx)
	if err != nil {
		return engine.BatchStats{}, err
	}
	for i := range flows {
		if err := op(b, &flows[i]); err != nil {
			b.Close()
			return engine.BatchStats{}, err
		}
	}
	return b.Close()
}
