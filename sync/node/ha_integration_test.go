//go:build linux

package node

import (
	"context"
	"strings"
	"testing"

	"ctq/engine"
	"ctq/internal/nstest"
)

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
	nstest.Require(t)
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
