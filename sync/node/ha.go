//go:build linux

package node

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"ctq/engine"
)

// The commands of a failover script (conntrackd's primary-backup.sh): a
// node becoming primary commits, flushes its caches, refreshes its
// internal cache from the kernel and bulk-sends it (conntrackd -c, -f, -R,
// -B); a node becoming backup schedules a purge and asks its peer for a
// resync (-t, -n).

// purgeTimeout bounds the kernel writes of a purge.
const purgeTimeout = 5 * time.Minute

// Refresh reads the kernel table into the internal cache again, sending
// nothing; entries the kernel no longer has leave the cache silently:
// `conntrackd -R`. With ExpectationSync, the expect table too; tables
// limits it to one of them (-R ct, -R expect).
func (n *Node) Refresh(ctx context.Context, tables Tables) error {
	var err error
	if derr := n.do(ctx, func() {
		n.stats.KernelResyncs++
		if tables.flows() {
			err = n.dump(ctx, false, false)
		}
		if err == nil && tables.expects() {
			err = n.dumpExpect(ctx, false, false)
		}
	}); derr != nil {
		return derr
	}
	return err
}

// FlushKernel empties the kernel table of the entries the Filter passes
// (all of them without a Filter), and the internal cache first, so that
// the ends are not advertised: `conntrackd -F`. It reports how many
// entries it deleted (-1 when the kernel flushed the table in one
// request). With ExpectationSync, the synced expectations go first.
// tables limits the flush to one table (-F ct, -F expect); for the expect
// table alone it reports how many expectations it deleted, as
// flushKernelExpect does.
func (n *Node) FlushKernel(ctx context.Context, tables Tables) (int, error) {
	if err := n.do(ctx, func() { n.stats.KernelFlushes++ }); err != nil {
		return 0, err
	}
	if tables.expects() && n.expectSync() {
		deleted, err := n.flushKernelExpect(ctx)
		if err != nil || !tables.flows() {
			return deleted, err
		}
	}
	if !tables.flows() {
		return 0, nil
	}
	if err := n.FlushCaches(ctx, true, false); err != nil {
		return 0, err
	}
	if n.filter == nil {
		if err := n.kernel.Flush(ctx, engine.TableConntrack, engine.FamilyUnspec); err != nil {
			return 0, fmt.Errorf("flush the kernel table: %w", err)
		}
		return -1, nil
	}
	var doomed []engine.Flow
	if _, err := n.kernel.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		if n.filter.pass(f) {
			doomed = append(doomed, *f)
		}
		return nil
	}); err != nil {
		return 0, fmt.Errorf("flush the kernel table: %w", err)
	}
	st, err := n.batch(ctx, doomed, engine.Batch.Delete)
	if err != nil {
		return st.Done, fmt.Errorf("flush the kernel table: %w", err)
	}
	if st.Failed > 0 {
		return st.Done, fmt.Errorf("flush the kernel table: %d of %d deletes failed: %v", st.Failed, len(doomed), st.Errors[0])
	}
	return st.Done, nil
}

// Purge schedules FlushKernel after PurgeTimeout; a commit cancels it:
// `conntrackd -t`. A purge already pending stands (as conntrackd keeps
// its alarm): a second -t does not put it off. Errors of the flush are
// counted in Stats.PurgeErrors.
func (n *Node) Purge(ctx context.Context) error {
	return n.do(ctx, func() {
		if n.purge != nil {
			n.logf(slog.LevelInfo, "purge of the kernel table already scheduled")
			return
		}
		n.logf(slog.LevelInfo, "purge of the kernel table scheduled in %s", n.cfg.Sync.PurgeTimeout)
		var t Timer
		t = n.clock.AfterFunc(n.cfg.Sync.PurgeTimeout, func() {
			pctx, cancel := context.WithTimeout(context.Background(), purgeTimeout)
			defer cancel()
			// A commit may have cancelled the purge as its timer fired.
			due := false
			if err := n.do(pctx, func() {
				if due = n.purge == t; due {
					n.purge = nil
				}
			}); err != nil || !due {
				return
			}
			deleted, err := n.FlushKernel(pctx, AllTables)
			if err != nil {
				n.logf(slog.LevelWarn, "purge: %v", err)
			} else {
				n.logf(slog.LevelInfo, "purge: %s", FlushedText(deleted, AllTables))
			}
			_ = n.do(pctx, func() {
				n.stats.Purges++
				if err != nil {
					n.stats.PurgeErrors++
				}
			})
		})
		n.purge = t
	})
}

// cancelPurge stops a scheduled purge; it runs in the loop.
func (n *Node) cancelPurge() {
	if n.purge != nil {
		n.purge.Stop()
		n.purge = nil
	}
}

// FlushedText describes what FlushKernel reported for tables: n entries
// deleted, or (-1) the whole table flushed in one request.
func FlushedText(n int, tables Tables) string {
	table := "kernel table"
	if tables == ExpectTable {
		table = "kernel expect table"
	}
	if n < 0 {
		return table + " flushed"
	}
	return fmt.Sprintf("%d entries deleted from the %s", n, table)
}
