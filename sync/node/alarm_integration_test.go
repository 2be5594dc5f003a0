//go:build linux

package node

import (
	"context"
	"strings"
	"testing"

	"ctq/internal/nstest"
	"ctq/sync/cache"
)

// TestInteropConntrackdALARM runs ctq's node against conntrackd, both in
// ALARM over UDP: every flow arrives both ways, DEL travels, and a flushed
// external cache fills again from the periodic refreshes alone (ALARM has
// no resync).
func TestInteropConntrackdALARM(t *testing.T) {
	nstest.RequireCommand(t, "conntrackd")
	p := newPair(t, modeALARM, false)
	ctx := context.Background()

	t.Run("ctq to conntrackd", func(t *testing.T) {
		const n = 500
		insert(t, p, "a", specialA)
		p.a.Load(t, bulkLines(n, 0))
		kernelA := scan(t, p.liveA)
		arrived := func() bool {
			ext := p.externalB(t)
			for k, f := range kernelA {
				if mark, ok := ext[k]; !ok || mark != f.Mark {
					return false
				}
			}
			return true
		}
		nstest.WaitFor(t, "A's flows in B's external cache", arrived)

		p.a.Run(t, "conntrack", "-D", "-p", "udp", "-s", "198.51.100.10", "-d", "198.51.100.30", "-w", "5")
		nstest.WaitFor(t, "the destroy in B", func() bool {
			for k := range p.externalB(t) {
				if k.Sport == 5353 {
					return false
				}
			}
			return true
		})
		kernelA = scan(t, p.liveA)
		p.ctl(t, "-f", "external")
		nstest.WaitFor(t, "B's external cache refilled by refreshes", arrived)
	})

	t.Run("conntrackd to ctq", func(t *testing.T) {
		const n = 300
		before := scan(t, p.liveB)
		p.b.Load(t, bulkLines(n, 1))
		fromB := map[cache.Key]int{}
		for k, f := range scan(t, p.liveB) {
			if _, old := before[k]; !old {
				fromB[k] = f.Mark
			}
		}
		if len(fromB) != n {
			t.Fatalf("B's kernel has %d new entries, want %d", len(fromB), n)
		}
		arrived := func() bool {
			ext, err := p.node.External(ctx)
			if err != nil {
				t.Fatal(err)
			}
			have := 0
			for _, e := range ext {
				if mark, ok := fromB[e.Key]; ok && mark == e.Flow.Mark {
					have++
				}
			}
			return have == len(fromB)
		}
		nstest.WaitFor(t, "B's flows in ctq's external cache", arrived)
		if err := p.node.FlushCaches(ctx, false, true); err != nil {
			t.Fatal(err)
		}
		nstest.WaitFor(t, "ctq's external cache refilled by refreshes", arrived)
	})

	st, err := p.node.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("node stats: %+v", st)
	for k, v := range st.RecvErrors {
		if v != 0 {
			t.Errorf("ctq counted %d %v", v, k)
		}
	}
	if st.SentControl != 0 || st.RecvControl != 0 || st.SendErrors != 0 {
		t.Errorf("control messages sent %d, received %d; send errors %d", st.SentControl, st.RecvControl, st.SendErrors)
	}
	network := p.ctl(t, "-s", "network")
	for _, line := range strings.Split(network, "\n") {
		name, val, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		// ALARM resends carry new sequence numbers only: no gaps either.
		if ok && counterRE.MatchString(name) && strings.TrimSpace(val) != "0" {
			t.Errorf("conntrackd -s network: %s: %s", name, strings.TrimSpace(val))
		}
	}
}

// modeALARM is the Mode block of the ALARM interop test: short timers so
// that refreshes and expiry show within the test.
const modeALARM = "Mode ALARM {\n\t\tRefreshTime 2\n\t\tCacheTimeout 8\n\t}"
