//go:build linux

package ctnetlink

import (
	"context"
	"testing"
	"time"

	"ctq/internal/nstest"

	"ctq/engine"
)

// TestWatchSubscription checks that a watch that left the NEW and DESTROY
// groups receives neither while it is out, and that an entry created
// meanwhile still reports its end once the watch is back in: the UPDATE
// group kept the kernel giving new entries an event record.
func TestWatchSubscription(t *testing.T) {
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	subs := make(chan engine.Subscription, 1)
	events := make(chan seenEvent, 64)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.Watch(ctx, engine.WatchConfig{Subscribed: func(s engine.Subscription) { subs <- s }}, func(ev *engine.Event) error {
			events <- copyEvent(ev)
			return nil
		})
		done <- err
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("watch: %v", err)
		}
	})
	var sub engine.Subscription
	select {
	case sub = <-subs:
	case err := <-done:
		t.Fatalf("watch ended before it subscribed: %v", err)
	}
	if got := sub.ReadBuffer(); got < watchReadBuffer {
		t.Errorf("ReadBuffer() = %d, want at least %d", got, watchReadBuffer)
	}
	all := engine.EventNew | engine.EventUpdate | engine.EventDestroy
	if got := sub.Joined(); got != all {
		t.Fatalf("Joined() = %#x, want %#x", got, all)
	}
	if err := sub.Leave(all); err == nil {
		t.Fatal("Leave(all groups) succeeded")
	}
	if err := sub.Leave(engine.EventNew | engine.EventDestroy); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	if got := sub.Joined(); got != engine.EventUpdate {
		t.Fatalf("Joined() after Leave = %#x, want UPDATE only", got)
	}
	ns.InsertSentinel(t, 1000) // created while out of NEW
	if err := sub.Join(engine.EventNew | engine.EventDestroy); err != nil {
		t.Fatalf("Join: %v", err)
	}
	ns.InsertSentinel(t, 1001)
	ns.Run(t, "conntrack", "-D", "-p", "udp", "--sport", "1000")

	want := []struct {
		typ   engine.EventType
		sport int
	}{{engine.EventNew, 1001}, {engine.EventDestroy, 1000}}
	for _, w := range want {
		select {
		case ev := <-events:
			if ev.Type != w.typ || ev.Flow.Sport != w.sport {
				t.Fatalf("event %v sport %d, want %v sport %d", ev.Type, ev.Flow.Sport, w.typ, w.sport)
			}
		case <-time.After(waitLimit):
			t.Fatalf("no %v event for sport %d", w.typ, w.sport)
		}
	}
}
