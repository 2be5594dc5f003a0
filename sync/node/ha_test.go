package node

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"ctq/sync/config"
)

// haConf is a NOTRACK node with a Filter and a one-second purge delay.
const haConf = `Sync {
	Mode NOTRACK { PurgeTimeout 1 }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}
General {
	Filter { Address Ignore { IPv4_address 198.51.100.99 } }
}`

// TestPurge: a commit cancels a pending purge; a second request while one
// is pending leaves it as it is; the purge, PurgeTimeout after its
// request, flushes the kernel table of what the Filter passes.
func TestPurge(t *testing.T) {
	kept := flow(1)
	kept.Src = netip.MustParseAddr("198.51.100.99") // Filter: ignored
	f := runFake(t, haConf, flow(0), kept)
	ctx := context.Background()
	if err := f.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	fillExternal(t, f.Node, 1)
	if _, err := f.Commit(ctx, AllTables); err != nil {
		t.Fatal(err)
	}
	f.clk.advance(2 * time.Second) // past PurgeTimeout
	if st, err := f.Stats(ctx); err != nil || st.Purges != 0 {
		t.Fatalf("purges after a commit cancelled it: %d, %v", st.Purges, err)
	}
	pending := func() Timer {
		p, err := inLoop(ctx, f.Node, func() Timer { return f.purge })
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := f.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	first := pending()
	f.clk.advance(500 * time.Millisecond)
	if err := f.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if p := pending(); p == nil || p != first {
		t.Errorf("a second purge request replaced the pending purge")
	}
	f.clk.advance(500 * time.Millisecond) // the purge runs before advance returns
	if pending() != nil {
		t.Error("the purge that ran is still pending")
	}
	if st, err := f.Stats(ctx); err != nil || st.Purges != 1 || st.PurgeErrors != 0 {
		t.Errorf("%d purges, %d errors (%v), want 1 and 0", st.Purges, st.PurgeErrors, err)
	}
	if flows, _ := f.k.len(); flows != 1 {
		t.Errorf("kernel holds %d flows after the purge, want the filtered-out one", flows)
	} else if _, ok := f.k.flow(kept); !ok {
		t.Error("the purge deleted the flow the Filter ignores")
	}
}

func TestAlarmRefusesResync(t *testing.T) {
	cfg, err := config.Parse("t.conf", []byte(alarmConf))
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(cfg, Options{Kernel: newFakeKernel(), Link: &fakeLink{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.RequestResync(context.Background()); !errors.Is(err, ErrNoResync) {
		t.Errorf("RequestResync in ALARM: %v, want ErrNoResync", err)
	}
}

// TestFlushWaitsForCommit: a flush of the external cache waits until a
// commit in progress (here: one holding the commit lock) is over; a flush
// of the internal cache does not.
func TestFlushWaitsForCommit(t *testing.T) {
	n := runFake(t, notrackConf).Node
	ctx := context.Background()
	n.commitMu.Lock()
	if err := n.FlushCaches(ctx, true, false); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.FlushCaches(ctx, false, true) }()
	select {
	case err := <-done:
		t.Fatalf("the external cache was flushed during a commit (%v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	n.commitMu.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
