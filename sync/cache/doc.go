// Package cache holds the two flow caches of a sync node, with
// conntrackd 1.4.7's semantics (src/cache.c, internal_cache.c,
// external_cache.c):
//
//   - the internal cache mirrors this node's kernel table (events and
//     dumps) and is what the node advertises to its peers;
//   - the external cache holds what peers sent, until a commit writes it
//     into the kernel.
//
// Entries are keyed by the original tuple and the zone (Key) and hold a copy
// of the engine.Flow. An entry is NEW when added, ALIVE after an update and
// DEAD after a destroy; the sync mode turns that state into the message type
// it sends (CT NEW, UPD, DEL). A DEAD entry stays in the cache, still found
// by its key, until the mode releases it (NOTRACK once the DEL is sent, FTFW
// once the peer acknowledged it).
//
// A Cache is not safe for concurrent use: a node owns its caches from one
// goroutine, as conntrackd owns them from its single main loop.
package cache
