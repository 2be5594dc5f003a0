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
	// due is when each internal entry is next sent again.
	due map[*cache.Entry]time.Time
	// expires is when each external key is dropped.
	expires map[cache.Key]time.Time
	// dueExp and expiresExp are due and expires for expectations.
	dueExp     map[*cache.ExpectEntry]time.Time
	expiresExp map[cache.ExpectKey]time.Time
}

// newAlarm returns ALARM's state for the configured RefreshTime and
// CacheTimeout, drawing its intervals from a source seeded with seed.
func newAlarm(refresh, timeout time.Duration, seed uint64) *alarm {
	return &alarm{
		refresh: refresh,
		timeout: timeout,
		rnd:     rand.New(rand.NewPCG(seed, seed>>1|1)),
		due:     make(map[*cache.Entry]time.Time),
		expires: make(map[cache.Key]time.Time),

		dueExp:     make(map[*cache.ExpectEntry]time.Time),
		expiresExp: make(map[cache.ExpectKey]time.Time),
	}
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
func (a *alarm) arm(e *cache.Entry, now time.Time) {
	a.due[e] = now.Add(a.interval())
}

// armExp sets the refresh alarm of an internal expectation that changed.
func (a *alarm) armExp(e *cache.ExpectEntry, now time.Time) {
	a.dueExp[e] = now.Add(a.interval())
}

// receivedExp is received for an external expectation key (EXP NEW, UPD
// or DEL).
func (a *alarm) receivedExp(k cache.ExpectKey, del bool, now time.Time) {
	if del {
		delete(a.expiresExp, k)
		return
	}
	a.expiresExp[k] = now.Add(a.timeout)
}

// received restarts the expiry of an external key (CT NEW or UPD), or
// forgets it (CT DEL).
func (a *alarm) received(k cache.Key, del bool, now time.Time) {
	if del {
		delete(a.expires, k)
		return
	}
	a.expires[k] = now.Add(a.timeout)
}

// alarmTick runs ALARM's due alarms: internal entries whose refresh is
// due are queued and rearmed (entries that were not armed yet, such as
// those of the start-up dump, are armed), DEAD or released entries lose
// their alarm, and external entries not refreshed within CacheTimeout are
// removed.
func (n *Node) alarmTick() {
	a, now := n.alarm, n.now()
	n.internal.Range(func(e *cache.Entry) bool {
		if e.State == cache.StateDead {
			return true
		}
		due, ok := a.due[e]
		switch {
		case !ok:
			a.arm(e, now)
		case !now.Before(due):
			n.enqueue(e) // enqueue rearms
		}
		return true
	})
	for e := range a.due {
		if !e.InCache() || e.State == cache.StateDead {
			delete(a.due, e)
		}
	}
	for k, t := range a.expires {
		if now.Before(t) {
			continue
		}
		delete(a.expires, k)
		if e, ok := n.external.Get(k); ok {
			f := e.Flow
			n.external.Delete(&f)
		}
	}
	n.alarmTickExp(now)
}

// alarmTickExp is alarmTick for the expectation caches.
func (n *Node) alarmTickExp(now time.Time) {
	a := n.alarm
	n.internalExp.Range(func(e *cache.ExpectEntry) bool {
		if e.State == cache.StateDead {
			return true
		}
		due, ok := a.dueExp[e]
		switch {
		case !ok:
			a.armExp(e, now)
		case !now.Before(due):
			n.enqueueExp(e) // enqueueExp rearms
		}
		return true
	})
	for e := range a.dueExp {
		if !e.InCache() || e.State == cache.StateDead {
			delete(a.dueExp, e)
		}
	}
	for k, t := range a.expiresExp {
		if now.Before(t) {
			continue
		}
		delete(a.expiresExp, k)
		if e, ok := n.externalExp.Get(k); ok {
			x := e.Expect
			n.externalExp.Delete(&x)
		}
	}
}
