//go:build linux

package node

import (
	"context"
	"strings"
	"testing"

	"ctq/internal/nstest"
	"ctq/sync/wire"
)

// TestPolling: a node in polling mode opens no event socket; its polls
// advertise a new entry and, once the kernel has dropped it, its end.
func TestPolling(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	n, l := runningNodeConf(t, ns, pollConf)
	if n.sub != nil {
		t.Fatal("a polling node subscribed to kernel events")
	}
	const dst = "198.51.100.42"
	var sent []wire.MsgType
	sentFor := func(typ wire.MsgType) func() bool {
		return func() bool {
			for _, d := range drain(l) {
				wire.Decode(d, func(m *wire.Message, err error) error {
					if err != nil {
						t.Fatalf("sent a bad message: %v", err)
					}
					if m.CT != nil && m.CT.Orig.Dst.String() == dst {
						sent = append(sent, m.Header.Type)
					}
					return nil
				})
			}
			for _, s := range sent {
				if s == typ {
					return true
				}
			}
			return false
		}
	}
	ns.Load(t, []string{"-I -t 600 -s 198.51.100.1 -d " + dst + " -p udp --sport 1 --dport 2"})
	nstest.WaitFor(t, "the new entry advertised by a poll", sentFor(wire.MsgCTNew))
	ns.Run(t, "conntrack", "-D", "-d", dst)
	nstest.WaitFor(t, "the end advertised by a poll", sentFor(wire.MsgCTDelete))
	st := nodeStats(t, n)
	if st.Polls < 2 || st.EventsReceived != 0 || st.KernelResyncs != 0 {
		t.Errorf("stats: %d polls, %d events, %d resyncs; want >= 2 polls, no events, no resyncs", st.Polls, st.EventsReceived, st.KernelResyncs)
	}
	held, err := inLoop(context.Background(), n, n.internal.Len)
	if err != nil || held != 0 {
		t.Errorf("the internal cache holds %d entries after the end (%v)", held, err)
	}

	// A commit needs no event socket either.
	fillExternal(t, n, 3)
	res, err := n.Commit(context.Background(), AllTables)
	if err != nil || res.Created != 3 {
		t.Errorf("commit in polling mode: %+v, %v", res, err)
	}
	if got := strings.Count(ns.Run(t, "conntrack", "-L", "-s", "198.18.0.0/16"), "\n"); got != 3 {
		t.Errorf("kernel after the commit holds %d of the 3 committed entries", got)
	}
}

// TestPollingInteropConntrackd: a ctq node in polling mode feeds a
// conntrackd backup: the flows its polls find reach conntrackd's external
// cache, those the kernel dropped leave it, and conntrackd counts no
// malformed message.
func TestPollingInteropConntrackd(t *testing.T) {
	nstest.RequireCommand(t, "conntrackd")
	p := newPairGeneral(t, modeNOTRACK, modeNOTRACK, false, "PollSecs 1")
	lines := bulkLines(50, 7)
	p.a.Load(t, lines)
	want := scan(t, p.liveA)
	nstest.WaitFor(t, "A's flows in conntrackd's external cache", func() bool {
		ext := p.externalB(t)
		for k := range want {
			if _, ok := ext[k]; !ok {
				return false
			}
		}
		return true
	})
	p.a.Run(t, "conntrack", "-D", "-s", "198.18.0.1")
	nstest.WaitFor(t, "the deleted flow gone from conntrackd's external cache", func() bool {
		return len(p.externalB(t)) == len(want)-1
	})
	for _, line := range strings.Split(p.ctl(t, "-s", "network"), "\n") {
		name, val, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if ok && counterRE.MatchString(name) && strings.TrimSpace(val) != "0" {
			t.Errorf("conntrackd -s network: %s: %s", name, strings.TrimSpace(val))
		}
	}
	if st := nodeStats(t, p.node); st.EventsReceived != 0 || st.Polls == 0 {
		t.Errorf("node stats: %d events, %d polls; want only polls", st.EventsReceived, st.Polls)
	}
}
