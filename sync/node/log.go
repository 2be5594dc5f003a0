//go:build linux

package node

import (
	"fmt"
	"log/slog"
	"time"

	"ctq/sync/link"
)

// linkCheckInterval is how often the node looks for a change of the
// active link (to log it).
const linkCheckInterval = time.Second

// logf logs one notable event (what conntrackd writes to its LogFile):
// start and stop, commits, resyncs, overruns, flushes, purges, link
// changes. Nothing without Options.Log.
func (n *Node) logf(level slog.Level, format string, args ...any) {
	if n.log != nil {
		n.log(level, fmt.Sprintf(format, args...))
	}
}

// checkLinks logs a change of the active dedicated link; it runs in the
// loop.
func (n *Node) checkLinks(set *link.Set) {
	for _, ls := range set.Links() {
		if !ls.Active {
			continue
		}
		if n.activeLink != "" && ls.Name != n.activeLink {
			n.logf(slog.LevelWarn, "dedicated link %s (line %d) is now the active one (was %s)", ls.Name, ls.Line, n.activeLink)
		}
		n.activeLink = ls.Name
		return
	}
}

// logOverrun logs lost kernel events.
func (n *Node) logOverrun() {
	if d := n.cfg.General.NetlinkOverrunResync; d > 0 {
		n.logf(slog.LevelWarn, "kernel event overrun: events were lost; the table is read again in %s", d)
		return
	}
	n.logf(slog.LevelWarn, "kernel event overrun: events were lost (NetlinkOverrunResync off: the table is not read again)")
}

// logCommit logs a commit's outcome.
func (n *Node) logCommit(r *CommitResult, err error) {
	level := slog.LevelInfo
	if err != nil || r.Failed > 0 || r.ExpectFailed > 0 {
		level = slog.LevelWarn
	}
	msg := fmt.Sprintf("commit: %d entries (%d created, %d replaced, %d failed), %d expectations (%d created, %d failed) in %.3fs",
		r.Entries, r.Created, r.Replaced, r.Failed, r.ExpectEntries, r.ExpectCreated, r.ExpectFailed, r.Duration.Seconds())
	if len(r.Errors) > 0 {
		msg += fmt.Sprintf("; first error: %v", r.Errors[0])
	}
	if err != nil {
		msg += fmt.Sprintf("; stopped: %v", err)
	}
	n.logf(level, "%s", msg)
}
