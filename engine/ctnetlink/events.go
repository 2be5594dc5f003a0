//go:build linux

package ctnetlink

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/mdlayher/netlink"

	"ctq/engine"
)

// ctnetlink's multicast groups (enum nfnetlink_groups).
const (
	nfnlgrpConntrackNew        = 1 // NFNLGRP_CONNTRACK_NEW
	nfnlgrpConntrackUpdate     = 2 // NFNLGRP_CONNTRACK_UPDATE
	nfnlgrpConntrackDestroy    = 3 // NFNLGRP_CONNTRACK_DESTROY
	nfnlgrpConntrackExpNew     = 4 // NFNLGRP_CONNTRACK_EXP_NEW
	nfnlgrpConntrackExpUpdate  = 5 // NFNLGRP_CONNTRACK_EXP_UPDATE
	nfnlgrpConntrackExpDestroy = 6 // NFNLGRP_CONNTRACK_EXP_DESTROY
)

// watchReadBuffer is the receive buffer a watch asks for. SetReadBuffer
// uses SO_RCVBUFFORCE, which root may raise past net.core.rmem_max, and
// the kernel doubles the value (128 MiB granted): room for about 100,000
// events while the reader is not scheduled.
const watchReadBuffer = 64 << 20

// watchNap is how long the reader waits after it has emptied the socket
// before it waits for the next datagram: under a stream of events one
// wakeup then collects many of them. It delays an event by at most that.
const watchNap = time.Millisecond

var _ engine.EventSource = (*Live)(nil)

// Watch subscribes to the events of cfg.Table that cfg.Events selects, in
// the source's network namespace, and calls yield for each, in the order
// the kernel sent them, until ctx ends (not an error), yield fails, or the
// socket fails. The socket has a large receive buffer (watchReadBuffer),
// and a goroutine of its own does nothing but drain it into a queue;
// decoding and yield run on the caller's goroutine. When the kernel reports lost events (ENOBUFS), Watch counts
// them in WatchStats.Overflows, calls cfg.Lost and cfg.Resync if set, and
// goes on. cfg.Reliable asks for the reliable delivery of destroy events
// (setReliable).
// Events of TableExpect carry an Expect, the others a Flow. cfg.Filter is
// not applied: the caller evaluates its predicate.
func (l *Live) Watch(ctx context.Context, cfg engine.WatchConfig, yield func(*engine.Event) error) (engine.WatchStats, error) {
	size := watchBufferSize(&cfg)
	if l.cfg.WatchBuffer > 0 {
		size = l.cfg.WatchBuffer
	}
	c, granted, err := l.openWatch(&cfg, size)
	if err != nil {
		return engine.WatchStats{}, err
	}
	defer l.release(c)
	if cfg.Subscribed != nil {
		mask := cfg.Events
		if mask == 0 {
			mask = engine.EventNew | engine.EventUpdate | engine.EventDestroy
		}
		cfg.Subscribed(&subscription{c: c, table: cfg.Table, joined: mask & (engine.EventNew | engine.EventUpdate | engine.EventDestroy), readBuffer: granted})
	}
	return l.runWatch(ctx, c, &cfg, yield)
}

// watchBufferSize is the receive buffer a watch of cfg asks for.
func watchBufferSize(cfg *engine.WatchConfig) int {
	return max(cfg.ReadBuffer, watchReadBuffer)
}

