//go:build linux

package node

import (
	"context"
	"fmt"
	"testing"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/internal/nstest"
	"ctq/sync/cache"
	"ctq/sync/config"
)

// runningNode runs a NOTRACK node on a namespace's table with a chanLink
// until the test ends.
func runningNode(tb testing.TB, ns *nstest.NS) (*Node, *chanLink) {
	tb.Helper()
	return runningNodeConf(tb, ns, notrackConf)
}

// runningNodeConf runs a node of configuration conf on a namespace's table
// with a chanLink until the test ends.
func runningNodeConf(tb testing.TB, ns *nstest.NS, conf string) (*Node, *chanLink) {
	tb.Helper()
	cfg, err := config.Parse("t.conf", []byte(conf))
	if err != nil {
		tb.Fatal(err)
	}
	live, err := ctnetlink.OpenLive(&ctnetlink.LiveConfig{NetNS: ns.Name()})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { live.Close() })
	l := newChanLink()
	n, err := New(cfg, Options{Kernel: live, Link: l})
	if err != nil {
		tb.Fatal(err)
	}
	runNode(tb, n, "under test")
	return n, l
}

// TestCommitReplaces commits into a table that holds some of the keys
// already (with another mark): those are replaced, the kernel ends with
// the external cache's version of every entry, the committed entries are
// in the internal cache, and none is advertised back.
func TestCommitReplaces(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	n, l := runningNode(t, ns)
	const count, held = 3000, 300
	var lines []string
	for i := 0; i < count; i += count / held {
		f := commitFlow(i)
		lines = append(lines, fmt.Sprintf("-I -t 100 -u ASSURED,SEEN_REPLY -p tcp --state ESTABLISHED -m 999 -s %v -d %v --sport %d --dport %d",
			f.Src, f.Dst, f.Sport, f.Dport))
	}
	ns.Load(t, lines)
	// The node advertises the loaded entries (their events) first.
	nstest.WaitFor(t, "the loaded entries in the internal cache", func() bool {
		internal, err := n.Internal(context.Background())
		return err == nil && len(internal) == held
	})
	fillExternal(t, n, count)
	drain(l)

	ctx := context.Background()
	res, err := n.Commit(ctx, AllTables)
	if err != nil {
		t.Fatal(err)
	}
	want := CommitResult{Entries: count, Created: count, Replaced: held}
	if res.Entries != want.Entries || res.Created != want.Created || res.Replaced != want.Replaced || res.Failed != 0 || len(res.Errors) != 0 {
		t.Errorf("commit: %+v, want %+v", res, want)
	}
	marks := map[cache.Key]int{}
	if _, err := n.kernel.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		marks[cache.KeyOf(f)] = f.Mark
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(marks) != count {
		t.Errorf("kernel holds %d entries, want %d", len(marks), count)
	}
	for i := range count {
		f := commitFlow(i)
		if m, ok := marks[cache.KeyOf(&f)]; !ok || m != i {
			t.Errorf("entry %d: in the kernel %v, mark %d", i, ok, m)
		}
	}
	internal, err := n.Internal(ctx) // after the loop's dump
	if err != nil {
		t.Fatal(err)
	}
	if len(internal) != count {
		t.Errorf("internal cache holds %d entries after the commit, want %d", len(internal), count)
	}
	if sent := dataMessages(t, drain(l)); sent != 0 {
		t.Errorf("%d entries advertised after the commit", sent)
	}
}
