// Package node runs a sync node: it mirrors this host's conntrack table in
// an internal cache (kernel events and dumps), advertises it to the peer
// over a dedicated link as conntrackd 1.4.7 does, keeps what the peer sends
// in an external cache and commits that cache into the kernel on request.
//
// A Node speaks conntrackd's wire protocol, so its peer may be conntrackd.
// Implemented so far, over one link:
//
//   - Mode NOTRACK: every change is sent once as CT NEW, UPD or DEL, with
//     no acknowledgements; ALIVE after a second without traffic; RESYNC is
//     answered with a bulk send of the internal cache.
//   - Mode FTFW: the same messages, sequence-checked by the receiver, which
//     acknowledges them in windows (ACKWindowSize, or after a second idle)
//     and asks for gaps with NACK; the sender keeps what it sent in a
//     resend queue (ResendQueueSize) until acknowledged and resends NACKed
//     state with new sequence numbers; HELLO and HELLO_BACK mark a start.
//   - Mode ALARM: the same data messages and no control messages; every
//     internal-cache entry is sent again after a random 1..RefreshTime
//     seconds, and external-cache entries not refreshed within
//     CacheTimeout expire; flagged messages are ignored.
//
// New rejects what is not implemented yet (Filter,
// DisableInternalCache, DisableExternalCache, ExpectationSync) rather than
// run with a different meaning.
//
// One goroutine (Run's) owns the caches, the sequence numbers and the
// transmit buffer, as conntrackd's single main loop does; the other methods
// hand their work to it and wait.
package node
