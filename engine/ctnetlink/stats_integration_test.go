//go:build linux

package ctnetlink

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"ctq/internal/nstest"

	"ctq/engine"
)

// TestLiveStats compares Stats with conntrack -S (and -S expect) in a
// namespace: the same CPUs, counters and values, in the same order.
func TestLiveStats(t *testing.T) {
	ns := nstest.New(t)
	ns.Load(t, []string{
		"-A -t 100 -u SEEN_REPLY -s 198.18.0.1 -d 203.0.113.1 -p udp --sport 1 --dport 2",
		"-A -t 100 -u SEEN_REPLY -s 198.18.0.2 -d 203.0.113.1 -p udp --sport 1 --dport 2",
	})
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	for _, tc := range []struct {
		table engine.Table
		args  []string
	}{{engine.TableConntrack, []string{"-S"}}, {engine.TableExpect, []string{"-S", "expect"}}} {
		stats, err := l.Stats(context.Background(), tc.table)
		if err != nil {
			t.Fatal(err)
		}
		want := ns.Run(t, "conntrack", tc.args...)
		var got strings.Builder
		for i := range stats {
			s := &stats[i]
			fmt.Fprintf(&got, "cpu=%-4d\t", s.CPU)
			for _, c := range s.Counters {
				fmt.Fprintf(&got, "%s=%d ", c.Name, c.Value)
			}
			got.WriteByte('\n')
		}
		if got.String() != want {
			t.Errorf("%v statistics:\n got %q\nwant %q", tc.table, got.String(), want)
		}
	}
	if _, err := l.Stats(context.Background(), engine.TableDying); err == nil {
		t.Error("stats of the dying table: want an error")
	}
	if n, err := l.MaxEntries(); err != nil || n <= 0 {
		t.Errorf("MaxEntries = %d, %v", n, err)
	}
}
