//go:build linux

package node

import "time"

// Clock is the time a Node runs on: the cache timestamps, sequence
// numbers and ALARM deadlines read Now, and every timer of the node (the
// ALIVE interval, ALARM's tick, the resync after an event overrun,
// polling, the link check, a scheduled purge) comes from it. SystemClock
// is package time's; tests move a fake one.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// NewTimer returns a Timer that fires once, after d.
	NewTimer(d time.Duration) Timer
	// NewTicker returns a Ticker that fires every d (d > 0).
	NewTicker(d time.Duration) Ticker
	// AfterFunc calls f in its own goroutine after d, unless the returned
	// Timer is stopped first; that Timer's C is nil.
	AfterFunc(d time.Duration, f func()) Timer
}

// Timer is a single event of a Clock, as a *time.Timer.
type Timer interface {
	// C delivers the time the Timer fired.
	C() <-chan time.Time
	// Stop prevents the Timer from firing; it reports whether it did.
	// Nothing stale is received from C afterwards.
	Stop() bool
	// Reset makes the Timer fire after d, whether it fired, was stopped
	// or is pending; it reports whether it was pending.
	Reset(d time.Duration) bool
}

// Ticker is a periodic event of a Clock, as a *time.Ticker.
type Ticker interface {
	// C delivers the ticks.
	C() <-chan time.Time
	// Stop turns the Ticker off.
	Stop()
}

// SystemClock is the Clock of package time.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// NewTimer is time.NewTimer.
func (SystemClock) NewTimer(d time.Duration) Timer { return systemTimer{time.NewTimer(d)} }

// NewTicker is time.NewTicker.
func (SystemClock) NewTicker(d time.Duration) Ticker { return systemTicker{time.NewTicker(d)} }

// AfterFunc is time.AfterFunc.
func (SystemClock) AfterFunc(d time.Duration, f func()) Timer {
	return systemTimer{time.AfterFunc(d, f)}
}

// systemTimer is a *time.Timer as a Timer.
type systemTimer struct{ t *time.Timer }

func (t systemTimer) C() <-chan time.Time        { return t.t.C }
func (t systemTimer) Stop() bool                 { return t.t.Stop() }
func (t systemTimer) Reset(d time.Duration) bool { return t.t.Reset(d) }

// systemTicker is a *time.Ticker as a Ticker.
type systemTicker struct{ t *time.Ticker }

func (t systemTicker) C() <-chan time.Time { return t.t.C }
func (t systemTicker) Stop()               { t.t.Stop() }
