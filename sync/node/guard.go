//go:build linux

package node

import (
	"fmt"
	"log/slog"
	"time"

	"ctq/sync/cache"
	"ctq/sync/wire"
)

// The node's defences against what the peer (or, without AuthKey, anyone)
// sends, and its repair of the losses it knows of. conntrackd has none of
// them; all keep to its wire protocol:
//
//   - FTFW's receiver believes a sequence number only within seqWindow of
//     the expected one, and follows a new sequence only once a sender
//     keeps to it (ftfw.recv); afterFTFW logs and repairs;
//   - answers to RESYNC are paced: one bulk send at once, the requests of
//     the next resyncInterval share one more at its end;
//   - NACK resends draw on a token bucket (a resend queue's worth a
//     second); the entries NACKed beyond it are repaired later, once;
//   - FTFW entries the resend queue loses unacknowledged (dropped when
//     full, NACKed beyond the budget) wait in a repair set and are sent
//     again, as they are then, once the resend queue has dropped nothing
//     for repairDelay, through the window (window.go); a HELLO out of
//     sequence from a peer heard before (it restarted) is answered with
//     a bulk send;
//   - a full external cache starts a rebuild: a RESYNC, and after
//     rebuildSettle the eviction of the entries the peer did not send
//     again (forgeries, and entries whose end was lost), then a second
//     RESYNC for what was refused meanwhile.

const (
	// resyncInterval is the least time between two bulk sends answering
	// RESYNC, and between two RESYNCs the node asks for itself.
	resyncInterval = time.Second
	// repairDelay is how long the resend queue must have dropped nothing
	// before a repair goes out (a burst is over).
	repairDelay = time.Second
	// rebuildSettle is how long a rebuild of the external cache waits for
	// the peer's answer to its RESYNC before evicting what the answer did
	// not refresh.
	rebuildSettle = 5 * time.Second
	// rebuildInterval is the least time between the starts of two
	// rebuilds.
	rebuildInterval = 30 * time.Second
	// logInterval is the least time between two log lines of one kind of
	// repeated trouble.
	logInterval = 10 * time.Second
)

// guard is the node's state for the defences and repairs; owned by the
// loop.
type guard struct {
	// bulk paces the bulk sends answering RESYNC, ask the RESYNCs the node
	// sends for its repairs.
	bulk, ask paced
	// repair and repairExp are the entries to send again; repairTimer is
	// the pending repair, armed when the resend queue had dropped
	// repairDrops entries.
	repair      map[*cache.Entry]bool
	repairExp   map[*cache.ExpectEntry]bool
	repairTimer Timer
	repairDrops uint64
	// The rebuild of the external cache: active since the RESYNC went out,
	// the entries it found then (and their change counts), whether
	// entries were refused meanwhile; next is when the next one may
	// start, pending a start waiting for it.
	rebuilding     bool
	seen           map[*cache.Entry]uint64
	seenExp        map[*cache.ExpectEntry]uint64
	refused        bool
	next           time.Time
	rebuildPending bool
	// lastACK is when the peer's last ACK came (FTFW; window.go).
	lastACK time.Time
	// Rate-limited log lines.
	jumpLog, anchorLog, fullLog, lostLog, helloLog, stallLog logLimiter
}

// paced runs an action at most once per interval: a request within the
// interval after a run is put off to its end, and the requests meanwhile
// share that run.
type paced struct {
	last    time.Time
	ran     bool
	pending bool
}

// pace runs fn now, or at the end of the interval, or not at all (a run is
// pending); it reports which: now, later or neither.
func (n *Node) pace(p *paced, interval time.Duration, fn func()) (now, later bool) {
	if p.pending {
		return false, false
	}
	t := n.clock.Now()
	if p.ran && t.Sub(p.last) < interval {
		p.pending = true
		n.later(p.last.Add(interval).Sub(t), func() {
			p.pending = false
			p.ran, p.last = true, n.clock.Now()
			fn()
		})
		return false, true
	}
	p.ran, p.last = true, t
	fn()
	return true, false
}

// later runs fn in the loop after d (nothing once the node has stopped).
func (n *Node) later(d time.Duration, fn func()) Timer {
	return n.clock.AfterFunc(d, func() {
		select {
		case n.reqs <- fn:
		case <-n.stopped:
		}
	})
}

// tokenBucket allows rate events a second, burst at once.
type tokenBucket struct {
	rate, burst float64
	tokens      float64
	last        time.Time
}

// newTokenBucket returns a full bucket.
func newTokenBucket(rate, burst float64) *tokenBucket {
	return &tokenBucket{rate: rate, burst: burst, tokens: burst}
}

