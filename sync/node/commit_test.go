package node

import (
	"context"
	"fmt"
	"net/netip"
	"testing"

	"ctq/engine"
	"ctq/sync/cache"
)

// commitFlow is the i-th flow of a commit test: TCP from 198.18.0.0/16.
func commitFlow(i int) engine.Flow {
	f := flow(0)
	f.Src = netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
	f.Sport, f.Mark = 1024+i>>16, i
	return f
}

// fillExternal puts commitFlow(0..n-1) into the node's external cache.
func fillExternal(tb testing.TB, n *Node, count int) {
	tb.Helper()
	if err := n.do(context.Background(), func() {
		for i := range count {
			f := commitFlow(i)
			if _, err := n.external.Replace(&f); err != nil {
				tb.Error(err)
			}
		}
	}); err != nil {
		tb.Fatal(err)
	}
}

// commitConf is a NOTRACK node that syncs expectations.
const commitConf = `Sync {
	Mode NOTRACK { }
	Options { ExpectationSync on }
	UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
}`

// TestCommitFake commits into a fakeKernel that holds some of the keys
// already (with another mark): those are replaced, the table ends with
// the external cache's flows and expectations, written while the watches
// were out of the NEW group and back in it afterwards; the committed
// entries are then in the internal caches and none is advertised back.
func TestCommitFake(t *testing.T) {
	const count, held = 300, 30
	var old []engine.Flow
	for i := 0; i < count; i += count / held {
		f := commitFlow(i)
		f.Mark = 999
		old = append(old, f)
	}
	f := runFake(t, commitConf, old...)
	x := testExp("ftp", 5000)
	f.k.expectEvent(engine.EventNew, x)
	f.waitLoop(t, "the expectation in the internal cache", func() bool { return f.internalExp.Len() == 1 })
	fillExternal(t, f.Node, count)
	ctx := context.Background()
	if err := f.do(ctx, func() { f.externalExp.Replace(&x) }); err != nil {
		t.Fatal(err)
	}
	f.sent(t)

	res, err := f.Commit(ctx, AllTables)
	if err != nil {
		t.Fatal(err)
	}
	want := CommitResult{Entries: count, Created: count, Replaced: held, ExpectEntries: 1, ExpectCreated: 1, ExpectReplaced: 1}
	res.Duration = 0
	if fmt.Sprint(res) != fmt.Sprint(want) {
		t.Errorf("commit: %+v, want %+v", res, want)
	}
	if flows, exps := f.k.len(); flows != count || exps != 1 {
		t.Errorf("kernel holds %d flows and %d expectations, want %d and 1", flows, exps, count)
	}
	for i := range count {
		c := commitFlow(i)
		if g, ok := f.k.flow(c); !ok || g.Mark != i || g.Status&engine.StatusExpected != 0 {
			t.Errorf("flow %d: in the kernel %v, mark %d, status %v", i, ok, g.Mark, g.Status)
		}
	}
	all := engine.EventNew | engine.EventUpdate | engine.EventDestroy
	if loud := f.k.loudWrites(); loud != 0 || f.k.joined(engine.TableConntrack) != all || f.k.joined(engine.TableExpect) != all {
		t.Errorf("%d writes heard by the watches; groups afterwards %v and %v", loud, f.k.joined(engine.TableConntrack), f.k.joined(engine.TableExpect))
	}
	if msgs := f.sent(t); len(msgs) != 0 {
		t.Errorf("advertised after the commit: %s", sentSet(msgs))
	}
	internal, err := f.Internal(ctx)
	if err != nil || len(internal) != count {
		t.Errorf("internal cache holds %d entries after the commit (%v), want %d", len(internal), err, count)
	}
	if exps, err := f.InternalExpect(ctx); err != nil || len(exps) != 1 {
		t.Errorf("internal expectation cache holds %d after the commit (%v), want 1", len(exps), err)
	}
}

// TestCommitReplacesOneByOne commits over entries the kernel holds
// already while packets re-create some of them right after their delete:
// at no moment is more than one of them missing from the table (each
// delete is followed by its create), the re-created ones are replaced in
// a further round, and every entry ends as the external cache has it.
func TestCommitReplacesOneByOne(t *testing.T) {
	const count, recreated = 40, 5
	var old []engine.Flow
	for i := range count {
		f := commitFlow(i)
		f.Mark = 999
		old = append(old, f)
	}
	f := runFake(t, commitConf, old...)
	fillExternal(t, f.Node, count)
	var (
		worst   int // most held entries missing at once
		packets int
	)
	f.k.mu.Lock()
	f.k.afterDelete = func(flows map[cache.Key]engine.Flow, d *engine.Flow) {
		missing := 0
		for i := range count {
			c := commitFlow(i)
			if _, ok := flows[cache.KeyOf(&c)]; !ok {
				missing++
			}
		}
		worst = max(worst, missing)
		if packets < recreated { // a packet of the connection makes it anew
			packets++
			g := *d
			g.Mark = 777
			flows[cache.KeyOf(&g)] = g
		}
	}
	f.k.mu.Unlock()
	res, err := f.Commit(context.Background(), ConntrackTable)
	if err != nil {
		t.Fatal(err)
	}
	res.Duration = 0
	if want := (CommitResult{Entries: count, Created: count, Replaced: count + recreated}); fmt.Sprint(res) != fmt.Sprint(want) {
		t.Errorf("commit: %+v, want %+v", res, want)
	}
	if worst != 1 {
		t.Errorf("up to %d replaced entries were missing from the table at once, want 1", worst)
	}
	for i := range count {
		c := commitFlow(i)
		if g, ok := f.k.flow(c); !ok || g.Mark != i {
			t.Errorf("flow %d: in the kernel %v, mark %d, want %d", i, ok, g.Mark, i)
		}
	}
}
