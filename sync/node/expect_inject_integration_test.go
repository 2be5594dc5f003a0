//go:build linux

package node

import (
	"context"
	"strings"
	"testing"

	"ctq/internal/nstest"
)

// modeFTFWInjectExpect is FTFW with DisableExternalCache and expectation
// sync, for confText's mode slot.
const modeFTFWInjectExpect = "Mode FTFW {\n\t\tDisableExternalCache on\n\t}\n\tOptions {\n\t\tExpectationSync on\n\t}"

// TestExpectDisableExternalCache runs ctq with DisableExternalCache and
// ExpectationSync on, fed by conntrackd: the expectation of an FTP session
// in conntrackd's namespace is written straight into ctq's kernel with its
// master, without a commit, is not advertised back, and goes when
// conntrackd's side flushes its expectations.
func TestExpectDisableExternalCache(t *testing.T) {
	nstest.RequireCommand(t, "conntrackd")
	ctx := context.Background()
	p := newExpectPairMode(t, modeFTFWInjectExpect)
	ftp := p.b.FTPExpectation(t, false)
	nstest.WaitFor(t, "the expectation in A's kernel", func() bool { return kernelHasFTP(t, p.liveA, ftp) })
	if out := p.a.Run(t, "conntrack", "-L", "expect"); !hasFTPLine(out, ftp) {
		t.Errorf("conntrack -L expect in A lacks it:\n%s", out)
	}
	ext, err := p.node.ExternalExpect(ctx)
	if err != nil || len(ext) != 0 {
		t.Errorf("external expectation cache: %+v (%v), want empty", ext, err)
	}
	st := nodeStats(t, p.node)
	if st.InjectErrors != 0 || st.Injected < 2 || st.RecvExpect == 0 {
		t.Errorf("stats: injected %d, errors %d (%s), expectations received %d",
			st.Injected, st.InjectErrors, st.LastInjectError, st.RecvExpect)
	}

	// Not advertised back: once an entry made in A afterwards has reached
	// conntrackd's external cache, the written expectation is not there.
	// (An FTP session of A's own would clash with the written
	// expectation: the same expected tuple.)
	p.a.Run(t, "conntrack", "-I", "-t", "60", "-p", "udp", "-s", "198.51.100.77", "-d", "198.51.100.78",
		"--sport", "1", "--dport", "2")
	nstest.WaitFor(t, "A's entry in B's external cache", func() bool {
		return strings.Contains(p.ctl(t, "-e"), "src=198.51.100.77 ")
	})
	if extB := p.ctl(t, "-e", "expect"); hasFTPLine(extB, ftp) {
		t.Errorf("the written expectation was advertised back to B:\n%s", extB)
	}

	// The destroy is written too.
	p.b.Run(t, "conntrack", "-F", "expect")
	nstest.WaitFor(t, "the expectation gone from A's kernel", func() bool { return !kernelHasFTP(t, p.liveA, ftp) })
	if st := nodeStats(t, p.node); st.InjectErrors != 0 {
		t.Errorf("stats after the delete: %d errors (%s)", st.InjectErrors, st.LastInjectError)
	}
	checkConntrackdClean(t, p)
}
