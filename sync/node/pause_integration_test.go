//go:build linux

package node

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"ctq/internal/nstest"
)

// pauseMode is FTFW with a resend queue a burst of pauseFlows overflows
// many times over.
const pauseMode = "Mode FTFW {\n\t\tResendQueueSize 2048\n\t\tACKWindowSize 300\n\t}"

// pauseFlows is the size of the burst the peer misses.
const pauseFlows = 20000

// pauseBlock is the UDP link block of a node of TestPausedPeer.
func pauseBlock(iface, local, peer string) string {
	return fmt.Sprintf("UDP Default {\n\t\tIPv4_address %s\n\t\tIPv4_Destination_Address %s\n\t\tPort 3780\n\t\tInterface %s\n\t}",
		local, peer, iface)
}

// startStoppable starts a node as startNodeMode does and returns it with
// a function that stops it (and waits until Run returned); the test's end
// stops it too.
func startStoppable(t *testing.T, ns *nstest.NS, dir, side, iface, local, peer string) (*Node, func()) {
	t.Helper()
	logf := func(level slog.Level, msg string) { t.Logf("%s %s: %s", side, level, msg) }
	n, _ := newNodeMode(t, ns, dir, side, iface, local, peer, pauseMode, pauseBlock(iface, local, peer), logf)
	return n, runNode(t, n, side)
}

// TestPausedPeer: the backup misses a burst of pauseFlows flows, ten
// times the primary's resend queue, and its external cache still ends
// equal to the primary's internal cache:
//
//   - pause: the backup's loop stands still for 3 s (as under SIGSTOP) and
//     then goes on where it stopped;
//   - restart: the backup's node stops and starts again; its HELLO finds
//     the primary's resend queue full of what the old node never
//     acknowledged, which conntrackd would forget: the primary sends it
//     again (HelloResent) and then its whole internal cache (PeerRestarts).
func TestPausedPeer(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	for _, restart := range []bool{false, true} {
		name := "pause"
		if restart {
			name = "restart"
		}
		t.Run(name, func(t *testing.T) {
			nstest.Require(t)
			a, b := nstest.Joined(t, "ctqa", addrA, "ctqb", addrB)
			dir := t.TempDir()
			na, _ := startStoppable(t, a, dir, "a", "ctqa", addrA, addrB)
			nb, stopB := startStoppable(t, b, dir, "b", "ctqb", addrB, addrA)
			// A flow both know, and the handshake over: A has heard B
			// without HELLO (its ALIVE a second later).
			a.Load(t, burstLines(1))
			waitEqual(t, na, nb, 1, 60*time.Second)
			nstest.WaitFor(t, "B's handshake over", func() bool {
				synced, err := inLoop(context.Background(), na, func() bool { return na.ftfw.peerSynced })
				return err == nil && synced
			})

			resume := make(chan struct{})
			resumeB := sync.OnceFunc(func() { close(resume) })
			t.Cleanup(resumeB) // before B's stop: cleanups run last first
			if restart {
				stopB()
			} else {
				paused := make(chan struct{})
				go nb.do(context.Background(), func() {
					close(paused)
					<-resume
				})
				<-paused
			}
			lines := burstLines(pauseFlows + 1)
			a.Load(t, lines[1:])
			nstest.WaitFor(t, "the burst in A's internal cache", func() bool {
				st := nodeStats(t, na)
				return st.Internal.Active == pauseFlows+1
			})
			time.Sleep(3 * time.Second) // the backup misses A's probes and alives too
			if restart {
				nb, _ = startStoppable(t, b, dir, "b", "ctqb", addrB, addrA)
			} else {
				resumeB()
			}
			waitEqual(t, na, nb, pauseFlows+1, 120*time.Second)
			st := nodeStats(t, na)
			t.Logf("A: %d waited for the window, resend queue dropped %d, sent again after the peer's HELLO %d, peer restarts %d, repaired %d",
				st.WindowHeld, st.ResendDropped, st.HelloResent, st.PeerRestarts, st.Repaired)
			if restart && (st.PeerRestarts == 0 || st.HelloResent == 0) {
				t.Errorf("peer restarts %d, sent again after its HELLO %d; want both", st.PeerRestarts, st.HelloResent)
			}
			if st.WindowHeld == 0 {
				t.Errorf("the burst never filled the resend queue")
			}
		})
	}
}
