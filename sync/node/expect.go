//go:build linux

package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/wire"
)

// expEvent is a kernel expectation event copied for the loop, or an
// overrun report.
type expEvent struct {
	typ     engine.EventType
	exp     engine.Expect
	portID  uint32 // of the netlink socket that caused it (0: the kernel)
	overrun bool
}

// expectSync reports whether the node syncs expectations
// (ExpectationSync on, or a helper list).
func (n *Node) expectSync() bool {
	return n.cfg.Sync.ExpectationSync
}

// expWanted reports whether an expectation of the kernel is synced: all of
// them with `ExpectationSync on`, those of the listed helpers with
// `ExpectationSync { ftp sip ... }` (conntrackd's exp_filter), and of
// those only the ones whose master the Filter passes (conntrackd's
// ct_filter_master: the master tuple has no state, so State does not
// apply).
func (n *Node) expWanted(e *engine.Expect) bool {
	if hs := n.cfg.Sync.ExpectationHelpers; len(hs) > 0 && !slices.Contains(hs, e.Helper) {
		return false
	}
	var master engine.Flow
	master.Src, master.Dst = e.MasterSrc, e.MasterDst
	master.SetProto(e.MasterProtoNum)
	return n.filter.pass(&master)
}

// startExpectWatch starts the watch of the kernel's expect table when the
// node syncs expectations, counted in wg and reporting its end on errc.
// It returns the channels of its events and of its group membership (sent
// before the first event), both nil when expectations are not synced.
func (n *Node) startExpectWatch(ctx context.Context, wg *sync.WaitGroup, errc chan<- error) (<-chan expEvent, <-chan engine.Subscription) {
	if !n.expectSync() {
		return nil, nil
	}
	events := make(chan expEvent, eventQueue)
	subscribed := make(chan engine.Subscription, 1)
	wg.Go(func() { errc <- n.watchExpect(ctx, events, subscribed) })
	return events, subscribed
}

// watchExpect follows the kernel's expectation events and hands copies to
// the loop; it sends its group membership on subscribed before the first.
func (n *Node) watchExpect(ctx context.Context, events chan<- expEvent, subscribed chan<- engine.Subscription) error {
	wc := engine.WatchConfig{
		Table:      engine.TableExpect,
		Subscribed: func(s engine.Subscription) { subscribed <- s },
		Resync: func(ctx context.Context) error {
			select {
			case events <- expEvent{overrun: true}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
	_, err := n.kernel.Watch(ctx, wc, func(ev *engine.Event) error {
		if ev.Expect == nil {
			return nil
		}
		select {
		case events <- expEvent{typ: ev.Type, exp: *ev.Expect, portID: ev.PortID}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		return fmt.Errorf("sync node: kernel expectation events: %w", err)
	}
	return errors.New("sync node: kernel expectation event watch ended")
}

// waitExpectSubscribed waits for the expectation watch's membership when
// there is one; done reports that ctx ended (Run then returns nil).
func (n *Node) waitExpectSubscribed(ctx context.Context, subscribed <-chan engine.Subscription, errc <-chan error) (done bool, err error) {
	if subscribed == nil {
		return false, nil
	}
	select {
	case n.expSub = <-subscribed:
		return false, nil
	case err := <-errc:
		return false, err
	case <-ctx.Done():
		return true, nil
	}
}

// expectEvent handles one expectation event: an overrun re-reads the
// expect table at once (advertising what changed), and NEW, UPDATE and
// DESTROY act on the internal expectation cache as for flows. Events of
// the node's own injector (DisableExternalCache) are ignored.
func (n *Node) expectEvent(ctx context.Context, ev *expEvent) error {
	if ev.overrun {
		n.stats.EventOverflows++
		return n.dumpExpect(ctx, true, false)
	}
	if n.injector != nil && ev.portID == n.injector.PortID() {
		return nil // written from what the peer sent
	}
	if !n.expWanted(&ev.exp) {
		return nil
	}
	if n.noInternalCache() {
		n.sendExpEvent(ev)
		return nil
	}
	if e, ok := applyEvent(n.internalExp, ev.typ, &ev.exp); ok {
		n.enqueueExp(e)
	}
	return nil
}

// dumpExpect loads the kernel's expect table into the internal
// expectation cache, as dump does for flows (advertise and peerKnown have
// the same meaning; without internal cache it is a bulk send or nothing).
// It does nothing when expectations are not synced.
func (n *Node) dumpExpect(ctx context.Context, advertise, peerKnown bool) error {
	if !n.expectSync() {
		return nil
	}
	if n.noInternalCache() {
		if advertise {
			n.bulkSendKernelExp()
		}
		return nil
	}
	seen := make(map[*cache.ExpectEntry]bool)
	_, err := n.kernel.ScanExpect(ctx, func(x *engine.Expect) error {
		if !n.expWanted(x) {
			return nil
		}
		e, err := n.internalExp.Update(x)
		if err != nil {
			return nil
		}
		seen[e] = true
		if advertise && !(peerKnown && n.peerHasExp(e.Key)) {
			n.enqueueExp(e)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("sync node: dump kernel expect table: %w", err)
	}
	for _, e := range n.internalExp.Sweep(func(e *cache.ExpectEntry) bool { return seen[e] }, !advertise) {
		n.enqueueExp(e)
	}
	return nil
}

// peerHasExp reports whether the external expectation cache holds a live
// entry of k.
func (n *Node) peerHasExp(k cache.ExpectKey) bool {
	e, ok := n.externalExp.Get(k)
	return ok && !e.Dead()
}

// enqueueExp queues an expectation entry for transmission, once, as
// enqueue does for flows.
func (n *Node) enqueueExp(e *cache.ExpectEntry) {
	if n.ftfw != nil {
		n.ftfw.takeBackExp(e)
		n.unrepairedExp(e)
	}
	if n.alarm != nil && !e.Dead() {
		n.alarm.expects.arm(n.alarm, e, n.clock.Now())
	}
	if n.queuedExp[e] {
		return
	}
	n.queuedExp[e] = true
	n.txq = append(n.txq, txItem{exp: e})
}

// bulkSendExp queues every live entry of the internal expectation cache.
func (n *Node) bulkSendExp() {
	n.internalExp.Range(func(e *cache.ExpectEntry) bool {
		if !e.Dead() {
			n.enqueueExp(e)
		}
		return true
	})
}

// expectData applies a received EXP NEW, UPD or DEL to the external
// expectation cache, or with DisableExternalCache writes it into the
// kernel (injectExpect); without ExpectationSync it is only counted, as
// before.
func (n *Node) expectData(m *wire.Message) {
	n.stats.RecvExpect++
	if !n.expectSync() {
		return
	}
	var x engine.Expect
	m.Exp.ToExpect(&x)
	if n.alarm != nil {
		n.alarm.expects.received(n.alarm, cache.ExpectKeyOf(&x), m.Header.Type == wire.MsgExpDelete, n.clock.Now())
	}
	if n.injector != nil {
		n.injectExpect(m.Header.Type, &x)
		return
	}
	if errors.Is(applyReceived(n.externalExp, m.Header.Type, &x), cache.ErrFull) {
		n.externalFull("expectation")
	}
}
