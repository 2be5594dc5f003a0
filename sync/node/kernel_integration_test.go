//go:build linux

package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"ctq/engine"
	"ctq/internal/nstest"
	"ctq/sync/config"
)

// TestKernelDumpAndEvents runs a node on a namespace's table: the start-up
// dump fills the internal cache silently, kernel events go out as CT NEW,
// UPD and DEL, and a resync dump advertises the table and purges what the
// kernel no longer has.
func TestKernelDumpAndEvents(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	ns.Load(t, []string{
		"-I -t 600 -u SEEN_REPLY,ASSURED -m 1 -s 198.51.100.1 -d 198.51.100.2 -p tcp --sport 1000 --dport 22 --state ESTABLISHED",
		"-I -t 600 -s 198.51.100.1 -d 198.51.100.3 -p udp --sport 1001 --dport 53",
	})
	cfg, err := config.Parse("k.conf", []byte(notrackConf))
	if err != nil {
		t.Fatal(err)
	}
	l := newChanLink()
	n, err := New(cfg, Options{Kernel: openLive(t, ns), Link: l})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if err := n.BulkSend(context.Background()); !errors.Is(err, ErrStopped) {
			t.Errorf("BulkSend after Run: %v", err)
		}
	}()
	internal, err := n.Internal(ctx)
	if err != nil || len(internal) != 2 {
		t.Fatalf("internal cache after start: %d entries, %v", len(internal), err)
	}
	diag := func() string {
		st, err := n.Stats(ctx)
		return fmt.Sprintf("node stats %+v %v; kernel:\n%s", st, err, ns.Run(t, "conntrack", "-L"))
	}
	// The start-up advertisement: both entries.
	var dsts []string
	for _, m := range l.next(t, 2, diag) {
		dsts = append(dsts, m.Header.Type.String()+" "+m.CT.Orig.Dst.String())
	}
	slices.Sort(dsts)
	if want := []string{"CT_NEW 198.51.100.2", "CT_NEW 198.51.100.3"}; !slices.Equal(dsts, want) {
		t.Errorf("start-up advertisement %v, want %v", dsts, want)
	}

	// Each change goes out as its message. The node subscribed before its
	// start-up dump (which Internal waited for).
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"-I", "-t", "60", "-s", "198.51.100.1", "-d", "198.51.100.4", "-p", "udp", "--sport", "1", "--dport", "2"}, "CT_NEW 198.51.100.4"},
		{[]string{"-U", "-s", "198.51.100.1", "-d", "198.51.100.4", "-p", "udp", "-m", "5"}, "CT_UPD 198.51.100.4 mark=5"},
		{[]string{"-I", "-t", "60", "-s", "198.51.100.1", "-d", "198.51.100.5", "-p", "udp", "--sport", "1", "--dport", "2"}, "CT_NEW 198.51.100.5"},
		{[]string{"-D", "-s", "198.51.100.1", "-d", "198.51.100.5", "-p", "udp"}, "CT_DEL 198.51.100.5"},
	}
	for _, st := range steps {
		ns.Run(t, "conntrack", st.args...)
		m := l.next(t, 1, diag)[0]
		var f engine.Flow
		m.CT.ToFlow(&f)
		got := m.Header.Type.String() + " " + f.Dst.String()
		if f.Mark != 0 {
			got += fmt.Sprintf(" mark=%d", f.Mark)
		}
		if got != st.want {
			t.Errorf("conntrack %v: sent %s, want %s", st.args, got, st.want)
		}
	}

	// A resync after an overrun: the table again, and a DEL for an entry
	// the cache has and the kernel does not (put in the cache here, as if
	// its destroy event had been lost).
	if err := n.do(ctx, func() {
		f := flow(9)
		n.internal.Replace(&f)
		if err := n.dump(ctx, true, false); err != nil {
			t.Error(err)
		}
	}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range l.next(t, 4, diag) {
		var f engine.Flow
		m.CT.ToFlow(&f)
		got = append(got, m.Header.Type.String()+" "+f.Dst.String())
	}
	counts := map[string]int{}
	for _, g := range got {
		counts[g]++
	}
	if counts["CT_UPD 198.51.100.2"] != 1 || counts["CT_UPD 198.51.100.3"] != 1 || counts["CT_UPD 198.51.100.4"] != 1 ||
		counts["CT_DEL 198.51.100.20"] != 1 {
		t.Errorf("resync sent %v", got)
	}
	internal, err = n.Internal(ctx)
	if err != nil || len(internal) != 3 {
		t.Errorf("internal cache after resync: %d entries, want 3 (%v)", len(internal), err)
	}
}
