//go:build linux

package node

import (
	"context"
	"testing"

	"ctq/engine"
	"ctq/internal/nstest"
)

// TestFilterKernel runs a node whose configuration filters (conntrackd.conf
// syntax) on a namespace's table: neither the start-up dump nor the events
// bring in what the filter leaves out.
func TestFilterKernel(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	ns.Load(t, []string{
		"-I -t 600 -s 198.51.100.99 -d 198.51.100.2 -p udp --sport 1 --dport 2",
		"-I -t 600 -s 198.51.100.1 -d 198.51.100.2 -p udp --sport 1 --dport 2",
	})
	n, l := runningNodeConf(t, ns, notrackConf+`
General {
	Filter From Kernelspace {
		Protocol Accept { TCP UDP }
		Address Ignore { IPv4_address 198.51.100.99 }
	}
}`)
	ctx := context.Background()
	internal, err := n.Internal(ctx)
	if err != nil || len(internal) != 1 || internal[0].Key.Src.String() != "198.51.100.1" {
		t.Fatalf("internal cache after start: %v, %v", internal, err)
	}
	// The start-up advertisement: the entry the filter passes.
	if m := l.next(t, 1, func() string { return "" })[0]; m.CT.Orig.Src.String() != "198.51.100.1" {
		t.Errorf("start-up advertisement of %v, want 198.51.100.1's entry", m.CT.Orig.Src)
	}
	ns.Load(t, []string{
		"-I -t 600 -s 198.51.100.99 -d 198.51.100.3 -p udp --sport 1 --dport 2",
		"-I -t 600 -s 198.51.100.1 -d 198.51.100.3 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 7",
		"-I -t 600 -s 198.51.100.1 -d 198.51.100.3 -p udp --sport 1 --dport 2",
	})
	m := l.next(t, 1, func() string { return "" })[0]
	var f engine.Flow
	m.CT.ToFlow(&f)
	if f.Src.String() != "198.51.100.1" || f.Dst.String() != "198.51.100.3" || f.Proto != "udp" {
		t.Errorf("first entry advertised: %s %v -> %v, want the UDP entry of 198.51.100.1", f.Proto, f.Src, f.Dst)
	}
	// The filtered entries' ends pass through the cache without a trace.
	ns.Run(t, "conntrack", "-D", "-s", "198.51.100.99")
	internal, err = n.Internal(ctx)
	if err != nil || len(internal) != 2 {
		t.Errorf("internal cache: %d entries (%v), want 2", len(internal), err)
	}
}
