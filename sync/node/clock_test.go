package node

import (
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock the test moves with advance. Its timers fire only
// then, in the order of their deadlines, each with Now at its deadline:
// a timer's or ticker's channel is unbuffered and advance waits until the
// time is received (or the timer is stopped or reset), so that when
// advance returns the node's loop has taken every tick; an AfterFunc's f
// runs before advance goes on. A timer its receiver resets after it fired
// (the ALIVE timer) counts from the clock's time at the Reset, which may
// be the end of the advance: where the number of its firings matters,
// advance by at most its interval at a time.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	timers []*fakeTimer // pending, in no order
}

// newFakeClock returns a fakeClock at a fixed time.
func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Unix(1795389893, 0)}
}

// fakeTimer is a timer, ticker (period > 0) or AfterFunc (f) of a
// fakeClock.
type fakeTimer struct {
	clk    *fakeClock
	c      chan time.Time
	f      func()
	period time.Duration
	// Guarded by clk.mu: the deadline, and cancel, closed when the timer
	// is stopped or reset (it ends a delivery of advance).
	when   time.Time
	cancel chan struct{}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) NewTimer(d time.Duration) Timer {
	return c.start(&fakeTimer{c: make(chan time.Time)}, d)
}

func (c *fakeClock) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("fakeClock: non-positive ticker period")
	}
	return fakeTicker{c.start(&fakeTimer{c: make(chan time.Time), period: d}, d)}
}

// fakeTicker is a periodic fakeTimer as a Ticker.
type fakeTicker struct{ t *fakeTimer }

func (t fakeTicker) C() <-chan time.Time { return t.t.C() }
func (t fakeTicker) Stop()               { t.t.Stop() }

func (c *fakeClock) AfterFunc(d time.Duration, f func()) Timer {
	return c.start(&fakeTimer{f: f}, d)
}

// start arms t to fire after d.
func (c *fakeClock) start(t *fakeTimer, d time.Duration) *fakeTimer {
	t.clk = c
	c.mu.Lock()
	defer c.mu.Unlock()
	t.arm(d)
	return t
}

// arm schedules t after d; clk.mu is held.
func (t *fakeTimer) arm(d time.Duration) {
	t.when = t.clk.t.Add(d)
	t.cancel = make(chan struct{})
	t.clk.timers = append(t.clk.timers, t)
}

// disarm unschedules t and ends a delivery in progress; clk.mu is held.
// It reports whether t was pending.
func (t *fakeTimer) disarm() bool {
	c := t.clk
	i := slices.Index(c.timers, t)
	if i >= 0 {
		c.timers = slices.Delete(c.timers, i, i+1)
	}
	if t.cancel != nil {
		close(t.cancel)
		t.cancel = nil
	}
	return i >= 0
}

func (t *fakeTimer) C() <-chan time.Time { return t.c }

func (t *fakeTimer) Stop() bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	return t.disarm()
}

func (t *fakeTimer) Reset(d time.Duration) bool {
	t.clk.mu.Lock()
	defer t.clk.mu.Unlock()
	pending := t.disarm()
	t.arm(d)
	return pending
}

// pending reports how many timers are armed.
func (c *fakeClock) pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// advance moves the clock d on, firing the timers due meanwhile in the
// order of their deadlines.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	end := c.t.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		var t *fakeTimer
		for _, u := range c.timers {
			if !u.when.After(end) && (t == nil || u.when.Before(t.when)) {
				t = u
			}
		}
		if t == nil {
			c.t = end
			c.mu.Unlock()
			return
		}
		if t.when.After(c.t) {
			c.t = t.when
		}
		now, cancel := c.t, t.cancel
		if t.period > 0 {
			t.when = t.when.Add(t.period)
		} else {
			c.timers = slices.DeleteFunc(c.timers, func(u *fakeTimer) bool { return u == t })
		}
		c.mu.Unlock()
		if t.f != nil {
			t.f()
			continue
		}
		select {
		case t.c <- now:
		case <-cancel:
		}
	}
}

// TestFakeClock checks the fake's order of firing, its tickers and its
// stopped and reset timers.
func TestFakeClock(t *testing.T) {
	c := newFakeClock()
	start := c.Now()
	var got []time.Duration
	var mu sync.Mutex
	record := func(at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, at.Sub(start))
	}
	tick := c.NewTicker(time.Second)
	once := c.NewTimer(1500 * time.Millisecond)
	stopped := c.NewTimer(500 * time.Millisecond)
	reset := c.NewTimer(200 * time.Millisecond)
	reset.Reset(2500 * time.Millisecond)
	if !stopped.Stop() || stopped.Stop() {
		t.Error("Stop of a pending timer false, or of a stopped one true")
	}
	c.AfterFunc(2200*time.Millisecond, func() { record(c.Now()) })
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 5 {
			select {
			case at := <-tick.C():
				record(at)
			case at := <-once.C():
				record(at)
			case at := <-reset.C():
				record(at)
			}
		}
	}()
	c.advance(3 * time.Second)
	<-done
	tick.Stop()
	// Each time is Now when the timer fired, which only moves on: out of
	// order, a time would be wrong.
	slices.Sort(got)
	want := []time.Duration{time.Second, 1500 * time.Millisecond, 2 * time.Second, 2200 * time.Millisecond, 2500 * time.Millisecond, 3 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("fired at %v, want %v", got, want)
	}
	if c.Now().Sub(start) != 3*time.Second || c.pending() != 0 {
		t.Errorf("clock at %v with %d timers pending", c.Now().Sub(start), c.pending())
	}
}
