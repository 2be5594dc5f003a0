//go:build linux

package node

import (
	"fmt"
	"log/slog"
	"time"

	"ctq/sync/wire"
)

// The node's defences against what the peer (or, without AuthKey, anyone)
// sends. conntrackd has none of them; all keep to its wire protocol:
//
//   - FTFW's receiver believes a sequence number only within seqWindow of
//     the expected one, and follows a new sequence only once a sender
//     keeps to it (ftfw.recv).

const (
	// resyncInterval is the least time between two RESYNCs the node asks
	// for itself.
	resyncInterval = time.Second
	// logInterval is the least time between two log lines of one kind of
	// repeated trouble.
	logInterval = 10 * time.Second
)

// guard is the node's state for the defences and repairs; owned by the
// loop.
type guard struct {
	// ask paces the RESYNCs the node sends for its repairs.
	ask paced
	// Rate-limited log lines.
	jumpLog, anchorLog logLimiter
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

// askResync sends a RESYNC for a repair of the node's own, paced.
func (n *Node) askResync(why string) {
	n.pace(&n.guard.ask, resyncInterval, func() {
		n.logf(slog.LevelInfo, "asking the peer for a resync: %s", why)
		n.requestResync()
	})
}

// afterFTFW acts on what FTFW's receiver found: a message out of the
// window (logged), a sequence followed anew (logged, and a RESYNC when
// more was lost than a NACK asks for).
func (n *Node) afterFTFW(jumps, reanchors uint64) {
	s := n.ftfw
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
}

// requestResync queues a RESYNC request.
func (n *Node) requestResync() {
	n.stats.ResyncsRequested++
	n.txq = append(n.txq, txItem{ctl: wire.FlagResync})
}
