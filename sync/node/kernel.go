package node

import (
	"context"
	"fmt"

	"ctq/engine"
	"ctq/sync/cache"
)

// kernelEvent applies one kernel event to the internal cache and queues
// what is to be advertised, as conntrackd's internal cache does: NEW
// replaces, UPDATE updates (or adds), DESTROY marks DEAD. Events caused by
// this node's own commit enter the cache but are not advertised.
func (n *Node) kernelEvent(ev *event) {
	own := n.isOwn(ev)
	switch ev.typ {
	case engine.EventNew:
		if e, err := n.internal.Replace(&ev.flow); err == nil && !own {
			n.enqueue(e)
		}
	case engine.EventUpdate:
		if e, err := n.internal.Update(&ev.flow); err == nil && !own {
			n.enqueue(e)
		}
	case engine.EventDestroy:
		e := n.internal.Kill(&ev.flow)
		switch {
		case e == nil:
		case own:
			if !n.queued[e] {
				n.internal.Release(e)
			}
		default:
			n.enqueue(e)
		}
	}
}

// isOwn reports whether a kernel event was caused by this node's commit: it
// comes from a netlink socket (a port ID) and is for a key committed
// within ownWindow. The NEW event of the key ends its claim.
func (n *Node) isOwn(ev *event) bool {
	if ev.portID == 0 || len(n.own) == 0 {
		return false
	}
	k := cache.KeyOf(&ev.flow)
	until, ok := n.own[k]
	if !ok {
		return false
	}
	if n.now().After(until) {
		delete(n.own, k)
		return false
	}
	if ev.typ == engine.EventNew {
		delete(n.own, k)
	}
	return true
}

// dump loads the kernel table into the internal cache. With advertise (a
// resync after an event overrun) changed entries are queued, and entries
// the kernel no longer has are marked DEAD and queued, as conntrackd's
// resync and purge do; without it (start-up) nothing is sent.
func (n *Node) dump(ctx context.Context, advertise bool) error {
	seen := make(map[*cache.Entry]bool)
	_, err := n.live.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		e, err := n.internal.Update(f)
		if err != nil {
			return nil
		}
		seen[e] = true
		if advertise {
			n.enqueue(e)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync node: dump kernel table: %w", err)
	}
	if !advertise {
		return nil
	}
	var gone []*cache.Entry
	n.internal.Range(func(e *cache.Entry) bool {
		if !seen[e] && e.State != cache.StateDead {
			gone = append(gone, e)
		}
		return true
	})
	for _, e := range gone {
		f := e.Flow
		if d := n.internal.Kill(&f); d != nil {
			n.enqueue(d)
		}
	}
	return nil
}
