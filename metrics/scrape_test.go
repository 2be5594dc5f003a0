package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ctq/engine"
)

// slowKernel is a fakeKernel whose second dump blocks until the test
// releases it (later ones block until the end), whose events come from a channel, and whose Stats
// may hang.
type slowKernel struct {
	fakeKernel
	mu      sync.Mutex
	scans   int
	started chan struct{} // closed when the second dump starts
	release chan struct{} // closed by the test to let it finish
	events  chan *engine.Event
	// hangStats makes Stats block, ignoring ctx, until release.
	hangStats bool
}

func newSlowKernel(flows ...*engine.Flow) *slowKernel {
	return &slowKernel{fakeKernel: fakeKernel{flows: flows}, started: make(chan struct{}),
		release: make(chan struct{}), events: make(chan *engine.Event)}
}

func (k *slowKernel) Scan(ctx context.Context, table engine.Table, f *engine.KernelFilter, yield func(*engine.Flow) error) (engine.ScanStats, error) {
	k.mu.Lock()
	k.scans++
	n := k.scans
	k.mu.Unlock()
	if n == 2 {
		close(k.started)
	}
	if n >= 2 {
		// The third and later dumps never end: the test sees the second's
		// result alone.
		rel := k.release
		if n > 2 {
			rel = nil
		}
		select {
		case <-rel:
		case <-ctx.Done():
			return engine.ScanStats{}, ctx.Err()
		}
	}
	return k.fakeKernel.Scan(ctx, table, f, yield)
}

func (k *slowKernel) Watch(ctx context.Context, _ engine.WatchConfig, yield func(*engine.Event) error) (engine.WatchStats, error) {
	for {
		select {
		case <-ctx.Done():
			return engine.WatchStats{}, nil
		case ev := <-k.events:
			if err := yield(ev); err != nil {
				return engine.WatchStats{}, err
			}
		}
	}
}

func (k *slowKernel) Stats(ctx context.Context, table engine.Table) ([]engine.CPUStats, error) {
	if k.hangStats {
		<-k.release // ignores ctx, as a netlink exchange without a deadline would
	}
	return k.fakeKernel.Stats(ctx, table)
}

