//go:build linux

package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ctq/engine"
	"ctq/internal/nstest"
	"ctq/sync/config"
	"ctq/sync/link"
)

// tcpPort is the port of both TCP servers.
const tcpPort = "3780"

// tcpLinkBlock is a side's TCP block: its server listens on local, its
// client connects to peer.
func tcpLinkBlock(iface, local, peer string) string {
	return fmt.Sprintf(`TCP Default {
		IPv4_address %s
		IPv4_Destination_Address %s
		Port %s
		Interface %s
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}`, local, peer, tcpPort, iface)
}

// newTCPPair builds the bench of the interop tests over TCP, both nodes in
// mode (a Mode block); everything goes when the test ends.
//
// ctq's link opens first, so that its server listens when conntrackd's
// client makes its first connection at start: conntrackd connects again
// only when it has something to send, at most once a second, and loses
// the message that found the connection down. ctq's node starts once both
// connections are established, so that none of its sends (FTFW's alive
// messages) finds its own connection down either.
func newTCPPair(t *testing.T, mode string) *pair {
	t.Helper()
	p := &pair{}
	p.a, p.b = nstest.Joined(t, "ctqa", addrA, "ctqb", addrB)
	dir := t.TempDir()

	cfg, err := config.Parse("a.conf", fmt.Appendf(nil, confText, dir, "a", "ctqa", addrA, addrB, mode,
		tcpLinkBlock("ctqa", addrA, addrB)))
	if err != nil {
		t.Fatal(err)
	}
	var l link.Link
	if err := p.a.Do(func() error {
		var err error
		l, err = link.Open(&cfg.Sync.Links[0], cfg.Sync.ErrorQueueLength)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	running := false // Run closes the link
	t.Cleanup(func() {
		if !running {
			l.Close()
		}
	})

	p.confB = filepath.Join(dir, "b.conf")
	if err := os.WriteFile(p.confB, fmt.Appendf(nil, confText, dir, "b", "ctqb", addrB, addrA, mode,
		tcpLinkBlock("ctqb", addrB, addrA)), 0o600); err != nil {
		t.Fatal(err)
	}
	p.b.StartConntrackd(t, p.confB, filepath.Join(dir, "b.sock"), filepath.Join(dir, "b.log"))
	nstest.WaitFor(t, "both TCP connections established", func() bool {
		in, out := tcpConnections(t, p.a)
		return in && out
	})

	p.liveA = openLive(t, p.a)
	p.liveB = openLive(t, p.b)
	p.node, err = New(cfg, Options{Kernel: p.liveA, Link: l})
	if err != nil {
		t.Fatal(err)
	}
	running = true
	runNode(t, p.node, "a")
	return p
}

// tcpConnections reports, from `ss` in ns (A's side), whether the peer's
// client is connected to this side's server (in) and this side's client
// to the peer's server (out).
func tcpConnections(t *testing.T, ns *nstest.NS) (in, out bool) {
	t.Helper()
	for _, line := range strings.Split(ns.Run(t, "ss", "-Htn", "state", "established"), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		local, peer := f[2], f[3]
		in = in || (local == addrA+":"+tcpPort && strings.HasPrefix(peer, addrB+":"))
		out = out || (peer == addrB+":"+tcpPort && strings.HasPrefix(local, addrA+":"))
	}
	return in, out
}

// TestInteropConntrackdTCP runs the interop of TestInteropConntrackd over
// a TCP link: NOTRACK, the mode the manual recommends TCP for (TCP gives
// it the reliability it lacks), and FTFW. Flows created in ctq's
// namespace reach conntrackd's external cache and flows created in
// conntrackd's namespace reach ctq's; both commit them; both resync.
func TestInteropConntrackdTCP(t *testing.T) {
	nstest.RequireCommand(t, "conntrackd")
	for _, mode := range []struct {
		name, block string
		ftfw        bool
	}{
		{"NOTRACK", modeNOTRACK, false},
		{"FTFW", modeFTFW, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			p := newTCPPair(t, mode.block)
			interop(t, p, mode.ftfw)
			sameNAT(t, p)
			// Neither side lost its connection on the way.
			if in, out := tcpConnections(t, p.a); !in || !out {
				t.Errorf("after the exchange: peer's connection in %v, ours out %v", in, out)
			}
		})
	}
}

// sameNAT checks the translated flows after the commits on both sides:
// conntrackd's commit in B of A's flows and ctq's commit in A of B's
// flows set up NAT as on the side they come from (IPS_SRC_NAT,
// IPS_DST_NAT), with the same tuples.
func sameNAT(t *testing.T, p *pair) {
	t.Helper()
	kernelA, kernelB := scan(t, p.liveA), scan(t, p.liveB)
	nat := 0
	for k, fb := range kernelB {
		if fb.Status&(engine.StatusSrcNAT|engine.StatusDstNAT) == 0 {
			continue
		}
		nat++
		fa, ok := kernelA[k]
		if !ok {
			t.Errorf("%v: translated in B, missing in A", k)
			continue
		}
		if sa, sb := summary(&fa, statusCarried), summary(&fb, statusCarried); sa != sb {
			t.Errorf("%v:\nin A %s\nin B %s", k, sa, sb)
		}
	}
	// specialA's two and specialB's one.
	if nat != 3 {
		t.Errorf("B's kernel holds %d translated flows, want 3", nat)
	}
}
