package node

import (
	"context"
	"fmt"
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
	st := cache.StateNew
	switch ev.typ {
	case engine.EventUpdate:
		st = cache.StateAlive
	case engine.EventDestroy:
		st = cache.StateDead
	}
	n.txq = append(n.txq, txItem{entry: &cache.Entry{Key: cache.KeyOf(&ev.flow), Flow: ev.flow, Meta: cache.Meta{State: st}}})
}

// bulkSendKernel queues the whole kernel table (what the Filter passes)
// as CT NEW messages, and the expect table with ExpectationSync: a bulk
// send without internal cache. A failed dump
// is counted in Stats.DumpErrors; what was read goes out.
func (n *Node) bulkSendKernel() {
	ctx, cancel := context.WithTimeout(context.Background(), kernelDumpTimeout)
	defer cancel()
	_, err := n.live.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		if n.filter.pass(f) {
			n.txq = append(n.txq, txItem{entry: &cache.Entry{Key: cache.KeyOf(f), Flow: *f, Meta: cache.Meta{State: cache.StateNew}}})
		}
		return nil
	})
	if err != nil {
		n.stats.DumpErrors++
	}
	n.bulkSendKernelExp()
}

// kernelEntries returns the kernel table (what the Filter passes) as
// cache entries: `dump internal` without internal cache.
func (n *Node) kernelEntries(ctx context.Context) ([]cache.Entry, error) {
	var out []cache.Entry
	_, err := n.live.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		if n.filter.pass(f) {
			out = append(out, cache.Entry{Key: cache.KeyOf(f), Flow: *f, Meta: cache.Meta{State: cache.StateAlive}})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dump the kernel table: %w", err)
	}
	return out, nil
}

// sendExpEvent queues an expectation event for transmission as it is,
// without internal cache.
func (n *Node) sendExpEvent(ev *expEvent) {
	st := cache.StateNew
	switch ev.typ {
	case engine.EventUpdate:
		st = cache.StateAlive
	case engine.EventDestroy:
		st = cache.StateDead
	}
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
	_, err := n.live.ScanExpect(ctx, func(x *engine.Expect) error {
		if n.expWanted(x) {
			n.txq = append(n.txq, txItem{exp: &cache.ExpectEntry{Key: cache.ExpectKeyOf(x), Expect: *x, Meta: cache.Meta{State: cache.StateNew}}})
		}
		return nil
	})
	if err != nil {
		n.stats.DumpErrors++
	}
}
