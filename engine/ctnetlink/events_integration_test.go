//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"ctq/internal/nstest"

	"ctq/engine"
)

// These tests watch the events of a network namespace of their own (root
// required; they fail, not skip, without it).

// waitLimit bounds every wait for the kernel or a helper process; reaching
// it fails the test (it is not a measurement).
const waitLimit = 60 * time.Second

// seenEvent is a copy of an event.
type seenEvent struct {
	Type   engine.EventType
	PortID uint32
	Flow   engine.Flow
	Expect engine.Expect
}

func copyEvent(ev *engine.Event) seenEvent {
	c := seenEvent{Type: ev.Type, PortID: ev.PortID}
	if ev.Flow != nil {
		c.Flow = *ev.Flow
	}
	if ev.Expect != nil {
		c.Expect = *ev.Expect
	}
	return c
}

// watchRun is a watch running in the background.
type watchRun struct {
	cancel context.CancelFunc
	done   chan struct{}
	st     engine.WatchStats
	err    error

	mu     sync.Mutex
	events []seenEvent
	cond   *sync.Cond
}

// startWatch opens a watch for cfg with a receive buffer of readBuffer
// bytes (it is subscribed when startWatch returns) and runs it in the
// background; keep selects the events to remember (nil: all).
func startWatch(t *testing.T, l *Live, cfg engine.WatchConfig, readBuffer int, keep func(*engine.Event) bool) (*watchRun, int) {
	t.Helper()
	c, granted, err := l.openWatch(&cfg, readBuffer)
	if err != nil {
		t.Fatalf("openWatch: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &watchRun{cancel: cancel, done: make(chan struct{})}
	w.cond = sync.NewCond(&w.mu)
	go func() {
		defer close(w.done)
		defer l.release(c)
		w.st, w.err = l.runWatch(ctx, c, &cfg, func(ev *engine.Event) error {
			if keep != nil && !keep(ev) {
				return nil
			}
			w.mu.Lock()
			w.events = append(w.events, copyEvent(ev))
			w.cond.Broadcast()
			w.mu.Unlock()
			return nil
		})
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	}()
	t.Cleanup(func() { w.stop(t) })
	return w, granted
}

// waitFor waits until the remembered events satisfy ok.
func (w *watchRun) waitFor(t *testing.T, what string, ok func([]seenEvent) bool) {
	t.Helper()
	timer := time.AfterFunc(waitLimit, func() {
		w.mu.Lock()
		w.cond.Broadcast()
		w.mu.Unlock()
	})
	defer timer.Stop()
	start := time.Now()
	w.mu.Lock()
	defer w.mu.Unlock()
	for !ok(w.events) {
		select {
		case <-w.done:
			t.Fatalf("watch ended (%v) before %s", w.err, what)
		default:
		}
		if time.Since(start) >= waitLimit {
			t.Fatalf("no %s after %v (%d events)", what, waitLimit, len(w.events))
		}
		w.cond.Wait()
	}
}

// stop cancels the watch and returns its result.
func (w *watchRun) stop(t *testing.T) (engine.WatchStats, []seenEvent, error) {
	t.Helper()
	w.cancel()
	select {
	case <-w.done:
	case <-time.After(waitLimit):
		t.Fatalf("watch did not end within %v of its cancellation", waitLimit)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.st, w.events, w.err
}

// isSentinel reports whether f is a sentinel entry (nstest.InsertSentinel).
func isSentinel(f *engine.Flow) bool {
	return f.Src == netip.MustParseAddr(nstest.SentinelSrc)
}

// eventLabels are conntrack -E's labels, by EventType.
var eventLabels = map[engine.EventType]string{engine.EventNew: "[NEW]", engine.EventUpdate: "[UPDATE]", engine.EventDestroy: "[DESTROY]"}

// eventSummary is what a test compares of an event between ctq and
// conntrack -E.
func eventSummary(ev *seenEvent) string {
	f := &ev.Flow
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %d", eventLabels[ev.Type], f.Proto, f.ProtoNum)
	if f.Has&engine.HasTimeout != 0 {
		fmt.Fprintf(&b, " %d", f.Timeout)
	}
	if f.State != "" {
		fmt.Fprintf(&b, " %s", f.State)
	}
	fmt.Fprintf(&b, " src=%v dst=%v sport=%d dport=%d", f.Src, f.Dst, f.Sport, f.Dport)
	if f.Has&engine.HasCounters != 0 {
		fmt.Fprintf(&b, " packets=%d", f.OrigPackets)
	}
	if !f.SeenReply {
		b.WriteString(" [UNREPLIED]")
	}
	fmt.Fprintf(&b, " src=%v dst=%v sport=%d dport=%d", f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport)
	if f.Assured {
		b.WriteString(" [ASSURED]")
	}
	if ev.PortID != 0 {
		fmt.Fprintf(&b, " portid=%d", ev.PortID)
	}
	return b.String()
}

// lineSummary reduces a conntrack -E line to eventSummary's form.
func lineSummary(line string) string {
	var pos, tuple []string
	var flags []string
	portid := ""
	tuples, packets := 0, ""
	for _, tok := range strings.Fields(line) {
		k, v, isKV := strings.Cut(tok, "=")
		switch {
		case strings.HasPrefix(tok, "[") && tok != "[NEW]" && tok != "[UPDATE]" && tok != "[DESTROY]":
			if tok == "[UNREPLIED]" || tok == "[ASSURED]" {
				flags = append(flags, tok)
			}
		case !isKV:
			if tuples == 0 {
				pos = append(pos, tok)
			}
		case k == "src":
			tuples++
			if tuples <= 2 {
				tuple = append(tuple, tok)
			}
		case k == "dst" || k == "sport" || k == "dport":
			if tuples <= 2 {
				tuple = append(tuple, tok)
			}
		case k == "packets" && tuples == 1:
			packets = tok
		case k == "portid":
			portid = v
		}
	}
	var b strings.Builder
	b.WriteString(strings.Join(pos, " "))
	b.WriteString(" " + strings.Join(tuple[:min(4, len(tuple))], " "))
	if packets != "" {
		b.WriteString(" " + packets)
	}
	if slices.Contains(flags, "[UNREPLIED]") {
		b.WriteString(" [UNREPLIED]")
	}
	if len(tuple) > 4 {
		b.WriteString(" " + strings.Join(tuple[4:], " "))
	}
	if slices.Contains(flags, "[ASSURED]") {
		b.WriteString(" [ASSURED]")
	}
	if portid != "" {
		b.WriteString(" portid=" + portid)
	}
	return b.String()
}

// TestWatchLoopbackTCP watches a real TCP connection in a namespace and
// compares the events with those conntrack -E shows at the same time.
func TestWatchLoopbackTCP(t *testing.T) {
	ns := nstest.New(t)
	// A namespace tracks packets only once a rule uses conntrack.
	ns.Run(t, "nft", "add table inet ctqtest; add chain inet ctqtest out { type filter hook output priority 0; }; "+
		"add rule inet ctqtest out ct state new counter")
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	w, _ := startWatch(t, l, engine.WatchConfig{}, watchReadBuffer, nil)
	isTCP := func(s string) bool { return strings.Contains(s, " tcp ") }
	ce, sentinel := ns.ConntrackE(t, 1, isTCP, true)

	port := ns.TCPExchange(t)
	// The connection is in TIME_WAIT for minutes: delete it to see it
	// destroyed (an event caused by a process). The kernel may send a
	// DESTROY event twice (when it retries one it could not deliver), and
	// conntrack -E shows both: compare what both received before a
	// sentinel entry created afterwards.
	ns.Run(t, "conntrack", "-D", "-p", "tcp", "--dport", strconv.Itoa(port))
	ns.InsertSentinel(t, sentinel)
	isBarrier := func(ev seenEvent) bool { return isSentinel(&ev.Flow) && ev.Flow.Sport == sentinel }
	w.waitFor(t, "the sentinel after the DESTROY", func(evs []seenEvent) bool {
		return slices.ContainsFunc(evs, isBarrier)
	})
	if ce.WaitLine(nstest.SentinelLine(sentinel), waitLimit) == "" {
		t.Fatal("conntrack -E does not show the sentinel after the DESTROY")
	}
	lines, _, _ := ce.Stop(t)
	st, all, err := w.stop(t)
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	if st.Overflows != 0 || st.Skipped != 0 {
		t.Errorf("watch stats %+v", st)
	}
	var evs []seenEvent
	for _, ev := range all[:slices.IndexFunc(all, isBarrier)] {
		if ev.Flow.ProtoNum == engine.ProtoTCP && ev.Flow.Dport == port {
			evs = append(evs, ev)
		}
	}
	dport := fmt.Sprintf(" dport=%d ", port)
	var want, got []string
	for _, l := range lines {
		if strings.Contains(l, nstest.SentinelLine(sentinel)) {
			break
		}
		if strings.Contains(l, dport) {
			want = append(want, lineSummary(l))
		}
	}
	for i := range evs {
		got = append(got, eventSummary(&evs[i]))
	}
	if !slices.Equal(got, want) {
		t.Errorf("events differ from conntrack -E:\nctq:\n  %s\nconntrack -E:\n  %s",
			strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	// The connection's life: created by a SYN, established, and destroyed
	// by conntrack -D.
	if len(evs) == 0 {
		t.Fatal("no events for the connection")
	}
	first, last := evs[0], evs[len(evs)-1]
	if first.Type != engine.EventNew || first.Flow.State != "SYN_SENT" || first.PortID != 0 ||
		first.Flow.Src != netip.MustParseAddr("127.0.0.1") || first.Flow.Dst != first.Flow.Src ||
		first.Flow.ReplySport != port || first.Flow.ReplyDport != first.Flow.Sport {
		t.Errorf("first event %s, want [NEW] SYN_SENT from the kernel", eventSummary(&first))
	}
	if !slices.ContainsFunc(evs, func(ev seenEvent) bool {
		return ev.Type == engine.EventUpdate && ev.Flow.State == "ESTABLISHED" && ev.Flow.Assured
	}) {
		t.Errorf("no [UPDATE] ESTABLISHED [ASSURED] event in %q", got)
	}
	if last.Type != engine.EventDestroy || last.PortID == 0 || last.Flow.OrigPackets == 0 || last.Flow.ReplyPackets == 0 {
		t.Errorf("last event %s, want [DESTROY] with counters from a process", eventSummary(&last))
	}
	t.Logf("%d events for the connection, same as conntrack -E:\n  %s", len(got), strings.Join(got, "\n  "))
}

// expectLine is an expectation event as conntrack -E expect prints it
// (without the leading blanks and with single spaces).
func expectLine(ev *seenEvent) string {
	e := &ev.Expect
	return fmt.Sprintf("%s %d proto=%d src=%v dst=%v sport=%d dport=%d mask-src=%v mask-dst=%v sport=%d dport=%d "+
		"master-src=%v master-dst=%v sport=%d dport=%d class=%d helper=%s",
		eventLabels[ev.Type], e.Timeout, e.ProtoNum, e.Src, e.Dst, e.Sport, e.Dport, e.MaskSrc, e.MaskDst,
		e.MaskSport, e.MaskDport, e.MasterSrc, e.MasterDst, e.MasterSport, e.MasterDport, e.Class, e.Helper)
}

// TestWatchExpect watches the expect table while the FTP helper creates
// expectations and the deletion of their master connection removes them,
// and compares the events with those conntrack -E expect shows.
func TestWatchExpect(t *testing.T) {
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	w, _ := startWatch(t, l, engine.WatchConfig{Table: engine.TableExpect}, watchReadBuffer, nil)

	ce := ns.ConntrackEExpect(t)
	dataPort := ns.FTPExpectation(t, true).DataPort
	// Deleting the master connections removes their expectations. A
	// last expectation marks the end for both watchers.
	ns.Run(t, "conntrack", "-D", "-p", "tcp", "--dport", "21")
	endPort := ns.FTPExpectation(t, true).DataPort
	w.waitFor(t, "the last expectation", func(evs []seenEvent) bool {
		return slices.ContainsFunc(evs, func(ev seenEvent) bool { return ev.Expect.Dport == endPort })
	})
	if ce.WaitLine(fmt.Sprintf(" dport=%d ", endPort), waitLimit) == "" {
		t.Fatal("conntrack -E expect does not show the last expectation")
	}
	lines, _, _ := ce.Stop(t)
	st, evs, err := w.stop(t)
	if err != nil || st.Skipped != 0 || st.Overflows != 0 {
		t.Fatalf("watch = %+v, %v", st, err)
	}
	var got, want []string
	var last engine.EventType
	for i := range evs {
		if evs[i].Expect.Dport == dataPort {
			last = evs[i].Type
			if evs[i].Flow.Proto != "" || evs[i].Expect.Helper != "ftp" || evs[i].Expect.MasterDport != 21 {
				t.Errorf("event %d is not an FTP expectation: %+v", i, evs[i])
			}
			got = append(got, expectLine(&evs[i]))
		}
	}
	for _, l := range lines {
		if strings.Contains(l, fmt.Sprintf(" dport=%d ", dataPort)) {
			want = append(want, l)
		}
	}
	if len(got) < 2 || last != engine.EventDestroy || !slices.Equal(got, want) {
		t.Errorf("expectation events differ from conntrack -E expect:\nctq:\n  %s\nconntrack -E:\n  %s",
			strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	t.Logf("%d expectation events, same as conntrack -E expect:\n  %s", len(got), strings.Join(got, "\n  "))
}

// TestWatchUserspace checks events caused by processes (conntrack -I, -U,
// -D): they carry the process's port ID; and ProgName finds a process in
// the namespace by a port ID.
func TestWatchUserspace(t *testing.T) {
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	w, _ := startWatch(t, l, engine.WatchConfig{}, watchReadBuffer, nil)
	ns.Run(t, "conntrack", "-I", "-t", "100", "-s", "198.51.100.1", "-d", "198.51.100.2", "-p", "tcp",
		"--sport", "1000", "--dport", "80", "--state", "ESTABLISHED")
	ns.Run(t, "conntrack", "-U", "-s", "198.51.100.1", "-p", "tcp", "-m", "5")
	ns.Run(t, "conntrack", "-D", "-s", "198.51.100.1", "-p", "tcp")
	w.waitFor(t, "three events", func(evs []seenEvent) bool { return len(evs) >= 3 })
	st, evs, err := w.stop(t)
	if err != nil || st.Received != len(evs) || st.Skipped != 0 || st.Overflows != 0 {
		t.Fatalf("watch = %+v, %v", st, err)
	}
	want := []struct {
		typ  engine.EventType
		mark int
	}{{engine.EventNew, 0}, {engine.EventUpdate, 5}, {engine.EventDestroy, 5}}
	for i, ev := range evs {
		if i >= len(want) {
			// Only a DESTROY the kernel sent again may follow.
			if ev.Type != engine.EventDestroy || eventSummary(&ev) != eventSummary(&evs[2]) {
				t.Errorf("event %d after the DESTROY: %s", i, eventSummary(&ev))
			}
			continue
		}
		f := &ev.Flow
		if ev.Type != want[i].typ || ev.PortID == 0 || f.Mark != want[i].mark ||
			f.Src != netip.MustParseAddr("198.51.100.1") || f.Dst != netip.MustParseAddr("198.51.100.2") ||
			f.Sport != 1000 || f.Dport != 80 || f.State != "ESTABLISHED" {
			t.Errorf("event %d: %s mark=%d, want %s mark=%d from a process", i, eventSummary(&ev), f.Mark,
				eventLabels[want[i].typ], want[i].mark)
		}
	}

	// conntrack -E in the namespace holds two netfilter sockets: the
	// first has its PID as port ID, the event socket another one. ProgName
	// finds them, and the source's own socket there, whose process (this
	// one) is in another namespace.
	ce, _ := ns.ConntrackE(t, 1, func(string) bool { return false }, false)
	self, err := os.ReadFile("/proc/self/comm")
	if err != nil {
		t.Fatal(err)
	}
	table := ns.Run(t, "cat", "/proc/net/netlink")
	names := map[string]int{}
	for line := range strings.Lines(table) {
		f := strings.Fields(line)
		if len(f) < 10 || f[1] != "12" || f[2] == "0" {
			continue
		}
		p, err := strconv.ParseUint(f[2], 10, 32)
		if err != nil {
			t.Fatalf("bad row %q", line)
		}
		want := "conntrack"
		if uint32(p) == l.req.PID() {
			want = strings.TrimSpace(string(self))
		}
		got := ProgName(uint32(p))
		if got != want {
			t.Errorf("ProgName(%d) = %q, want %q (row %q)", p, got, want, strings.TrimSpace(line))
		}
		names[got]++
	}
	if names["conntrack"] != 2 {
		t.Errorf("ProgName found conntrack -E for %d sockets, want 2; table:\n%s", names["conntrack"], table)
	}
	if got := ProgName(uint32(ce.Pid())); got != "conntrack" {
		t.Errorf("ProgName(pid of conntrack -E) = %q", got)
	}
	ce.Stop(t)
}

// burstLine is the entry number i of a burst: UDP from a distinct source
// address (and port) to 198.51.100.1:53.
func burstLine(i int) string {
	return fmt.Sprintf("-I -t 600 -s %v -d 198.51.100.1 -p udp --sport %d --dport 53", burstSrc(i), 1024+i/burstAddrs)
}

// burstAddrs is the number of source addresses a burst uses:
// 198.18.0.0/15.
const burstAddrs = 1 << 17

func burstSrc(i int) netip.Addr {
	n := uint32(198)<<24 | uint32(18)<<16 + uint32(i%burstAddrs)
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// burstIndex is the entry number of a burst entry, -1 for other entries.
func burstIndex(f *engine.Flow) int {
	if !f.Src.Is4() || f.Dst != netip.MustParseAddr("198.51.100.1") || f.Dport != 53 {
		return -1
	}
	a := f.Src.As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	base := uint32(198)<<24 | uint32(18)<<16
	if n < base || n-base >= burstAddrs || f.Sport < 1024 {
		return -1
	}
	return int(n-base) + (f.Sport-1024)*burstAddrs
}

// TestWatchBurst loads 200,000 entries with conntrack -R while a watch
// for new entries runs: every event arrives, in order, with no overflow.
// conntrack -E -e NEW watches the same burst for comparison.
func TestWatchBurst(t *testing.T) {
	const n = 200_000
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	lines := make([]string, n)
	for i := range lines {
		lines[i] = burstLine(i)
	}
	var (
		next      int // the burst entry expected next
		outOfSeq  int
		userspace int
		first     time.Time
		last      time.Time
	)
	w, granted := startWatch(t, l, engine.WatchConfig{Events: engine.EventNew}, watchReadBuffer, func(ev *engine.Event) bool {
		i := burstIndex(ev.Flow)
		if i < 0 {
			return isSentinel(ev.Flow)
		}
		if i != next {
			outOfSeq++
		}
		next = i + 1
		if ev.PortID != 0 {
			userspace++
		}
		if first.IsZero() {
			first = ev.Time
		}
		last = ev.Time
		return false
	})
	if granted < 2*watchReadBuffer {
		t.Errorf("receive buffer %d bytes granted for %d requested", granted, watchReadBuffer)
	}
	ce, sentinel := ns.ConntrackE(t, 1, func(s string) bool {
		return strings.Contains(s, " dst=198.51.100.1 sport=")
	}, false, "-e", "NEW")

	start := time.Now()
	ns.Load(t, lines)
	loaded := time.Since(start)
	// A last sentinel marks the end of the burst for both watchers.
	ns.InsertSentinel(t, sentinel)
	w.waitFor(t, "the last sentinel", func(evs []seenEvent) bool {
		return len(evs) > 0 && evs[len(evs)-1].Flow.Sport == sentinel
	})
	delivered := time.Since(start)
	ce.WaitLine(nstest.SentinelLine(sentinel), waitLimit)
	_, ceGot, ceAll := ce.Stop(t)
	st, sentinels, err := w.stop(t)
	if err != nil {
		t.Fatalf("watch: %v", err)
	}
	got := st.Received - len(sentinels)
	t.Logf("burst of %d: watch received %d events (%d overflows, %d skipped), conntrack -E -e NEW showed %d (%d lines); "+
		"receive buffer granted %d bytes; load took %v, all events delivered after %v (first to last event %v)",
		n, got, st.Overflows, st.Skipped, ceGot, ceAll, granted, loaded.Round(time.Millisecond),
		delivered.Round(time.Millisecond), last.Sub(first).Round(time.Millisecond))
	if got != n || next != n || outOfSeq != 0 || userspace != n || st.Overflows != 0 || st.Skipped != 0 {
		t.Errorf("watch delivered %d of %d (last entry %d, %d out of sequence, %d from a process), stats %+v",
			got, n, next-1, outOfSeq, userspace, st)
	}
}

// TestWatchOverflow overflows a tiny receive buffer: the watch counts the
// overflow, resyncs, and goes on.
func TestWatchOverflow(t *testing.T) {
	const n = 5000
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	cfg := engine.WatchConfig{Events: engine.EventNew}
	resyncs := 0
	cfg.Resync = func(ctx context.Context) error {
		resyncs++
		count, err := l.Count(ctx)
		if err != nil || count < n {
			return fmt.Errorf("count after overflow: %d, %v", count, err)
		}
		return nil
	}
	c, granted, err := l.openWatch(&cfg, 1)
	if err != nil {
		t.Fatalf("openWatch: %v", err)
	}
	defer l.release(c)
	// The burst arrives before the watch reads: the buffer overflows.
	lines := make([]string, n)
	for i := range lines {
		lines[i] = burstLine(i)
	}
	ns.Load(t, lines)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		st  engine.WatchStats
		err error
	}
	res := make(chan result, 1)
	sentinels := make(chan int, 10)
	go func() {
		st, err := l.runWatch(ctx, c, &cfg, func(ev *engine.Event) error {
			if isSentinel(ev.Flow) {
				sentinels <- ev.Flow.Sport
			}
			return nil
		})
		res <- result{st, err}
	}()
	// Events after the overflow still arrive (once the reader has made
	// room in the tiny buffer: the first sentinels may be lost too).
	start := time.Now()
	for n, arrived := 1, false; !arrived; n++ {
		ns.InsertSentinel(t, n)
		select {
		case <-sentinels:
			arrived = true
		case <-time.After(100 * time.Millisecond):
			if time.Since(start) > waitLimit {
				t.Fatal("no event after the overflow")
			}
		}
	}
	cancel()
	r := <-res
	if r.err != nil {
		t.Fatalf("watch: %v", r.err)
	}
	if r.st.Overflows == 0 || resyncs == 0 || r.st.Received >= n {
		t.Errorf("stats %+v with %d resyncs for %d events into a %d-byte buffer; want overflows and resyncs",
			r.st, resyncs, n, granted)
	}
	t.Logf("%d events into a %d-byte buffer: %+v, %d resyncs", n, granted, r.st, resyncs)
}

// TestWatchCancel checks that Watch returns without error when its
// context is cancelled, and with an error when the source is closed.
func TestWatchCancel(t *testing.T) {
	ns := nstest.New(t)
	sentinel := 1
	for _, closeIt := range []bool{false, true} {
		l := openLive(t, &LiveConfig{NetNS: ns.Name()})
		ctx, cancel := context.WithCancel(context.Background())
		type result struct {
			st  engine.WatchStats
			err error
		}
		res := make(chan result, 1)
		got := make(chan struct{}, 1)
		go func() {
			st, err := l.Watch(ctx, engine.WatchConfig{}, func(*engine.Event) error {
				select {
				case got <- struct{}{}:
				default:
				}
				return nil
			})
			res <- result{st, err}
		}()
		// Wait until the watch delivers an event, so that it is running.
		start := time.Now()
		for running := false; !running; sentinel++ {
			ns.InsertSentinel(t, sentinel)
			select {
			case <-got:
				running = true
			case <-time.After(100 * time.Millisecond):
				if time.Since(start) > waitLimit {
					t.Fatal("watch delivered no event")
				}
			}
		}
		if closeIt {
			l.Close()
		} else {
			cancel()
		}
		select {
		case r := <-res:
			switch {
			case closeIt && !errors.Is(r.err, errClosed):
				t.Errorf("watch of a closed source = %v, want %v", r.err, errClosed)
			case !closeIt && r.err != nil:
				t.Errorf("cancelled watch = %v, want no error", r.err)
			}
			if r.st.Received == 0 {
				t.Errorf("stats %+v", r.st)
			}
		case <-time.After(waitLimit):
			t.Fatalf("watch did not return (close %v)", closeIt)
		}
		cancel()
	}
}
