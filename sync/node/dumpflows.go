//go:build linux

package node

import (
	"context"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
)

// dumpChunk is how many entries DumpFlows copies out of the loop at a
// time.
const dumpChunk = 1024

// DumpFlows calls yield with a copy of the flow of each live entry of the
// internal cache, or of the external one, and when the entry was created:
// `conntrackd -i` and `-e`. The
// entries are taken from the loop a chunk at a time, so the memory used
// does not grow with the cache beyond a pointer per entry; an entry that
// changes meanwhile is shown as it is when its chunk is copied, and one
// that leaves the cache as it was last. Without internal cache
// (DisableInternalCache), internal is the kernel table, streamed.
func (n *Node) DumpFlows(ctx context.Context, external bool, yield func(f *engine.Flow, created time.Time) error) error {
	if !external && n.noInternalCache() {
		if err := n.running(ctx); err != nil {
			return err
		}
		_, err := n.kernel.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
			if !n.filter.pass(f) {
				return nil
			}
			return yield(f, f.Start)
		})
		return err
	}
	var entries []*cache.Entry
	if err := n.do(ctx, func() {
		c := n.internal
		if external {
			c = n.external
		}
		entries = c.Live()
	}); err != nil {
		return err
	}
	buf := make([]engine.Flow, 0, dumpChunk)
	created := make([]time.Time, 0, dumpChunk)
	for lo := 0; lo < len(entries); lo += dumpChunk {
		chunk := entries[lo:min(lo+dumpChunk, len(entries))]
		buf, created = buf[:0], created[:0]
		if err := n.do(ctx, func() {
			for _, e := range chunk {
				buf = append(buf, e.Flow)
				created = append(created, e.Created)
			}
		}); err != nil {
			return err
		}
		for i := range buf {
			if err := yield(&buf[i], created[i]); err != nil {
				return err
			}
		}
	}
	return nil
}
