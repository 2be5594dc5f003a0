package node

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"ctq/engine"
	"ctq/internal/nstest"
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

// kernelDsts lists the destinations of a namespace's entries.
func kernelDsts(t *testing.T, ns *nstest.NS) string {
	t.Helper()
	var dsts []string
	for _, line := range strings.Split(strings.TrimSpace(ns.Run(t, "conntrack", "-L")), "\n") {
		for _, f := range strings.Fields(line) {
			if d, ok := strings.CutPrefix(f, "dst="); ok {
				dsts = append(dsts, d)
				break
			}
		}
	}
	return strings.Join(dsts, " ")
}

func TestRefreshAndFlushKernel(t *testing.T) {
	ns := nstest.New(t)
	n, l := runningNodeConf(t, ns, haConf)
	ctx := context.Background()
	// Entries made with the node deaf to them (as if their events had been
	// lost): a refresh brings them in, silently.
	if err := n.sub.Leave(engine.EventNew | engine.EventDestroy); err != nil {
		t.Fatal(err)
	}
	ns.Load(t, []string{
		"-I -t 600 -s 198.51.100.1 -d 198.51.100.2 -p udp --sport 1 --dport 2",
		"-I -t 600 -s 198.51.100.99 -d 198.51.100.3 -p udp --sport 1 --dport 2",
	})
	if err := n.sub.Join(engine.EventNew | engine.EventDestroy); err != nil {
		t.Fatal(err)
	}
	if err := n.Refresh(ctx, AllTables); err != nil {
		t.Fatal(err)
	}
	internal, err := n.Internal(ctx)
	if err != nil || len(internal) != 1 || internal[0].Key.Dst.String() != "198.51.100.2" {
		t.Fatalf("internal cache after refresh: %v, %v", internal, err)
	}
	// FlushKernel deletes what the filter passes, without advertising.
	drain(l)
	deleted, err := n.FlushKernel(ctx, AllTables)
	if err != nil || deleted != 1 {
		t.Fatalf("FlushKernel: %d, %v; want 1 deleted", deleted, err)
	}
	if got := kernelDsts(t, ns); got != "198.51.100.3" {
		t.Errorf("kernel after FlushKernel: %q, want only the filtered-out entry", got)
	}
	if internal, err := n.Internal(ctx); err != nil || len(internal) != 0 {
		t.Errorf("internal cache after FlushKernel: %v, %v", internal, err)
	}
	if sent := dataMessages(t, drain(l)); sent != 0 {
		t.Errorf("FlushKernel advertised %d entries", sent)
	}
}

func TestPurge(t *testing.T) {
	ns := nstest.New(t)
	n, _ := runningNodeConf(t, ns, haConf)
	ctx := context.Background()
	ns.Load(t, []string{"-I -t 600 -s 198.51.100.1 -d 198.51.100.2 -p udp --sport 1 --dport 2"})
	// A commit cancels a pending purge.
	if err := n.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	fillExternal(t, n, 1)
	if _, err := n.Commit(ctx, AllTables); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond) // past PurgeTimeout
	if st, err := n.Stats(ctx); err != nil || st.Purges != 0 {
		t.Fatalf("purges after a commit cancelled it: %d, %v", st.Purges, err)
	}
	// A purge that runs flushes the kernel table; a second request while
	// it is pending leaves it as it is.
	pending := func() Timer {
		p, err := inLoop(ctx, n, func() Timer { return n.purge })
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := n.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	first := pending()
	if err := n.Purge(ctx); err != nil {
		t.Fatal(err)
	}
	if p := pending(); p == nil || p != first {
		t.Errorf("a second purge request replaced the pending purge")
	}
	nstest.WaitFor(t, "the purge", func() bool {
		st, err := n.Stats(ctx)
		return err == nil && st.Purges == 1
	})
	if pending() != nil {
		t.Error("the purge that ran is still pending")
	}
	if st, _ := n.Stats(ctx); st.PurgeErrors != 0 {
		t.Errorf("purge errors: %d", st.PurgeErrors)
	}
	if got := kernelDsts(t, ns); got != "" {
		t.Errorf("kernel after the purge: %q, want empty", got)
	}
}

// TestAlarmRefusesResync: ALARM has no resync request.
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
	n, _ := runningNode(t, nstest.New(t))
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
