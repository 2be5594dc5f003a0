//go:build linux

package node

import (
	"context"
	"testing"

	"ctq/engine"
	"ctq/internal/nstest"
	"ctq/sync/cache"
)

// TestDisableExternalCache runs ctq with DisableExternalCache on, fed by
// conntrackd: what conntrackd's side creates, changes and deletes is
// written straight into ctq's kernel table, nothing enters ctq's external
// cache, and the writes are not advertised back.
func TestDisableExternalCache(t *testing.T) {
	nstest.RequireCommand(t, "conntrackd")
	const modeInject = "Mode NOTRACK {\n\t\tDisableExternalCache on\n\t}"
	p := newPairModes(t, modeInject, modeNOTRACK, false)
	ctx := context.Background()
	before := scan(t, p.liveB)
	const n = 300
	p.b.Load(t, bulkLines(n, 7))
	fromB := map[cache.Key]engine.Flow{}
	for k, f := range scan(t, p.liveB) {
		if _, old := before[k]; !old {
			fromB[k] = f
		}
	}
	inA := func() int {
		kernelA := scan(t, p.liveA)
		have := 0
		for k := range fromB {
			if _, ok := kernelA[k]; ok {
				have++
			}
		}
		return have
	}
	nstest.WaitFor(t, "B's entries in A's kernel", func() bool { return inA() == n })
	sameFlows(t, "A's kernel", fromB, scan(t, p.liveA), statusCarried)

	// An update (a mark) and a delete follow.
	p.b.Run(t, "conntrack", "-U", "-s", "198.18.0.1", "-m", "42")
	nstest.WaitFor(t, "the new mark in A's kernel", func() bool {
		for _, f := range scan(t, p.liveA) {
			if f.Src.String() == "198.18.0.1" && f.Dst.String() == "198.19.7.1" {
				return f.Mark == 42
			}
		}
		return false
	})
	p.b.Run(t, "conntrack", "-D", "-s", "198.18.0.2")
	nstest.WaitFor(t, "the delete in A's kernel", func() bool { return inA() == n-1 })

	ext, err := p.node.External(ctx)
	if err != nil || len(ext) != 0 {
		t.Errorf("external cache: %d entries (%v), want none", len(ext), err)
	}
	st, err := p.node.Stats(ctx)
	if err != nil || st.InjectErrors != 0 || st.Injected < n+2 {
		t.Errorf("stats: injected %d, errors %d (%s), %v", st.Injected, st.InjectErrors, st.LastInjectError, err)
	}
	// None of the written entries went back to B: once an entry made in A
	// has reached B's external cache, none of B's own is there.
	insert(t, p, "a", []string{"-t 60 -p udp -s 198.51.100.77 -d 198.51.100.78 --sport 1 --dport 2"})
	var extB map[cache.Key]int
	nstest.WaitFor(t, "A's entry in B", func() bool {
		extB = p.externalB(t)
		for k := range extB {
			if k.Src.String() == "198.51.100.77" {
				return true
			}
		}
		return false
	})
	for k := range fromB {
		if _, ok := extB[k]; ok {
			t.Errorf("%v was advertised back to B", k)
		}
	}
}
