//go:build linux

package node

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/internal/nstest"
	"ctq/sync/cache"
)

// The expectation tests join their namespaces on 203.0.113.0/24: the FTP
// sessions of nstest.FTPExpectation use 192.0.2.1 on lo, which must not
// be a peer's address.
const (
	expAddrA = "203.0.113.1"
	expAddrB = "203.0.113.2"
)

// modeFTFWExpect is FTFW with expectation sync, for confText's mode slot
// (inside Sync).
const modeFTFWExpect = modeFTFW + "\n\tOptions {\n\t\tExpectationSync on\n\t}"

// startExpectNode runs a ctq node with modeFTFWExpect in ns over UDP until
// the test ends.
func startExpectNode(t *testing.T, ns *nstest.NS, dir, side, iface, local, peer string) (*Node, *ctnetlink.Live) {
	t.Helper()
	return startExpectNodeMode(t, ns, dir, side, iface, local, peer, modeFTFWExpect)
}

// startExpectNodeMode is startExpectNode with another mode slot.
func startExpectNodeMode(t *testing.T, ns *nstest.NS, dir, side, iface, local, peer, mode string) (*Node, *ctnetlink.Live) {
	t.Helper()
	return startNodeMode(t, ns, dir, side, iface, local, peer, mode, linkBlock(false, iface, local, peer), nil)
}

// expectPair is ctq's node in A and conntrackd in B, both with
// ExpectationSync on.
type expectPair struct {
	a, b         *nstest.NS
	confB        string
	node         *Node
	liveA, liveB *ctnetlink.Live
}

// newExpectPair builds an expectPair; everything goes when the test ends.
func newExpectPair(t *testing.T) *expectPair {
	t.Helper()
	return newExpectPairMode(t, modeFTFWExpect)
}

// newExpectPairMode is newExpectPair with ctq's node in another mode
// (conntrackd keeps modeFTFWExpect).
func newExpectPairMode(t *testing.T, modeA string) *expectPair {
	t.Helper()
	p := &expectPair{}
	p.a, p.b = nstest.Joined(t, "ctqa", expAddrA, "ctqb", expAddrB)
	dir := t.TempDir()
	p.confB = filepath.Join(dir, "b.conf")
	if err := os.WriteFile(p.confB, fmt.Appendf(nil, confText, dir, "b", "ctqb", expAddrB, expAddrA, modeFTFWExpect,
		linkBlock(false, "ctqb", expAddrB, expAddrA)), 0o600); err != nil {
		t.Fatal(err)
	}
	p.b.StartConntrackd(t, p.confB, filepath.Join(dir, "b.sock"), filepath.Join(dir, "b.log"))
	p.node, p.liveA = startExpectNodeMode(t, p.a, dir, "a", "ctqa", expAddrA, expAddrB, modeA)
	p.liveB = openLive(t, p.b)
	return p
}

// ctl runs a conntrackd client command against B's daemon.
func (p *expectPair) ctl(t *testing.T, args ...string) string {
	t.Helper()
	return p.b.Run(t, "conntrackd", append([]string{"-C", p.confB}, args...)...)
}

// ftpLine reports whether a line of `conntrackd -e expect` or `conntrack
// -L expect` is the expectation of an FTP session: its data port and its
// master's client port ("... dport=50000 ... master-src=192.0.2.1
// master-dst=192.0.2.1 sport=41234 dport=21 ...").
func ftpLine(line string, ftp nstest.FTP) bool {
	_, master, ok := strings.Cut(line, "master-src=")
	return ok && strings.Contains(line, fmt.Sprintf(" dport=%d ", ftp.DataPort)) &&
		strings.Contains(master, fmt.Sprintf(" sport=%d dport=21", ftp.Client.Port()))
}

// hasFTPLine reports whether some line of out is ftp's expectation.
func hasFTPLine(out string, ftp nstest.FTP) bool {
	for _, line := range strings.Split(out, "\n") {
		if ftpLine(line, ftp) {
			return true
		}
	}
	return false
}

// isFTP reports whether an expectation is that of an FTP session.
func isFTP(e *engine.Expect, ftp nstest.FTP) bool {
	return e.Dport == ftp.DataPort && e.MasterSport == int(ftp.Client.Port()) && e.MasterDport == 21 &&
		e.MasterSrc == ftp.Client.Addr() && e.Helper == "ftp"
}