// scrape fetches url's body; the client's timeout only keeps a broken
// test from hanging.
func scrape(t *testing.T, url string) string {
	t.Helper()
	c := &http.Client{Timeout: 60 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestScrapeDuringSlowDump: while a resync's dump is blocked, scrapes
// still answer, from the counts of the previous dump plus the events since;
// the events received during the dump survive its end.
func TestScrapeDuringSlowDump(t *testing.T) {
	k := newSlowKernel(flow(1, "tcp", "ESTABLISHED", 22))
	srv, err := Listen("127.0.0.1:0", k, &Config{Resync: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	url := "http://" + srv.Addr().String() + "/metrics"
	<-k.started // the second dump is running, and blocked

	body := scrape(t, url)
	for _, want := range []string{
		`ctq_conntrack_entries_by_state{proto="tcp",state="ESTABLISHED"} 1`,
		"ctq_conntrack_resyncs_total 1\n",
		"ctq_conntrack_entries 1\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("scrape during the dump lacks %q:\n%s", want, body)
		}
	}
	k.events <- &engine.Event{Type: engine.EventNew, Flow: flow(9, "udp", "", 53)}
	k.events <- &engine.Event{Type: engine.EventDestroy, Flow: flow(1, "tcp", "", 22)}
	// The events apply to the counts a scrape reads, dump or not.
	k.events <- &engine.Event{Type: engine.EventNew, Flow: flow(10, "udp", "", 53)}
	body = waitFor(t, url, `ctq_conntrack_entries_by_state{proto="udp",state=""} 2`)
	if strings.Contains(body, `proto="tcp"`) {
		t.Errorf("destroyed entry still counted:\n%s", body)
	}
	select {
	case <-k.release:
		t.Fatal("released early")
	default:
	}
	close(k.release)
	// The dump (which still holds entry 1 and not 9 or 10) completes; the
	// events of its time are applied again on top of it.
	body = waitFor(t, url, "ctq_conntrack_resyncs_total 2\n")
	if !strings.Contains(body, `ctq_conntrack_entries_by_state{proto="udp",state=""} 2`) || strings.Contains(body, `proto="tcp"`) {
		t.Errorf("after the dump, the events of its time are lost:\n%s", body)
	}
}

// waitFor scrapes until the body holds want (each scrape answering
// promptly is the point; the loop only waits for the server's goroutines).
func waitFor(t *testing.T, url, want string) string {
	t.Helper()
	var body string
	for range 500 {
		if body = scrape(t, url); strings.Contains(body, want) {
			return body
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("/metrics never showed %q:\n%s", want, body)
	return ""
}

// TestScrapeHungKernel: a kernel request that does not return leaves the
// scrape after scrapeTimeout with what it has, the failure counted.
func TestScrapeHungKernel(t *testing.T) {
	old := scrapeTimeout
	scrapeTimeout = 50 * time.Millisecond
	defer func() { scrapeTimeout = old }()
	k := newSlowKernel(flow(1, "tcp", "ESTABLISHED", 22))
	k.hangStats = true
	defer close(k.release)
	tr := NewTracker(nil)
	if err := tr.Resync(context.Background(), scanner(&k.fakeKernel)); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(k, tr, SeriesName, "1.2.3"))
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
		if mf.GetName() == "ctq_scrape_kernel_errors" && mf.GetMetric()[0].GetGauge().GetValue() != 1 {
			t.Errorf("ctq_scrape_kernel_errors = %v, want 1", mf.GetMetric()[0].GetGauge().GetValue())
		}
	}
	for _, want := range []string{"ctq_build_info", "ctq_conntrack_entries_by_state", "ctq_scrape_kernel_errors"} {
		if !slices.Contains(names, want) {
			t.Errorf("scrape with a hung kernel lacks %s: %q", want, names)
		}
	}
}

// TestTrackerFailedResyncKeepsCounts: a dump that fails leaves the counts
// as they were.
func TestTrackerFailedResyncKeepsCounts(t *testing.T) {
	tr := NewTracker(nil)
	tr.Apply(&engine.Event{Type: engine.EventNew, Flow: flow(1, "tcp", "ESTABLISHED", 22)})
	err := tr.Resync(context.Background(), func(_ context.Context, yield func(*engine.Flow) error) error {
		_ = yield(flow(2, "udp", "", 53))
		return errors.New("dump failed")
	})
	if err == nil {
		t.Fatal("failed resync returned nil")
	}
	if got, want := states(tr), []string{"tcp/ESTABLISHED=1"}; !slices.Equal(got, want) {
		t.Errorf("states %q, want %q", got, want)
	}
}

// TestMergeEqualsSequence: the merged pending change of an entry has the
// effect of its changes one after the other, whatever the dump held.
func TestMergeEqualsSequence(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	states := []string{"SYN_SENT", "ESTABLISHED", "TIME_WAIT"}
	randChange := func(id int) change {
		ch := change{id: id}
		switch rng.IntN(4) {
		case 0:
			ch.destroy = true
		default:
			ch.state = stateKey{"tcp", states[rng.IntN(len(states))]}
			ch.setState = rng.IntN(2) == 0
			if ch.eval = rng.IntN(2) == 0; ch.eval {
				ch.custom, ch.inSeries = states[rng.IntN(len(states))], rng.IntN(3) > 0
			}
		}
		return ch
	}
	render := func(c *counts) string {
		var out []string
		for id, e := range c.entries {
			out = append(out, fmt.Sprint(id, e))
		}
		for k, n := range c.states {
			out = append(out, fmt.Sprint(k, n))
		}
		for k, cc := range c.custom {
			out = append(out, fmt.Sprint(k, cc.n))
		}
		slices.Sort(out)
		return strings.Join(out, ";")
	}
	for range 2000 {
		seq, merged := newCounts(), newCounts()
		for id := range 3 { // what the dump held
			if rng.IntN(2) == 0 {
				ch := randChange(id)
				ch.destroy, ch.setState = false, true
				seq.apply(&ch, false)
				merged.apply(&ch, false)
			}
		}
		pending := map[int]change{}
		for range rng.IntN(6) {
			ch := randChange(rng.IntN(3))
			seq.apply(&ch, false)
			if prev, ok := pending[ch.id]; ok {
				ch = merge(prev, ch)
			}
			pending[ch.id] = ch
		}
		for _, ch := range pending {
			merged.apply(&ch, false)
		}
		if a, b := render(seq), render(merged); a != b {
			t.Fatalf("one by one: %s\nmerged:     %s", a, b)
		}
	}
}