// watchGroups returns the multicast groups that carry the events cfg asks
// for.
func watchGroups(cfg *engine.WatchConfig) ([]uint32, error) {
	mask := cfg.Events
	if mask == 0 {
		mask = engine.EventNew | engine.EventUpdate | engine.EventDestroy
	}
	var groups [3]uint32
	switch cfg.Table {
	case engine.TableConntrack:
		groups = [3]uint32{nfnlgrpConntrackNew, nfnlgrpConntrackUpdate, nfnlgrpConntrackDestroy}
	case engine.TableExpect:
		groups = [3]uint32{nfnlgrpConntrackExpNew, nfnlgrpConntrackExpUpdate, nfnlgrpConntrackExpDestroy}
	default:
		return nil, fmt.Errorf("the %v table has no events", cfg.Table)
	}
	var out []uint32
	for i, t := range []engine.EventType{engine.EventNew, engine.EventUpdate, engine.EventDestroy} {
		if mask&t != 0 {
			out = append(out, groups[i])
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no known event type in mask %#x", uint8(cfg.Events))
	}
	return out, nil
}

// openWatch opens an event socket for cfg with a receive buffer of
// readBuffer bytes requested, and returns it with the size the kernel
// granted. The caller releases it.
func (l *Live) openWatch(cfg *engine.WatchConfig, readBuffer int) (*netlink.Conn, int, error) {
	const op = "watch events"
	groups, err := watchGroups(cfg)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	c, err := l.dial()
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %w", op, err)
	}
	granted, err := setupEventSocket(c, groups, readBuffer)
	if err == nil && cfg.Reliable {
		err = setReliable(c, cfg)
	}
	if err != nil {
		l.release(c)
		return nil, 0, kernelError(op, err)
	}
	return c, granted, nil
}

// setReliable asks for the reliable delivery of destroy events (see
// engine.WatchConfig.Reliable), as conntrackd's NetlinkEventsReliable
// does: with NETLINK_BROADCAST_ERROR the kernel learns that an event did
// not fit the socket, and keeps a dying entry until its DESTROY event is
// delivered. A watch of destroy events alone also sets NETLINK_NO_ENOBUFS:
// its overflows announce nothing lost, only events the kernel sends again.
// Other watches keep the ENOBUFS reports: new and update events are not
// sent again.
func setReliable(c *netlink.Conn, cfg *engine.WatchConfig) error {
	if err := c.SetOption(netlink.BroadcastError, true); err != nil {
		return fmt.Errorf("set NETLINK_BROADCAST_ERROR: %w", err)
	}
	if cfg.Table == engine.TableConntrack && cfg.Events == engine.EventDestroy {
		if err := c.SetOption(netlink.NoENOBUFS, true); err != nil {
			return fmt.Errorf("set NETLINK_NO_ENOBUFS: %w", err)
		}
	}
	return nil
}

// setupEventSocket sizes c's receive buffer and joins groups. It never
// sets NETLINK_NO_ENOBUFS: lost events must be reported, not hidden (only
// setReliable does, for a watch the kernel loses no event of).
func setupEventSocket(c *netlink.Conn, groups []uint32, readBuffer int) (int, error) {
	if err := c.SetReadBuffer(readBuffer); err != nil {
		return 0, fmt.Errorf("set receive buffer to %d bytes: %w", readBuffer, err)
	}
	granted, err := c.ReadBuffer()
	if err != nil {
		return 0, fmt.Errorf("read receive buffer size: %w", err)
	}
	for _, g := range groups {
		if err := c.JoinGroup(g); err != nil {
			return 0, fmt.Errorf("join multicast group %d: %w", g, err)
		}
	}
	return granted, nil
}

// runWatch receives the events of c (opened by openWatch for cfg) and
// yields them until ctx ends or an error.
func (l *Live) runWatch(ctx context.Context, c *netlink.Conn, cfg *engine.WatchConfig, yield func(*engine.Event) error) (engine.WatchStats, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return engine.WatchStats{}, fmt.Errorf("watch events: %w", err)
	}
	r := datagramReader{rc: rc, nap: watchNap}
	limit := rxQueueLimit
	if l.cfg.WatchBuffer > 0 {
		limit = l.cfg.WatchBuffer
	}
	q := newRxQueue(limit)
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() { q.receive(r.recv, quit) })
	// A read blocked in the reader returns at once past its deadline;
	// quit releases a reader that waits for room in the queue.
	abort := func() { _ = c.SetReadDeadline(time.Unix(1, 0)) }
	stop := context.AfterFunc(ctx, abort)
	defer func() {
		stop()
		abort()
		close(quit)
		wg.Wait()
	}()
	s := eventStream{q: q, cfg: cfg, fail: func(err error) error {
		if l.closed.Load() {
			return fmt.Errorf("watch events: %w", errClosed)
		}
		return kernelError("watch events: receive", err)
	}}
	return s.run(ctx, yield)
}

