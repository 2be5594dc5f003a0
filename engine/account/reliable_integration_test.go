//go:build linux

package account

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/internal/nstest"
)

// reliableWait bounds every wait for the kernel; reaching it fails the
// test (it is not a measurement).
const reliableWait = 60 * time.Second

// reliableBuffer is the watch buffer of the test (socket and queue): a
// small one, so that a reader that stops for a moment loses events.
const reliableBuffer = 64 << 10

// burstEntries are n conntrack -R lines: UDP from 10.a.b.c to
// 198.51.100.1:53, the source address numbered from first.
func burstEntries(first, n int) []string {
	lines := make([]string, n)
	for i := range lines {
		k := first + i
		lines[i] = fmt.Sprintf("-I -t 600 -s 10.%d.%d.%d -d 198.51.100.1 -p udp --sport 1024 --dport 53", k>>16&0xff, k>>8&0xff, k&0xff)
	}
	return lines
}

// isBurst reports whether f is an entry of burstEntries.
func isBurst(f *engine.Flow) bool {
	return f.Dport == 53 && f.Sport == 1024 && f.Dst.String() == "198.51.100.1"
}

// sentinel inserts and deletes an entry to 192.0.2.2:port: it makes a
// destroy event the test waits for.
func sentinel(t *testing.T, ns *nstest.NS, port int) {
	t.Helper()
	args := []string{"-s", "192.0.2.1", "-d", "192.0.2.2", "-p", "udp", "--sport", "9", "--dport", fmt.Sprint(port)}
	ns.Run(t, "conntrack", append([]string{"-I", "-t", "60"}, args...)...)
	ns.Run(t, "conntrack", append([]string{"-D"}, args...)...)
}

