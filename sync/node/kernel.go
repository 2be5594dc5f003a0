//go:build linux

package node

import (
	"context"
	"fmt"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/sync/cache"
)

// Kernel is the conntrack table a Node mirrors and commits into: a
// *ctnetlink.Live, or an in-memory table in tests. The node scans the
// flows and the expectations, watches their events, flushes, writes
// batches, and creates and deletes expectations; it calls neither Get,
// Close nor FlushFilter, which come with the engine's interfaces (the
// caller closes the Kernel after Run).
//
// With DisableExternalCache the Kernel must also open injectors: an
// InjectorOpener, or *ctnetlink.Live's OpenInjector.
type Kernel interface {
	engine.Source
	engine.EventSource
	engine.ExpectSource
	engine.Mutator
	// OpenBatch opens a batch as NewBatch does, with cfg's report of
	// failed requests (a commit replaces the entries the kernel had
	// already).
	OpenBatch(ctx context.Context, cfg ctnetlink.BatchConfig) (engine.Batch, error)
}

var _ Kernel = (*ctnetlink.Live)(nil)

// Injector writes what the peer sends straight into the kernel
// (DisableExternalCache), one acknowledged request at a time, from a
// socket of its own whose events the node recognises by PortID and does
// not advertise. *ctnetlink.Injector is one. Errors carry the kernel's
// errno (unix.EEXIST, unix.ENOENT) and engine.ErrNotFound as
// ctnetlink's do.
type Injector interface {
	// PortID is the netlink port ID the kernel's events of the
	// Injector's writes carry.
	PortID() uint32
	// Create, Update and Delete write one flow.
	Create(ctx context.Context, f *engine.Flow) error
	Update(ctx context.Context, f *engine.Flow, c engine.Change) error
	Delete(ctx context.Context, f *engine.Flow) error
	// CreateExpect and DeleteExpect write one expectation.
	CreateExpect(ctx context.Context, e *engine.Expect) error
	DeleteExpect(ctx context.Context, e *engine.Expect) error
	// Close releases the socket.
	Close() error
}

var _ Injector = (*ctnetlink.Injector)(nil)

// InjectorOpener is a Kernel that opens Injectors.
type InjectorOpener interface {
	OpenInjector() (Injector, error)
}

// liveInjectorOpener is *ctnetlink.Live's form of InjectorOpener.
type liveInjectorOpener interface {
	OpenInjector() (*ctnetlink.Injector, error)
}

// injectorOpener returns how k opens Injectors; nil when it cannot.
func injectorOpener(k Kernel) func() (Injector, error) {
	switch k := k.(type) {
	case InjectorOpener:
		return k.OpenInjector
	case liveInjectorOpener:
		return func() (Injector, error) {
			in, err := k.OpenInjector()
			if err != nil {
				return nil, err // not a nil *ctnetlink.Injector in an Injector
			}
			return in, nil
		}
	}
	return nil
}

// kernelEvent applies one kernel event to the internal cache and queues
// what is to be advertised, as conntrackd's internal cache does: NEW
// replaces, UPDATE updates (or adds), DESTROY marks DEAD.
//
// Entries the Filter does not pass are left out; an end is applied
// whatever the filter says, so that no entry stays behind in the cache.
// Events of the node's own injector (DisableExternalCache) are ignored.
func (n *Node) kernelEvent(ev *event) {
	if n.injector != nil && ev.portID == n.injector.PortID() {
		return // written from what the peer sent
	}
	n.stats.EventsReceived++
	if ev.typ == engine.EventDestroy && ev.flow.Has&engine.HasCounters != 0 {
		// conntrackd's "traffic processed": the counters of ended flows.
		n.stats.TrafficBytes += uint64(ev.flow.OrigBytes + ev.flow.ReplyBytes)
		n.stats.TrafficPackets += uint64(ev.flow.OrigPackets + ev.flow.ReplyPackets)
	}
	if ev.typ != engine.EventDestroy && !n.filter.pass(&ev.flow) {
		n.stats.EventsFiltered++
		return
	}
	if n.noInternalCache() {
		n.sendEvent(ev)
		return
	}
	if e, ok := applyEvent(n.internal, ev.typ, &ev.flow); ok {
		n.enqueue(e)
	}
}

// dump loads the kernel table into the internal cache. With advertise (a
// resync after an event overrun or a commit) the entries are queued, and
// entries the kernel no longer has are marked DEAD and queued, as
// conntrackd's resync and purge do; without it (start-up, Refresh) nothing
// is sent and such entries leave the cache silently.
// With peerKnown (after a commit) entries the external cache holds are not
// queued: they came from the peer. Entries the Filter does not pass are
// left out (and so purged from the cache when advertising).
//
// Without internal cache, the start-up dump is skipped and the others are
// bulk sends.
func (n *Node) dump(ctx context.Context, advertise, peerKnown bool) error {
	if n.noInternalCache() {
		if advertise {
			n.bulkSendKernel()
		}
		return nil
	}
	seen := make(map[*cache.Entry]bool)
	_, err := n.kernel.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		if !n.filter.pass(f) {
			return nil
		}
		e, err := n.internal.Update(f)
		if err != nil {
			return nil
		}
		seen[e] = true
		if advertise && !(peerKnown && n.peerHas(e.Key)) {
			n.enqueue(e)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync node: dump kernel table: %w", err)
	}
	for _, e := range n.internal.Sweep(func(e *cache.Entry) bool { return seen[e] }, !advertise) {
		n.enqueue(e)
	}
	return nil
}

// reread reads the conntrack table and the expect table again, advertising
// what changed (dump and dumpExpect with advertise).
func (n *Node) reread(ctx context.Context, peerKnown bool) error {
	if err := n.dump(ctx, true, peerKnown); err != nil {
		return err
	}
	return n.dumpExpect(ctx, true, peerKnown)
}

// peerHas reports whether the external cache holds a live entry of k.
func (n *Node) peerHas(k cache.Key) bool {
	e, ok := n.external.Get(k)
	return ok && !e.Dead()
}
