package main

import (
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// fakeRun records what an interrupter does to a run.
type fakeRun struct {
	mu       sync.Mutex
	canceled os.Signal
	stops    atomic.Int32
	cleanups atomic.Int32
	code     atomic.Int32
	exited   chan struct{}
	log      strings.Builder
}

func newInterrupter(r *fakeRun, grace time.Duration, cleanup func()) *interrupter {
	r.exited = make(chan struct{})
	return &interrupter{
		cancel: func(sig os.Signal) {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.canceled = sig
		},
		stop: func() { r.stops.Add(1) },
		cleanup: func() {
			r.cleanups.Add(1)
			if cleanup != nil {
				cleanup()
			}
		},
		exit: func(code int) {
			r.code.Store(int32(code))
			close(r.exited)
		},
		w:     &r.log,
		grace: grace,
		poll:  time.Millisecond,
	}
}

func TestInterrupterRunDoneFirst(t *testing.T) {
	var r fakeRun
	it := newInterrupter(&r, time.Hour, nil)
	done := make(chan struct{})
	close(done)
	it.watch(make(chan os.Signal), done)
	if r.canceled != nil || r.stops.Load() != 0 || r.cleanups.Load() != 0 {
		t.Errorf("a finished run was interrupted: %+v", &r)
	}
}

// TestInterrupterRunUnwinds: after a signal the run is canceled and its
// processes killed until it has cleaned up itself; the interrupter then
// leaves the exit to the run.
func TestInterrupterRunUnwinds(t *testing.T) {
	var r fakeRun
	it := newInterrupter(&r, time.Hour, nil)
	sigs, done := make(chan os.Signal, 1), make(chan struct{})
	returned := make(chan struct{})
	go func() {
		it.watch(sigs, done)
		close(returned)
	}()
	sigs <- syscall.SIGINT
	for r.stops.Load() < 3 { // killed again and again meanwhile
		time.Sleep(time.Millisecond)
	}
	close(done)
	<-returned
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.canceled != syscall.SIGINT {
		t.Errorf("canceled with %v, want SIGINT", r.canceled)
	}
	if r.cleanups.Load() != 0 {
		t.Error("the interrupter cleaned up a run that did")
	}
	select {
	case <-r.exited:
		t.Error("the interrupter exited for a run that unwound")
	default:
	}
}

// TestInterrupterStuckRun: a run that does not unwind within the grace
// period is cleaned up for, and the process exits with 128+signal; the
// limit raised for it is back at its value.
func TestInterrupterStuckRun(t *testing.T) {
	path := fakeSysctl(t, "262144")
	var log strings.Builder
	lim, err := openLimit(path, &log)
	if err != nil {
		t.Fatal(err)
	}
	if err := lim.need(1000000); err != nil {
		t.Fatal(err)
	}
	var r fakeRun
	it := newInterrupter(&r, 10*time.Millisecond, func() {
		if err := lim.restore(); err != nil {
			t.Error(err)
		}
	})
	sigs := make(chan os.Signal, 1)
	go it.watch(sigs, make(chan struct{}))
	sigs <- syscall.SIGTERM
	<-r.exited
	if got := r.code.Load(); got != 128+int32(syscall.SIGTERM) {
		t.Errorf("exit code %d, want %d", got, 128+int32(syscall.SIGTERM))
	}
	if r.cleanups.Load() != 1 {
		t.Errorf("%d cleanups, want 1", r.cleanups.Load())
	}
	if got := readFake(t, path); got != "262144" {
		t.Errorf("nf_conntrack_max left at %s, want 262144", got)
	}
	if !strings.Contains(log.String(), "restored to 262144") {
		t.Errorf("the restore was not reported: %q", log.String())
	}
}

// TestInterrupterSecondSignal: a second signal cleans up at once.
func TestInterrupterSecondSignal(t *testing.T) {
	var r fakeRun
	it := newInterrupter(&r, time.Hour, nil)
	sigs := make(chan os.Signal, 2)
	go it.watch(sigs, make(chan struct{}))
	sigs <- syscall.SIGINT
	sigs <- syscall.SIGINT
	<-r.exited
	if got := r.code.Load(); got != 130 {
		t.Errorf("exit code %d, want 130", got)
	}
	if r.cleanups.Load() != 1 || !strings.Contains(r.log.String(), "second signal") {
		t.Errorf("%d cleanups, log %q", r.cleanups.Load(), r.log.String())
	}
}
