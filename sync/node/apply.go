//go:build linux

package node

import (
	"ctq/engine"
	"ctq/sync/wire"
)

// entryTable is what applyEvent and applyReceived need of a cache
// (cache.Cache or cache.ExpectCache) holding values V in entries P.
type entryTable[V any, P comparable] interface {
	Replace(v *V) (P, error)
	Update(v *V) (P, error)
	Kill(v *V) P
	Delete(v *V) bool
}

// applyEvent applies a kernel event to an internal cache, as conntrackd's
// internal cache does: NEW replaces, UPDATE updates (or adds), DESTROY
// marks DEAD. It returns the entry to advertise, if there is one (a full
// cache or an end of an entry it does not hold gives none).
func applyEvent[V any, P comparable](c entryTable[V, P], typ engine.EventType, v *V) (e P, ok bool) {
	var err error
	switch typ {
	case engine.EventNew:
		e, err = c.Replace(v)
	case engine.EventUpdate:
		e, err = c.Update(v)
	case engine.EventDestroy:
		e = c.Kill(v)
	}
	var none P
	return e, err == nil && e != none
}

// applyReceived applies a received NEW, UPD or DEL message, of a flow or
// an expectation, to an external cache: NEW replaces, UPD updates (or
// adds), DEL removes at once. The error is the cache's (cache.ErrFull).
func applyReceived[V any, P comparable](c entryTable[V, P], typ wire.MsgType, v *V) error {
	var err error
	switch typ {
	case wire.MsgCTNew, wire.MsgExpNew:
		_, err = c.Replace(v)
	case wire.MsgCTUpdate, wire.MsgExpUpdate:
		_, err = c.Update(v)
	case wire.MsgCTDelete, wire.MsgExpDelete:
		c.Delete(v)
	}
	return err
}
