//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"

	"ctq/engine"
)

// TestInjector creates, updates and deletes one entry with an Injector and
// checks each step with conntrack(8), the errors of a second create and of
// a change to a missing entry, and that the events carry its port ID.
func TestInjector(t *testing.T) {
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	w, _ := startWatch(t, l, engine.WatchConfig{}, watchReadBuffer, nil)
	in, err := l.OpenInjector()
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	ctx := context.Background()
	var f engine.Flow
	f.Family = "ipv4"
	f.SetProto(engine.ProtoUDP)
	f.Src, f.Dst = netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("198.51.100.1")
	f.Sport, f.Dport, f.Timeout, f.Mark = 4000, 53, 120, 7
	f.Has |= engine.HasTimeout | engine.HasMark

	if err := in.Create(ctx, &f); err != nil {
		t.Fatalf("create: %v", err)
	}
	if out := ns.Run(t, "conntrack", "-L", "-p", "udp", "--sport", "4000"); !strings.Contains(out, "mark=7") {
		t.Errorf("after create: %q", out)
	}
	if err := in.Create(ctx, &f); !errors.Is(err, unix.EEXIST) {
		t.Errorf("second create: %v, want EEXIST", err)
	}
	if err := in.Update(ctx, &f, engine.Change{SetMark: true, Mark: 9}); err != nil {
		t.Fatalf("update: %v", err)
	}
	if out := ns.Run(t, "conntrack", "-L", "-p", "udp", "--sport", "4000"); !strings.Contains(out, "mark=9") {
		t.Errorf("after update: %q", out)
	}
	if err := in.Delete(ctx, &f); err != nil {
		t.Fatalf("delete: %v", err)
	}
	if err := in.Delete(ctx, &f); !errors.Is(err, unix.ENOENT) {
		t.Errorf("second delete: %v, want ENOENT", err)
	}
	if err := in.Update(ctx, &f, engine.Change{SetMark: true, Mark: 1}); !errors.Is(err, unix.ENOENT) {
		t.Errorf("update of a missing entry: %v, want ENOENT", err)
	}
	noTimeout := f
	noTimeout.Timeout, noTimeout.Has = 0, 0
	if err := in.Create(ctx, &noTimeout); !errors.Is(err, ErrUnencodable) {
		t.Errorf("create without a timeout: %v, want ErrUnencodable", err)
	}
	w.waitFor(t, "the three events", func(evs []seenEvent) bool { return len(evs) >= 3 })
	_, evs, _ := w.stop(t)
	for _, ev := range evs {
		if ev.PortID != in.PortID() {
			t.Errorf("%v event from port %d, want the injector's %d", ev.Type, ev.PortID, in.PortID())
		}
	}
}
