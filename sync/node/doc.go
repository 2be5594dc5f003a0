//go:build linux

// Package node runs a sync node: it mirrors this host's conntrack table in
// an internal cache (kernel events and dumps), advertises it to the peer
// over its dedicated links as conntrackd 1.4.7 does, keeps what the peer
// sends in an external cache and commits that cache into the kernel on
// request.
//
// A Node speaks conntrackd's wire protocol, so its peer may be conntrackd:
//
//   - Mode NOTRACK: every change is sent once as CT NEW, UPD or DEL, with
//     no acknowledgements; ALIVE after a second without traffic; RESYNC is
//     answered with a bulk send of the internal cache. DisableInternalCache
//     sends kernel events (flows and expectations) as they come and
//     answers a RESYNC with a kernel dump.
//   - Mode FTFW: the same messages, sequence-checked by the receiver, which
//     acknowledges them in windows (ACKWindowSize, or after a second idle)
//     and asks for gaps with NACK; the sender keeps what it sent in a
//     resend queue (ResendQueueSize) until acknowledged and resends NACKed
//     state with new sequence numbers; HELLO and HELLO_BACK mark a start.
//   - Mode ALARM: the same data messages and no control messages; every
//     internal-cache entry is sent again after a random 1..RefreshTime
//     seconds, and external-cache entries not refreshed within
//     CacheTimeout expire; flagged messages are ignored.
//   - DisableExternalCache (FTFW, NOTRACK): what the peer sends, flows and
//     expectations, is written straight into the kernel (an
//     ctnetlink.Injector, whose events are not advertised).
//   - ExpectationSync: expectations (the helper list, if any) travel and
//     commit like flows, after them.
//   - General { Filter }: only the entries it passes are synced.
//   - The failover commands of conntrackd's -c, -f, -F, -R, -B, -n and -t
//     (Commit, FlushCaches, FlushKernel, Refresh, BulkSend, RequestResync,
//     Purge).
//
// Beyond conntrackd, and within its wire protocol, a Node defends itself
// against what a peer (or anyone, without AuthKey) sends and repairs the
// losses it knows of (guard.go):
//
//   - FTFW's receiver believes a sequence number only within 65536 of the
//     expected one: a message further off is dropped and counted
//     (SeqJumps), and the node follows a new sequence only once a sender
//     keeps to it (two consecutive numbers), NACKing what it dropped on
//     the way and, after a jump ahead, asking for a resync. One forged
//     datagram no longer stalls replication, and a forger holds the
//     sequence only while it keeps sending.
//   - RESYNC answers are paced: one bulk send at once, then at most one a
//     second for the requests meanwhile (ResyncsCoalesced). NACK resends
//     draw on a token bucket of a resend queue's worth a second; what is
//     NACKed beyond it is repaired once (NACKLimited).
//   - FTFW's resend queue is the window of what may be in flight: flows
//     and expectations go out only while it has room for them (beyond a
//     reserve for control messages; at most 1024 in flight, or twice
//     ACKWindowSize, or twice the largest range an ACK of the peer
//     covered), and the rest waits in the transmit queue, sent once in
//     its state then, until the peer's ACKs make room (WindowHeld;
//     window.go). conntrackd sends at once, and a burst larger than the
//     queue pushes unacknowledged entries out of it; a burst, bulk send
//     or repair of any size now goes out at the pace the peer
//     acknowledges. Entries waiting 10 s for a window the peer opens with
//     no ACK are logged (a peer down, or not in FTFW mode).
//   - FTFW entries the resend queue still loses unacknowledged (dropped
//     when a control message needs the place, NACKed beyond the budget)
//     are sent again, as they are then, once the queue has dropped
//     nothing for a second, all at once into the window (Repaired); DEAD
//     entries wait in the internal cache for it. Those a peer's HELLO
//     empties out of the queue go out again at once (HelloResent), and a
//     HELLO out of sequence from a peer heard before (it restarted) is
//     answered with a bulk send (PeerRestarts). After a burst the peer's
//     external cache converges on the internal cache.
//   - A full external cache (HashLimit) refuses the peer's new entries,
//     counts them (ExternalFull), logs it and rebuilds the cache (FTFW,
//     NOTRACK): a RESYNC, and five seconds later the eviction of every
//     entry the peer has not sent again since (ExternalEvicted: forged
//     entries, entries whose end was lost), then a second RESYNC for what
//     was refused meanwhile; at most one rebuild every 30 s. Evicting the
//     least recently refreshed entry instead would let a flood of forged
//     NEWs push out the long-lived idle flows a failover needs most. In
//     ALARM the cache is not rebuilt: CacheTimeout expires what is not
//     refreshed.
//
// Repeated trouble is logged at most once every 10 s, with a count.
//
// One goroutine (Run's) owns the caches, the sequence numbers and the
// transmit buffer, as conntrackd's single main loop does; the other methods
// hand their work to it and wait. A commit copies the external cache out of
// the loop a chunk at a time and writes it with two kernel batches at once,
// with the node's kernel watch out of the NEW and DESTROY groups meanwhile
// (the kernel then builds no event per created entry); a dump of the table
// afterwards catches up, as after lost events.
package node
