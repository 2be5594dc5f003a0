//go:build linux

package node

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"ctq/engine"
	"ctq/internal/nstest"
	"ctq/sync/cache"
)

// specialA are entries of every kind ctq sends to conntrackd (conntrack -I
// arguments).
var specialA = []string{
	"-t 600 -u ASSURED,SEEN_REPLY -m 7 -p tcp --state ESTABLISHED -s 198.51.100.10 -d 198.51.100.20 --sport 40000 --dport 22",
	"-t 120 -p udp -s 198.51.100.10 -d 198.51.100.30 --sport 5353 --dport 53 -w 5",
	"-t 30 -p icmp -s 198.51.100.10 -d 198.51.100.40 --icmp-type 8 --icmp-code 0 --icmp-id 4660",
	"-t 300 -u ASSURED,SEEN_REPLY -p tcp --state ESTABLISHED -s 198.51.100.14 -d 198.51.100.24 --sport 42000 --dport 443 --src-nat 198.51.100.200:61001",
	"-t 300 -p tcp --state SYN_SENT -s 2001:db8::1 -d 2001:db8::2 --sport 1000 --dport 80 --dst-nat [2001:db8::99]:8080",
}

// bulkLines are n TCP entries with distinct tuples from 198.18.0.0/15.
func bulkLines(n int, third int) []string {
	lines := make([]string, n)
	for i := range n {
		lines[i] = fmt.Sprintf("-I -t 600 -u ASSURED,SEEN_REPLY -p tcp --state ESTABLISHED -s 198.18.%d.%d -d 198.19.%d.1 --sport %d --dport 22",
			i/250, i%250+1, third, 10000+i)
	}
	return lines
}

// insert adds entries with conntrack -I arguments to a namespace.
func insert(t *testing.T, p *pair, ns string, args []string) {
	t.Helper()
	lines := make([]string, len(args))
	for i, a := range args {
		lines[i] = "-I " + a
	}
	if ns == "a" {
		p.a.Load(t, lines)
	} else {
		p.b.Load(t, lines)
	}
}

// statusCarried are the status bits the comparisons check: both
// conntrackd's commit and ctq's (engine's Batch.Create) send CTA_NAT_SRC
// and CTA_NAT_DST for a translated entry, so the kernel sets the NAT bits.
const statusCarried = engine.StatusSeenReply | engine.StatusAssured | engine.StatusSrcNAT | engine.StatusDstNAT

// sameFlows checks that every flow of want (by key) is in got with the
// same summary.
func sameFlows(t *testing.T, what string, want, got map[cache.Key]engine.Flow, carried engine.Status) {
	t.Helper()
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("%s: %v missing", what, k)
			continue
		}
		if sw, sg := summary(&w, carried), summary(&g, carried); sw != sg {
			t.Errorf("%s: %v\n got %s\nwant %s", what, k, sg, sw)
		}
	}
}

func TestInteropConntrackd(t *testing.T) {
	nstest.RequireCommand(t, "conntrackd")
	for _, mode := range []struct {
		name, block string
		mcast, ftfw bool
	}{
		{"NOTRACK", modeNOTRACK, false, false},
		{"FTFW", modeFTFW, false, true},
		{"FTFW multicast", modeFTFW, true, true},
	} {
		t.Run(mode.name, func(t *testing.T) {
			p := newPair(t, mode.block, mode.mcast)
			interop(t, p, mode.ftfw)
			if mode.ftfw {
				t.Run("loss", func(t *testing.T) { lossy(t, p) })
			}
		})
	}
}

// lossy drops one datagram in 20 on both sides and checks that FTFW
// recovers everything with NACKs and resends.
func lossy(t *testing.T, p *pair) {
	ctx := context.Background()
	for _, ns := range []*nstest.NS{p.a, p.b} {
		ns.Run(t, "nft", "add table inet ctqloss")
		ns.Run(t, "nft", "add chain inet ctqloss in { type filter hook input priority 0 ; }")
		ns.Run(t, "nft", "add rule inet ctqloss in udp dport 3780 numgen random mod 20 == 0 counter drop")
	}
	before, err := p.node.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	const n = 2000
	p.a.Load(t, bulkLines(n, 2))
	p.b.Load(t, bulkLines(n, 3))
	inserted := time.Now()
	kernelA, kernelB := scan(t, p.liveA), scan(t, p.liveB)
	nstest.WaitFor(t, "B's external cache", func() bool {
		ext := p.externalB(t)
		for k := range kernelA {
			if k.Dst.String() == "198.19.2.1" {
				if _, ok := ext[k]; !ok {
					return false
				}
			}
		}
		return true
	})
	nstest.WaitFor(t, "ctq's external cache", func() bool {
		ext, err := p.node.External(ctx)
		if err != nil {
			t.Fatal(err)
		}
		have := 0
		for _, e := range ext {
			if _, ok := kernelB[e.Key]; ok && e.Key.Dst.String() == "198.19.3.1" {
				have++
			}
		}
		return have == n
	})
	t.Logf("%d entries each way with 5%% loss: complete %v after the inserts", n, time.Since(inserted))
	after, err := p.node.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dropped := 0
	for _, ns := range []*nstest.NS{p.a, p.b} {
		out := ns.Run(t, "nft", "list table inet ctqloss")
		var pk int
		if i := strings.Index(out, "counter packets "); i >= 0 {
			fmt.Sscanf(out[i+len("counter packets "):], "%d", &pk)
		}
		dropped += pk
	}
	t.Logf("datagrams dropped: %d; ctq saw %d lost (conntrackd's count), data messages sent beyond one per new entry (resends): %d",
		dropped, after.SeqLost-before.SeqLost, after.SentData-before.SentData-n)
	if dropped == 0 || after.SeqLost == before.SeqLost {
		t.Errorf("no loss happened (dropped %d): the test proved nothing", dropped)
	}
}