// take takes a token at now, reporting whether there was one.
func (b *tokenBucket) take(now time.Time) bool {
	if !b.last.IsZero() {
		if d := now.Sub(b.last).Seconds(); d > 0 {
			b.tokens = min(b.burst, b.tokens+d*b.rate)
		}
	}
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// logLimiter keeps a repeated log line to one per logInterval, counting
// those left out.
type logLimiter struct {
	last    time.Time
	skipped int
}

// logLimited logs through l.
func (n *Node) logLimited(l *logLimiter, level slog.Level, format string, args ...any) {
	now := n.clock.Now()
	if !l.last.IsZero() && now.Sub(l.last) < logInterval {
		l.skipped++
		return
	}
	msg := fmt.Sprintf(format, args...)
	if l.skipped > 0 {
		msg += fmt.Sprintf(" (and %d more times since the last report)", l.skipped)
	}
	l.last, l.skipped = now, 0
	n.logf(level, "%s", msg)
}

// initGuard sets up the defences: the repair of FTFW's resend queue and
// its NACK budget.
func (n *Node) initGuard() {
	n.guard.repair = make(map[*cache.Entry]bool)
	n.guard.repairExp = make(map[*cache.ExpectEntry]bool)
	if s := n.ftfw; s != nil {
		s.onLost = n.lost
		limit := float64(max(s.rsLimit, 1))
		s.nackBudget = newTokenBucket(limit, limit)
		s.now = n.clock.Now
	}
}

// answerResync answers the peer's RESYNC with a bulk send, paced.
func (n *Node) answerResync(why string) {
	now, later := n.pace(&n.guard.bulk, resyncInterval, func() {
		n.stats.ResyncsAnswered++
		n.logf(slog.LevelInfo, "%s: sending the internal cache", why)
		n.bulkSend()
	})
	if !now && !later {
		n.stats.ResyncsCoalesced++
	}
}

// askResync sends a RESYNC for a repair of the node's own, paced.
func (n *Node) askResync(why string) {
	n.pace(&n.guard.ask, resyncInterval, func() {
		n.logf(slog.LevelInfo, "asking the peer for a resync: %s", why)
		n.requestResync()
	})
}

// afterFTFW acts on what FTFW's receiver found: a sequence followed anew
// (logged, and a RESYNC when more was lost than a NACK asks for), a
// message out of the window (logged), a resend queue a HELLO emptied
// (logged), a restarted peer (a bulk send).
func (n *Node) afterFTFW(jumps, reanchors, flushed uint64) {
	s := n.ftfw
	if s.flushed != flushed {
		n.logLimited(&n.guard.helloLog, slog.LevelInfo,
			"the peer's HELLO emptied the resend queue: %d entries it had not acknowledged sent again (%d in all)",
			s.flushed-flushed, s.flushed)
	}
	if s.jumps != jumps {
		n.logLimited(&n.guard.jumpLog, slog.LevelWarn,
			"dropped a message of the peer whose sequence number %d is out of the window of %d after %d (a forgery? use AuthKey)",
			s.cand, seqWindow, s.rxLast)
	}
	if s.reanchors != reanchors {
		n.logLimited(&n.guard.anchorLog, slog.LevelWarn, "the peer's sequence moved to %d: following it", s.rxLast)
	}
	if s.wantResync {
		s.wantResync = false
		n.askResync("the peer's sequence jumped further than NACKs reach")
	}
	if s.peerRestarted {
		s.peerRestarted = false
		s.resetWindow()
		n.stats.PeerRestarts++
		n.answerResync("the peer restarted (HELLO)")
	}
}

// lost takes an entry FTFW's resend queue lost unacknowledged into the
// repair set; it runs in the loop. A DEAD entry stays in the internal
// cache until its DEL is acknowledged.
func (n *Node) lost(it txItem) {
	g := &n.guard
	switch {
	case it.entry != nil:
		g.repair[it.entry] = true
	case it.exp != nil:
		g.repairExp[it.exp] = true
	}
	if g.repairTimer == nil {
		n.armRepair()
	}
}

// armRepair schedules the repair repairDelay from now.
func (n *Node) armRepair() {
	g := &n.guard
	g.repairDrops = n.ftfw.rsDropped
	g.repairTimer = n.later(repairDelay, n.runRepair)
}

// runRepair sends the repair set again once the resend queue has dropped
// nothing for repairDelay: all of it at once into the transmit queue,
// which lets it out as fast as the window allows (window.go). A set the
// size of the table costs no more than the bulk send a RESYNC asks for,
// and a peer makes entries lost only out of the resend queue (NACKs
// beyond the budget), which holds at most ResendQueueSize and is refilled
// only by new changes and budgeted resends: what a peer can make the
// repair send stays within a few resend queues a second.
func (n *Node) runRepair() {
	g := &n.guard
	g.repairTimer = nil
	if len(g.repair)+len(g.repairExp) == 0 {
		return
	}
	if n.ftfw.rsDropped != g.repairDrops {
		n.armRepair() // the burst goes on
		return
	}
	sent := 0
	for e := range g.repair {
		delete(g.repair, e)
		if e.InCache() {
			n.enqueue(e)
			sent++
		}
	}
	for e := range g.repairExp {
		delete(g.repairExp, e)
		if e.InCache() {
			n.enqueueExp(e)
			sent++
		}
	}
	n.stats.Repaired += uint64(sent)
	n.logLimited(&n.guard.lostLog, slog.LevelWarn,
		"repairing what the resend queue lost unacknowledged (so far %d dropped when full, %d NACKed beyond the budget): %d entries sent again (%d in all)",
		n.ftfw.rsDropped, n.ftfw.nackLimited, sent, n.stats.Repaired)
}

// unrepaired takes an entry out of the repair set: it goes out anyway.
func (n *Node) unrepaired(e *cache.Entry) {
	delete(n.guard.repair, e)
}

// unrepairedExp is unrepaired for an expectation.
func (n *Node) unrepairedExp(e *cache.ExpectEntry) {
	delete(n.guard.repairExp, e)
}

// externalFull counts an entry of the peer the full external cache
// refused, logs it and starts a rebuild of the cache (not in ALARM, whose
// CacheTimeout expires what is not refreshed).
func (n *Node) externalFull(what string) {
	n.stats.ExternalFull++
	n.logLimited(&n.guard.fullLog, slog.LevelWarn,
		"external cache full (HashLimit %d): a %s of the peer was refused (%d in all)",
		n.cfg.General.HashLimit, what, n.stats.ExternalFull)
	g := &n.guard
	if n.alarm != nil {
		return
	}
	if g.rebuilding {
		g.refused = true
		return
	}
	if g.rebuildPending {
		return
	}
	if wait := g.next.Sub(n.clock.Now()); wait > 0 {
		g.rebuildPending = true
		n.later(wait, func() {
			g.rebuildPending = false
			n.startRebuild()
		})
		return
	}
	n.startRebuild()
}

// startRebuild notes the entries of the external caches and asks the peer
// for a resync; rebuildSettle later, those the peer did not send again
// are evicted.
func (n *Node) startRebuild() {
	g := &n.guard
	g.rebuilding, g.refused = true, false
	g.next = n.clock.Now().Add(rebuildInterval)
	n.stats.Rebuilds++
	g.seen = make(map[*cache.Entry]uint64, n.external.Len())
	n.external.Range(func(e *cache.Entry) bool {
		g.seen[e] = e.Seq
		return true
	})
	g.seenExp = make(map[*cache.ExpectEntry]uint64, n.externalExp.Len())
	n.externalExp.Range(func(e *cache.ExpectEntry) bool {
		g.seenExp[e] = e.Seq
		return true
	})
	n.logf(slog.LevelWarn, "rebuilding the full external cache: asking the peer for a resync; entries it does not send again within %s are evicted", rebuildSettle)
	n.requestResync()
	n.later(rebuildSettle, n.endRebuild)
}

// endRebuild evicts the entries the peer did not send again since the
// rebuild started (neither replaced nor updated), and asks for a second
// resync when entries were refused meanwhile.
func (n *Node) endRebuild() {
	g := &n.guard
	evicted := 0
	for e, seq := range g.seen {
		if e.InCache() && e.Seq == seq {
			n.external.Delete(&e.Flow)
			evicted++
		}
	}
	for e, seq := range g.seenExp {
		if e.InCache() && e.Seq == seq {
			n.externalExp.Delete(&e.Expect)
			evicted++
		}
	}
	g.seen, g.seenExp = nil, nil
	g.rebuilding = false
	n.stats.ExternalEvicted += uint64(evicted)
	n.logf(slog.LevelWarn, "external cache rebuilt: %d entries the peer did not send again evicted", evicted)
	if g.refused {
		g.refused = false
		n.requestResync()
	}
}

// requestResync queues a RESYNC request.
func (n *Node) requestResync() {
	n.stats.ResyncsRequested++
	n.txq = append(n.txq, txItem{ctl: wire.FlagResync})
}
