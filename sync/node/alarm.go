//go:build linux

package node

import (
	"math/rand/v2"
	"time"

	"ctq/sync/cache"
)

// alarmTick is how often ALARM mode looks for refreshes that are due and
// external entries that expired (conntrackd's alarms fire on its main
// loop's timer, to the second).
const alarmTick = time.Second

// alarm is ALARM mode's state, as conntrackd's sync-alarm: every
// internal-cache entry has a refresh alarm that sends its current state
// again after a random 1..RefreshTime seconds plus up to a second of
// jitter, and every external-cache entry expires when no message for it
// arrived within CacheTimeout. There are no control messages.
type alarm struct {
	refresh, timeout time.Duration
	rnd              *rand.Rand
	// flows and expects are the alarms of flows and of expectations.
	flows   timers[*cache.Entry, cache.Key]
	expects timers[*cache.ExpectEntry, cache.ExpectKey]
}

// alarmed is what an alarm needs of a cache entry: whether it is DEAD,
// and whether its cache still holds it.
type alarmed interface {
	comparable
	Dead() bool
	InCache() bool
}

// timers are ALARM's alarms for one kind of cache entry P keyed by K:
// when each internal entry is next sent again (due) and when each
// external key is dropped (expires).
type timers[P alarmed, K comparable] struct {
	due     map[P]time.Time
	expires map[K]time.Time
}

// newAlarm returns ALARM's state for the configured RefreshTime and
// CacheTimeout, drawing its intervals from a source seeded with seed.
func newAlarm(refresh, timeout time.Duration, seed uint64) *alarm {
	return &alarm{
		refresh: refresh,
		timeout: timeout,
		rnd:     rand.New(rand.NewPCG(seed, seed>>1|1)),
		flows:   newTimers[*cache.Entry, cache.Key](),
		expects: newTimers[*cache.ExpectEntry, cache.ExpectKey](),
	}
}

func newTimers[P alarmed, K comparable]() timers[P, K] {
	return timers[P, K]{due: make(map[P]time.Time), expires: make(map[K]time.Time)}
}

// interval is the time to an entry's next refresh: a whole number of
// seconds in 1..RefreshTime plus (1..5)×200ms less a microsecond, as
// conntrackd's add_alarm(random() % refresh + 1, (random() % 5 + 1) *
// 200000 - 1) does.
func (a *alarm) interval() time.Duration {
	secs := int64(a.refresh / time.Second)
	if secs < 1 {
		secs = 1
	}
	return time.Duration(a.rnd.Int64N(secs)+1)*time.Second +
		time.Duration(a.rnd.Int64N(5)+1)*200*time.Millisecond - time.Microsecond
}

// arm sets the refresh alarm of an internal entry that changed.
func (t *timers[P, K]) arm(a *alarm, e P, now time.Time) {
	t.due[e] = now.Add(a.interval())
}

// received restarts the expiry of an external key (NEW or UPD), or
// forgets it (DEL).
func (t *timers[P, K]) received(a *alarm, k K, del bool, now time.Time) {
	if del {
		delete(t.expires, k)
		return
	}
	t.expires[k] = now.Add(a.timeout)
}

// tick runs the due alarms of one kind of entry: internal entries (those
// range visits) whose refresh is due are passed to enqueue, which rearms
// them, entries not armed yet (such as those of the start-up dump) are
// armed, DEAD or released entries lose their alarm, and the external keys
// not refreshed within CacheTimeout are passed to expire.
func (t *timers[P, K]) tick(a *alarm, now time.Time, internal func(func(P) bool), enqueue func(P), expire func(K)) {
	internal(func(e P) bool {
		if e.Dead() {
			return true
		}
		due, ok := t.due[e]
		switch {
		case !ok:
			t.arm(a, e, now)
		case !now.Before(due):
			enqueue(e)
		}
		return true
	})
	for e := range t.due {
		if !e.InCache() || e.Dead() {
			delete(t.due, e)
		}
	}
	for k, at := range t.expires {
		if now.Before(at) {
			continue
		}
		delete(t.expires, k)
		expire(k)
	}
}

// alarmTick runs ALARM's due alarms of flows and of expectations; an
// external entry that expired is removed from its cache.
func (n *Node) alarmTick() {
	a, now := n.alarm, n.clock.Now()
	a.flows.tick(a, now, n.internal.Range, n.enqueue, func(k cache.Key) {
		if e, ok := n.external.Get(k); ok {
			f := e.Flow
			n.external.Delete(&f)
		}
	})
	a.expects.tick(a, now, n.internalExp.Range, n.enqueueExp, func(k cache.ExpectKey) {
		if e, ok := n.externalExp.Get(k); ok {
			x := e.Expect
			n.externalExp.Delete(&x)
		}
	})
}