// eventStream decodes the messages of an rxQueue into events.
type eventStream struct {
	q   *rxQueue
	cfg *engine.WatchConfig
	// fail turns the error that stopped the reader into Watch's error.
	fail func(error) error

	ev     engine.Event
	flow   engine.Flow
	expect engine.Expect
}

// run yields the queued events in order until ctx ends, yield or a resync
// fails, or the reader stops with an error.
func (s *eventStream) run(ctx context.Context, yield func(*engine.Event) error) (engine.WatchStats, error) {
	var (
		st    engine.WatchStats
		spare []rxItem
	)
	done := ctx.Done()
	for {
		select {
		case <-s.q.ready:
		case <-done:
			return st, nil
		}
		items, rerr := s.q.take(spare)
		for i := range items {
			select {
			case <-done:
				return st, nil
			default:
			}
			it := &items[i]
			if it.overflows > 0 {
				st.Overflows += it.overflows
				if s.cfg.Lost != nil {
					if err := s.cfg.Lost(it.overflows, it.at); err != nil {
						return st, err
					}
				}
				if err := s.resync(ctx); err != nil {
					if ctx.Err() != nil {
						return st, nil
					}
					return st, err
				}
				continue
			}
			if !s.decode(it) {
				st.Skipped++
				continue
			}
			st.Received++
			if err := yield(&s.ev); err != nil {
				return st, err
			}
		}
		clear(items) // drop the payloads
		spare = items
		if rerr != nil {
			if ctx.Err() != nil {
				return st, nil
			}
			return st, s.fail(rerr)
		}
	}
}

// resync runs cfg.Resync, if set, after lost events.
func (s *eventStream) resync(ctx context.Context) error {
	if s.cfg.Resync == nil {
		return nil
	}
	if err := s.cfg.Resync(ctx); err != nil {
		return fmt.Errorf("watch events: resync after lost events: %w", err)
	}
	return nil
}

// decode fills s.ev from a received message; it reports false for a
// message that is not an event of the watched table or does not decode.
func (s *eventStream) decode(it *rxItem) bool {
	h := it.msg.Header
	typ, ok := eventType(h)
	if !ok {
		return false
	}
	s.ev = engine.Event{Type: typ, PortID: h.PID, Time: it.at}
	subsys := int(h.Type) >> 8
	if s.cfg.Table == engine.TableExpect {
		s.ev.Expect = &s.expect
		return subsys == nfnlSubsysCTNetlinkExp && DecodeExpect(it.msg.Data, &s.expect) == nil
	}
	s.ev.Flow = &s.flow
	return subsys == nfnlSubsysCTNetlink && DecodeFlow(it.msg.Data, &s.flow, it.at) == nil
}

// eventType classifies an event message as conntrack(8) labels it:
// IPCTNL_MSG_CT_NEW with NLM_F_CREATE is a new entry, without it an
// update, and IPCTNL_MSG_CT_DELETE a destroyed entry. (The expectation
// messages IPCTNL_MSG_EXP_NEW and IPCTNL_MSG_EXP_DELETE have the same
// numbers.)
func eventType(h netlink.Header) (engine.EventType, bool) {
	switch int(h.Type) & 0xff {
	case ipctnlMsgCtNew:
		if h.Flags&netlink.Create != 0 {
			return engine.EventNew, true
		}
		return engine.EventUpdate, true
	case ipctnlMsgCtDelete:
		return engine.EventDestroy, true
	}
	return 0, false
}