// kernelHasFTP reports whether a kernel's expect table holds ftp's
// expectation.
func kernelHasFTP(t *testing.T, l *ctnetlink.Live, ftp nstest.FTP) bool {
	t.Helper()
	found := false
	if _, err := l.ScanExpect(context.Background(), func(e *engine.Expect) error {
		found = found || isFTP(e, ftp)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return found
}

// cacheHasFTP reports whether entries hold ftp's expectation.
func cacheHasFTP(entries []cache.ExpectEntry, ftp nstest.FTP) bool {
	for i := range entries {
		if isFTP(&entries[i].Expect, ftp) {
			return true
		}
	}
	return false
}

func TestExpectInteropConntrackd(t *testing.T) {
	nstest.RequireCommand(t, "conntrackd")
	ctx := context.Background()
	t.Run("ctq to conntrackd", func(t *testing.T) {
		p := newExpectPair(t)
		ftp := p.a.FTPExpectation(t, true)
		nstest.WaitFor(t, "the expectation in B's external cache", func() bool {
			return hasFTPLine(p.ctl(t, "-e", "expect"), ftp)
		})
		internal, err := p.node.InternalExpect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !cacheHasFTP(internal, ftp) {
			t.Errorf("ctq's internal expectation cache lacks it: %+v", internal)
		}
		// conntrackd -c commits the flows, then the expectations.
		p.ctl(t, "-c")
		if out := p.b.Run(t, "conntrack", "-L", "expect"); !hasFTPLine(out, ftp) || !kernelHasFTP(t, p.liveB, ftp) {
			t.Errorf("B's kernel after conntrackd -c lacks the expectation:\n%s", out)
		}
		// The destroy travels too.
		p.a.Run(t, "conntrack", "-F", "expect")
		nstest.WaitFor(t, "the expectation gone from B's external cache", func() bool {
			return !hasFTPLine(p.ctl(t, "-e", "expect"), ftp)
		})
		checkConntrackdClean(t, p)
	})

	t.Run("conntrackd to ctq", func(t *testing.T) {
		p := newExpectPair(t)
		ftp := p.b.FTPExpectation(t, false)
		if !hasFTPLine(p.ctl(t, "-i", "expect"), ftp) {
			t.Logf("conntrackd -i expect:\n%s", p.ctl(t, "-i", "expect"))
		}
		nstest.WaitFor(t, "the expectation in ctq's external cache", func() bool {
			ext, err := p.node.ExternalExpect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return cacheHasFTP(ext, ftp)
		})
		res, err := p.node.Commit(ctx, AllTables)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("commit: %+v", res)
		if res.ExpectEntries != 1 || res.ExpectCreated != 1 || res.ExpectFailed != 0 || res.Failed != 0 {
			t.Errorf("commit: %+v", res)
		}
		if !kernelHasFTP(t, p.liveA, ftp) {
			t.Errorf("A's kernel after ctq's commit lacks the expectation:\n%s", p.a.Run(t, "conntrack", "-L", "expect"))
		}
		// The committed expectation enters ctq's internal cache (the
		// re-read after the commit) without being advertised back.
		nstest.WaitFor(t, "the committed expectation in ctq's internal cache", func() bool {
			in, err := p.node.InternalExpect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return cacheHasFTP(in, ftp)
		})
		if hasFTPLine(p.ctl(t, "-e", "expect"), ftp) {
			t.Error("the committed expectation was advertised back to B")
		}
		// A second commit creates it again: replacing the master flow
		// removed it.
		res, err = p.node.Commit(ctx, AllTables)
		if err != nil || res.ExpectCreated != 1 || res.ExpectFailed != 0 || !kernelHasFTP(t, p.liveA, ftp) {
			t.Errorf("second commit: %+v, %v", res, err)
		}
		st, err := p.node.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.ExternalExpect.Active != 1 || st.RecvExpect == 0 {
			t.Errorf("stats: external expectations %+v, received %d", st.ExternalExpect, st.RecvExpect)
		}
		checkConntrackdClean(t, p)
	})
}

// checkConntrackdClean checks that conntrackd rejected nothing ctq sent.
func checkConntrackdClean(t *testing.T, p *expectPair) {
	t.Helper()
	for _, line := range strings.Split(p.ctl(t, "-s", "network"), "\n") {
		name, val, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if ok && counterRE.MatchString(name) && !strings.HasPrefix(name, "Packets") && strings.TrimSpace(val) != "0" {
			t.Errorf("conntrackd -s network: %s: %s", name, strings.TrimSpace(val))
		}
	}
}

func TestExpectPairCtq(t *testing.T) {
	nstest.Require(t)
	ctx := context.Background()
	a, b := nstest.Joined(t, "ctqa", expAddrA, "ctqb", expAddrB)
	dir := t.TempDir()
	na, _ := startExpectNode(t, a, dir, "a", "ctqa", expAddrA, expAddrB)
	nb, liveB := startExpectNode(t, b, dir, "b", "ctqb", expAddrB, expAddrA)

	ftp := a.FTPExpectation(t, true)
	external := func() []cache.ExpectEntry {
		ext, err := nb.ExternalExpect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return ext
	}
	nstest.WaitFor(t, "the expectation in B's external cache", func() bool { return cacheHasFTP(external(), ftp) })

	// B asks again after losing its external cache: the bulk send has it.
	// (A may still be sending what it advertised at its start, which can
	// fill the cache again right after a flush: flush until it is empty.)
	nstest.WaitFor(t, "B's external cache emptied by a flush", func() bool {
		if err := nb.FlushCaches(ctx, false, true); err != nil {
			t.Fatal(err)
		}
		return len(external()) == 0
	})
	if err := nb.RequestResync(ctx); err != nil {
		t.Fatal(err)
	}
	nstest.WaitFor(t, "the expectation back in B's external cache", func() bool { return cacheHasFTP(external(), ftp) })

	// -c ct, then -c expect: the flows (the master among them), then the
	// expectation.
	res, err := nb.Commit(ctx, ConntrackTable)
	if err != nil {
		t.Fatal(err)
	}
	if res.Entries == 0 || res.Failed != 0 || res.ExpectEntries != 0 || kernelHasFTP(t, liveB, ftp) {
		t.Errorf("commit of the conntrack table: %+v", res)
	}
	res, err = nb.Commit(ctx, ExpectTable)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("commit: %+v", res)
	if res.Entries != 0 || res.ExpectCreated != 1 || res.ExpectFailed != 0 {
		t.Errorf("commit of the expect table: %+v", res)
	}
	if out := b.Run(t, "conntrack", "-L", "expect"); !hasFTPLine(out, ftp) || !kernelHasFTP(t, liveB, ftp) {
		t.Errorf("B's kernel after the commit lacks the expectation:\n%s", out)
	}

	// Every expectation sent gets acknowledged.
	nstest.WaitFor(t, "empty resend queues", func() bool {
		return nodeStats(t, na).ResendObjects == 0 && nodeStats(t, nb).ResendObjects == 0
	})
	sa := nodeStats(t, na)
	if sa.InternalExpect.Active != 1 || sa.SendErrors != 0 {
		t.Errorf("A's stats: internal expectations %+v, send errors %d", sa.InternalExpect, sa.SendErrors)
	}

	// -f internal, then -R expect: A's internal cache is read again.
	internal := func(n *Node) []cache.ExpectEntry {
		in, err := n.InternalExpect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return in
	}
	if err := na.FlushCaches(ctx, true, false); err != nil {
		t.Fatal(err)
	}
	if len(internal(na)) != 0 {
		t.Fatal("flush kept internal expectations")
	}
	// An expectation the kernel does not have (as if its destroy event had
	// been lost) leaves the cache at the refresh.
	stale := testExp("ftp", 2)
	if err := na.do(ctx, func() { na.internalExp.Replace(&stale) }); err != nil {
		t.Fatal(err)
	}
	if err := na.Refresh(ctx, ExpectTable); err != nil {
		t.Fatal(err)
	}
	if got := internal(na); !cacheHasFTP(got, ftp) || len(got) != 1 {
		t.Errorf("after RefreshExpect A's internal cache should hold the expectation alone: %+v", got)
	}

	// -F expect in B empties its kernel's expect table and its internal
	// expectation cache (the committed one entered it).
	nstest.WaitFor(t, "the committed expectation in B's internal cache", func() bool { return cacheHasFTP(internal(nb), ftp) })
	if n, err := nb.FlushKernel(ctx, ExpectTable); err != nil || n != -1 {
		t.Errorf("FlushKernelExpect: %d, %v", n, err)
	}
	if kernelHasFTP(t, liveB, ftp) || len(internal(nb)) != 0 {
		t.Errorf("after FlushKernelExpect: B's kernel has it %v, internal cache %+v", kernelHasFTP(t, liveB, ftp), internal(nb))
	}
}
