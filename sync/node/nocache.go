//go:build linux

package node

import (
	"context"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
)

// kernelDumpTimeout bounds the kernel dumps of a node without internal
// cache (bulk sends and `dump internal`).
const kernelDumpTimeout = time.Minute

// noInternalCache reports whether the node runs without internal cache
// (NOTRACK's DisableInternalCache): kernel events go out as they come, a
// bulk send dumps the kernel table, and `dump internal` shows it.
func (n *Node) noInternalCache() bool {
	return n.cfg.Sync.DisableInternalCache
}

// sendEvent queues a kernel event for transmission as it is, without
// internal cache: NEW as CT NEW, UPDATE as CT UPD, DESTROY as CT DEL.
func (n *Node) sendEvent(ev *event) {
	st := eventState(ev.typ)
	n.txq = append(n.txq, txItem{entry: &cache.Entry{Key: cache.KeyOf(&ev.flow), Flow: ev.flow, Meta: cache.Meta{State: st}}})
}

// eventState is the cache state whose message an event is sent as: NEW
// as NEW, UPDATE as ALIVE (UPD), DESTROY as DEAD (DEL).
func eventState(typ engine.EventType) cache.State {
	switch typ {
	case engine.EventUpdate:
		return cache.StateAlive
	case engine.EventDestroy:
		return cache.StateDead
	}
	return cache.StateNew
}

// bulkSendKernel queues the whole kernel table (what the Filter passes)
// as CT NEW messages: a bulk send without internal cache (the expect
// table is bulkSendKernelExp's). A failed dump is counted in
// Stats.DumpErrors; what was read goes out.
func (n *Node) bulkSendKernel() {
	ctx, cancel := context.WithTimeout(context.Background(), kernelDumpTimeout)
	defer cancel()
	_, err := n.kernel.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		if n.filter.pass(f) {
			n.txq = append(n.txq, txItem{entry: &cache.Entry{Key: cache.KeyOf(f), Flow: *f, Meta: cache.Meta{State: cache.StateNew}}})
		}
		return nil
	})
	if err != nil {
		n.stats.DumpErrors++
	}
}

// sendExpEvent queues an expectation event for transmission as it is,
// without internal cache.
func (n *Node) sendExpEvent(ev *expEvent) {
	st := eventState(ev.typ)
	n.txq = append(n.txq, txItem{exp: &cache.ExpectEntry{Key: cache.ExpectKeyOf(&ev.exp), Expect: ev.exp, Meta: cache.Meta{State: st}}})
}

// bulkSendKernelExp queues the kernel's expect table (what the node syncs)
// as EXP NEW messages, when expectations are synced. A failed dump is
// counted in Stats.DumpErrors.
func (n *Node) bulkSendKernelExp() {
	if !n.expectSync() {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), kernelDumpTimeout)
	defer cancel()
	_, err := n.kernel.ScanExpect(ctx, func(x *engine.Expect) error {
		if n.expWanted(x) {
			n.txq = append(n.txq, txItem{exp: &cache.ExpectEntry{Key: cache.ExpectKeyOf(x), Expect: *x, Meta: cache.Meta{State: cache.StateNew}}})
		}
		return nil
	})
	if err != nil {
		n.stats.DumpErrors++
	}
}