// interop replicates both ways between ctq and conntrackd, commits on both
// sides, and resyncs both ways.
func interop(t *testing.T, p *pair, ftfw bool) {
	ctx := context.Background()

	t.Run("ctq to conntrackd", func(t *testing.T) {
		const n = 2000
		start := time.Now()
		insert(t, p, "a", specialA)
		p.a.Load(t, bulkLines(n, 0))
		inserted := time.Now()
		var ext map[cache.Key]int
		nstest.WaitFor(t, "B's external cache", func() bool {
			ext = p.externalB(t)
			return len(ext) >= n+len(specialA)
		})
		t.Logf("%d entries: inserted into A in %v, in B's external cache %v after the last insert",
			n+len(specialA), inserted.Sub(start), time.Since(inserted))
		kernelA := scan(t, p.liveA)
		if len(ext) != len(kernelA) {
			t.Errorf("B's external cache has %d entries, A's kernel %d", len(ext), len(kernelA))
		}
		for k, f := range kernelA {
			if mark, ok := ext[k]; !ok || mark != f.Mark {
				t.Errorf("%v: in B's external cache %v with mark %d, want mark %d", k, ok, mark, f.Mark)
			}
		}

		// UPDATE and DESTROY travel too.
		p.a.Run(t, "conntrack", "-U", "-p", "tcp", "-s", "198.51.100.10", "-d", "198.51.100.20", "--sport", "40000", "-m", "9")
		p.a.Run(t, "conntrack", "-D", "-p", "udp", "-s", "198.51.100.10", "-d", "198.51.100.30", "-w", "5")
		var tcpKey, udpKey cache.Key
		for k := range kernelA {
			switch {
			case k.Sport == 40000:
				tcpKey = k
			case k.Sport == 5353:
				udpKey = k
			}
		}
		nstest.WaitFor(t, "the update and the destroy in B", func() bool {
			ext = p.externalB(t)
			_, udp := ext[udpKey]
			return ext[tcpKey] == 9 && !udp
		})

		// Commit in B and compare both kernel tables.
		p.ctl(t, "-c")
		kernelA = scan(t, p.liveA)
		kernelB := scan(t, p.liveB)
		if len(kernelB) != len(kernelA) {
			t.Errorf("B's kernel has %d entries after commit, A's %d", len(kernelB), len(kernelA))
		}
		sameFlows(t, "B's kernel after conntrackd -c", kernelA, kernelB, statusCarried)
	})

	t.Run("conntrackd to ctq", func(t *testing.T) {
		specialB := []string{
			"-t 600 -u ASSURED,SEEN_REPLY -m 3 -p tcp --state ESTABLISHED -s 203.0.113.10 -d 203.0.113.20 --sport 41000 --dport 80",
			"-t 120 -p udp -s 203.0.113.10 -d 203.0.113.30 --sport 5000 --dport 53 -w 7",
			"-t 300 -u ASSURED,SEEN_REPLY -p tcp --state ESTABLISHED -s 203.0.113.14 -d 203.0.113.24 --sport 42000 --dport 443 --dst-nat 203.0.113.99:8443",
		}
		before := scan(t, p.liveB)
		insert(t, p, "b", specialB)
		const n = 1000
		p.b.Load(t, bulkLines(n, 1))
		inserted := time.Now()
		fromB := map[cache.Key]engine.Flow{}
		for k, f := range scan(t, p.liveB) {
			if _, old := before[k]; !old {
				fromB[k] = f
			}
		}
		if len(fromB) != n+len(specialB) {
			t.Fatalf("B's kernel has %d new entries, want %d", len(fromB), n+len(specialB))
		}
		nstest.WaitFor(t, "ctq's external cache", func() bool {
			ext, err := p.node.External(ctx)
			if err != nil {
				t.Fatal(err)
			}
			have := 0
			for _, e := range ext {
				if _, ok := fromB[e.Key]; ok {
					have++
				}
			}
			return have == len(fromB)
		})
		t.Logf("%d entries in ctq's external cache %v after the last insert into B", len(fromB), time.Since(inserted))

		res, err := p.node.Commit(ctx, AllTables)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("commit: %+v", res)
		if res.Failed != 0 || res.Created != res.Entries {
			t.Errorf("commit: %+v", res)
		}
		sameFlows(t, "A's kernel after ctq's commit", fromB, scan(t, p.liveA), statusCarried)

		// The commit's kernel events are not advertised back: once a
		// later entry of A has reached B, none of the committed ones has.
		insert(t, p, "a", []string{"-t 60 -p udp -s 198.51.100.77 -d 198.51.100.78 --sport 1 --dport 2"})
		var ext map[cache.Key]int
		nstest.WaitFor(t, "the sentinel in B", func() bool {
			ext = p.externalB(t)
			for k := range ext {
				if k.Src.String() == "198.51.100.77" {
					return true
				}
			}
			return false
		})
		for k := range fromB {
			if _, ok := ext[k]; ok {
				t.Errorf("%v was advertised back to B after the commit", k)
			}
		}
		// ... but they are in ctq's internal cache, and their later
		// changes are advertised: the kernel gave them event records.
		internal, err := p.node.Internal(ctx)
		if err != nil {
			t.Fatal(err)
		}
		inInternal := 0
		for _, e := range internal {
			if _, ok := fromB[e.Key]; ok {
				inInternal++
			}
		}
		if inInternal != len(fromB) {
			t.Errorf("ctq's internal cache holds %d of the %d committed entries", inInternal, len(fromB))
		}
		p.a.Run(t, "conntrack", "-U", "-p", "tcp", "-s", "203.0.113.10", "--sport", "41000", "-m", "44")
		nstest.WaitFor(t, "the committed entry's update in B", func() bool {
			for k, mark := range p.externalB(t) {
				if k.Src.String() == "203.0.113.10" && k.Sport == 41000 {
					return mark == 44
				}
			}
			return false
		})
	})

	t.Run("resync", func(t *testing.T) {
		// conntrackd -n asks ctq for a bulk send.
		internal, err := p.node.Internal(ctx)
		if err != nil {
			t.Fatal(err)
		}
		p.ctl(t, "-f", "external")
		p.ctl(t, "-n")
		nstest.WaitFor(t, "B's external cache refilled", func() bool {
			return len(p.externalB(t)) == len(internal)
		})
		ext := p.externalB(t)
		for _, e := range internal {
			if mark, ok := ext[e.Key]; !ok || mark != e.Flow.Mark {
				t.Errorf("%v: after resync in B %v mark %d, want %d", e.Key, ok, mark, e.Flow.Mark)
			}
		}

		// ctq asks conntrackd for a bulk send.
		if err := p.node.FlushCaches(ctx, false, true); err != nil {
			t.Fatal(err)
		}
		if err := p.node.RequestResync(ctx); err != nil {
			t.Fatal(err)
		}
		lines := strings.Count(p.ctl(t, "-i"), "\n")
		nstest.WaitFor(t, "ctq's external cache refilled", func() bool {
			ext, err := p.node.External(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return len(ext) == lines
		})
	})

	if ftfw {
		// Every flow sent both ways gets acknowledged (the idle pair's
		// ACKs of ACKs come and go).
		nstest.WaitFor(t, "no flow in the resend queues", func() bool {
			st, err := p.node.Stats(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return st.ResendObjects == 0 && !strings.Contains(p.ctl(t, "-s", "rsqueue"), "object")
		})
	}
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
	if st.ResyncsAnswered != 1 || st.SendErrors != 0 {
		t.Errorf("resyncs answered %d, send errors %d", st.ResyncsAnswered, st.SendErrors)
	}
	// conntrackd rejected nothing ctq sent and saw no sequence gap.
	network := p.ctl(t, "-s", "network")
	checked := 0
	for _, line := range strings.Split(network, "\n") {
		name, val, ok := strings.Cut(line, ":")
		name = strings.TrimSpace(name)
		if !ok || !counterRE.MatchString(name) {
			continue
		}
		checked++
		if strings.TrimSpace(val) != "0" {
			t.Errorf("conntrackd -s network: %s: %s", name, strings.TrimSpace(val))
		}
	}
	if checked != 10 {
		t.Errorf("found %d error counters in conntrackd -s network, want 10:\n%s", checked, network)
	}
}

// counterRE matches the error and sequence counters of `conntrackd -s
// network`.
var counterRE = regexp.MustCompile(`^(Malformed|Wrong|Bad|Truncated|Packets (lost|before))`)