// TestReliableDestroyEvents: with a small watch buffer and a consumer that
// stops while 20,000 entries are flushed, a plain subscription loses
// destroy events (the control), and account, with reliable delivery, logs
// every one of them from its event, also those created after its last
// dump: the kernel holds the dying entries until their events fit.
func TestReliableDestroyEvents(t *testing.T) {
	const n = 20_000
	ns := nstest.New(t)
	// Every entry gets an event record, also those created while nobody
	// listens (the namespace's own setting).
	ns.Run(t, "sysctl", "-q", "-w", "net.netfilter.nf_conntrack_events=1")
	l, err := ctnetlink.OpenLive(&ctnetlink.LiveConfig{NetNS: ns.Name(), WatchBuffer: reliableBuffer})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	// The control: a plain watch whose consumer waits for the flush.
	ns.Load(t, burstEntries(0, n))
	ctx, cancel := context.WithCancel(context.Background())
	subscribed, release := make(chan struct{}), make(chan struct{})
	var plain engine.WatchStats
	got, done := 0, make(chan error, 1)
	go func() {
		st, err := l.Watch(ctx, engine.WatchConfig{Events: engine.EventDestroy,
			Subscribed: func(engine.Subscription) { close(subscribed) }},
			func(ev *engine.Event) error {
				<-release
				switch {
				case isBurst(ev.Flow):
					got++
				case ev.Flow.Dst.String() == "192.0.2.2":
					cancel() // a sentinel after the burst
				}
				return nil
			})
		plain = st
		done <- err
	}()
	<-subscribed
	if err := l.Flush(context.Background(), engine.TableConntrack, engine.FamilyUnspec); err != nil {
		t.Fatal(err)
	}
	close(release)
	// Sentinels until one arrives (the first ones may be lost too).
	for port, start := 1, time.Now(); ; port++ {
		sentinel(t, ns, port)
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("plain watch: %v", err)
			}
		case <-time.After(100 * time.Millisecond):
			if time.Since(start) > reliableWait {
				t.Fatal("the plain watch saw no sentinel")
			}
			continue
		}
		break
	}
	t.Logf("plain subscription: %d of %d destroy events, %d overflows", got, n, plain.Overflows)
	if got >= n || plain.Overflows == 0 {
		t.Fatalf("the plain subscription lost nothing (%d of %d, %+v): the test cannot show reliability", got, n, plain)
	}

	// account, writing to a FIFO the test stops reading during the flush,
	// of entries created after its first dump: a dump cannot know them.
	fifo := filepath.Join(t.TempDir(), "acct.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// A write end of the test's own, open for the whole test: without a
	// writer a read of the FIFO is an end of file, and the reader below
	// could start before account opens its end.
	keep, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer keep.Close()
	ctx, cancel = context.WithCancel(context.Background())
	defer cancel()
	type outcome struct {
		res Result
		err error
	}
	ran := make(chan outcome, 1)
	go func() {
		res, err := Run(ctx, Config{Source: l, Path: fifo, Format: "json", Resync: time.Hour,
			Plan: &engine.Plan{Action: engine.ActWatch, Table: engine.TableConntrack, Events: engine.EventDestroy, Limit: -1}})
		ran <- outcome{res, err}
	}()
	var (
		mu      sync.Mutex
		reading = sync.NewCond(&mu)
		paused  bool
		seen    = map[string]int{} // burst records by source address
		marks   = map[int]bool{}   // sentinels logged, by dport
		readErr error
	)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var rec struct {
				Src   string `json:"src"`
				Dst   string `json:"dst"`
				Sport int    `json:"sport"`
				Dport int    `json:"dport"`
			}
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				mu.Lock()
				readErr = fmt.Errorf("%v: %s", err, sc.Bytes())
				mu.Unlock()
				continue
			}
			mu.Lock()
			for paused {
				reading.Wait()
			}
			if rec.Dport == 53 && rec.Dst == "198.51.100.1" {
				seen[rec.Src]++
			} else {
				marks[rec.Dport] = true
			}
			reading.Broadcast()
			mu.Unlock()
		}
	}()
	wait := func(what string, ok func() bool) {
		t.Helper()
		timer := time.AfterFunc(reliableWait, func() { mu.Lock(); reading.Broadcast(); mu.Unlock() })
		defer timer.Stop()
		start := time.Now()
		mu.Lock()
		defer mu.Unlock()
		for !ok() {
			if time.Since(start) >= reliableWait {
				t.Fatalf("no %s after %v (%d burst records)", what, reliableWait, len(seen))
			}
			reading.Wait()
		}
	}
	// Sentinels until one is logged: account's watch is subscribed.
	for port, start := 1, time.Now(); ; port++ {
		sentinel(t, ns, port)
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		ok := len(marks) > 0
		mu.Unlock()
		if ok {
			break
		}
		if time.Since(start) > reliableWait {
			t.Fatal("account logged no sentinel")
		}
	}
	ns.Load(t, burstEntries(n, n))
	mu.Lock()
	paused = true
	mu.Unlock()
	if err := l.Flush(context.Background(), engine.TableConntrack, engine.FamilyUnspec); err != nil {
		t.Fatal(err)
	}
	held := 0
	if _, err := l.Scan(context.Background(), engine.TableDying, nil, func(f *engine.Flow) error {
		if isBurst(f) {
			held++
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	paused = false
	reading.Broadcast()
	mu.Unlock()
	wait("record of every burst entry", func() bool { return len(seen) >= n })
	cancel()
	out := <-ran
	if out.err != nil {
		t.Fatalf("account: %v", out.err)
	}
	mu.Lock()
	defer mu.Unlock()
	dup := 0
	for _, c := range seen {
		dup += c - 1
	}
	t.Logf("account (reliable): %d of %d destroyed entries logged, %d twice; %d entries held on the dying table after the flush; %+v",
		len(seen), n, dup, held, out.res)
	if len(seen) != n || dup != 0 || out.res.Recovered != 0 || out.res.Overflows != 0 || readErr != nil {
		t.Errorf("logged %d of %d (%d twice), result %+v, read error %v; want all, once each, from their events", len(seen), n, dup, out.res, readErr)
	}
	if held == 0 {
		t.Error("the kernel held no entry: the consumer did not fall behind, and the test shows nothing")
	}
}
