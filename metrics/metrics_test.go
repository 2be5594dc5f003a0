package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ctq/engine"
)

// flow builds a conntrack entry with an id, a protocol and a state ("" for
// none).
func flow(id int, proto, state string, dport int) *engine.Flow {
	f := &engine.Flow{ID: id, Proto: proto, State: state, Dport: dport}
	f.Has |= engine.HasID
	if state != "" {
		f.Has |= engine.HasState
	}
	return f
}

// states renders a tracker's counts as sorted "proto/state=n" strings.
func states(t *Tracker) []string {
	st, _, _ := t.Snapshot()
	var out []string
	for _, s := range st {
		out = append(out, fmt.Sprintf("%s/%s=%d", s.Proto, s.State, s.N))
	}
	slices.Sort(out)
	return out
}

func TestTrackerEvents(t *testing.T) {
	tests := []struct {
		name   string
		events []engine.Event
		want   []string
	}{
		{"new", []engine.Event{
			{Type: engine.EventNew, Flow: flow(1, "tcp", "SYN_SENT", 22)},
			{Type: engine.EventNew, Flow: flow(2, "udp", "", 53)},
		}, []string{"tcp/SYN_SENT=1", "udp/=1"}},
		{"state change moves the entry", []engine.Event{
			{Type: engine.EventNew, Flow: flow(1, "tcp", "SYN_SENT", 22)},
			{Type: engine.EventUpdate, Flow: flow(1, "tcp", "ESTABLISHED", 22)},
		}, []string{"tcp/ESTABLISHED=1"}},
		{"update without state keeps it", []engine.Event{
			{Type: engine.EventNew, Flow: flow(1, "tcp", "ESTABLISHED", 22)},
			{Type: engine.EventUpdate, Flow: flow(1, "tcp", "", 22)},
		}, []string{"tcp/ESTABLISHED=1"}},
		{"destroy", []engine.Event{
			{Type: engine.EventNew, Flow: flow(1, "tcp", "ESTABLISHED", 22)},
			{Type: engine.EventNew, Flow: flow(2, "tcp", "ESTABLISHED", 23)},
			{Type: engine.EventDestroy, Flow: flow(1, "tcp", "", 22)},
		}, []string{"tcp/ESTABLISHED=1"}},
		{"destroy of an unknown entry", []engine.Event{
			{Type: engine.EventDestroy, Flow: flow(9, "tcp", "", 22)},
		}, nil},
		{"repeated new counts once", []engine.Event{
			{Type: engine.EventNew, Flow: flow(1, "udp", "", 53)},
			{Type: engine.EventNew, Flow: flow(1, "udp", "", 53)},
		}, []string{"udp/=1"}},
		{"event without id is ignored", []engine.Event{
			{Type: engine.EventNew, Flow: &engine.Flow{Proto: "udp"}},
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := NewTracker(nil)
			for i := range tt.events {
				tr.Apply(&tt.events[i])
			}
			if got := states(tr); !slices.Equal(got, tt.want) {
				t.Errorf("states %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTrackerResyncAndSeries(t *testing.T) {
	series := &Series{
		Match: func(f *engine.Flow) (bool, error) {
			if f.Dport == 666 {
				return false, errors.New("bad")
			}
			return f.Proto == "tcp", nil
		},
		By:     []func(*engine.Flow) (any, error){func(f *engine.Flow) (any, error) { return f.Dport, nil }},
		Labels: []string{"dport"},
	}
	tr := NewTracker(series)
	tr.Apply(&engine.Event{Type: engine.EventNew, Flow: flow(7, "tcp", "SYN_SENT", 80)})
	table := []*engine.Flow{flow(1, "tcp", "ESTABLISHED", 22), flow(2, "tcp", "ESTABLISHED", 22),
		flow(3, "tcp", "TIME_WAIT", 443), flow(4, "udp", "", 22), flow(5, "tcp", "CLOSE", 666)}
	err := tr.Resync(context.Background(), func(_ context.Context, yield func(*engine.Flow) error) error {
		for _, f := range table {
			if err := yield(f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// A destroy after the dump takes the entry out of its state and series.
	tr.Apply(&engine.Event{Type: engine.EventDestroy, Flow: flow(2, "tcp", "", 22)})
	want := []string{"tcp/CLOSE=1", "tcp/ESTABLISHED=1", "tcp/TIME_WAIT=1", "udp/=1"}
	if got := states(tr); !slices.Equal(got, want) {
		t.Errorf("states %q, want %q", got, want)
	}
	_, custom, errs := tr.Snapshot()
	var got []string
	for _, c := range custom {
		got = append(got, fmt.Sprintf("%v=%d", c.Values, c.N))
	}
	slices.Sort(got)
	if want := []string{"[22]=1", "[443]=1"}; !slices.Equal(got, want) {
		t.Errorf("series %q, want %q", got, want)
	}
	if errs != 1 {
		t.Errorf("series errors = %d, want 1", errs)
	}
	fail := errors.New("dump failed")
	if err := tr.Resync(context.Background(), func(context.Context, func(*engine.Flow) error) error { return fail }); !errors.Is(err, fail) {
		t.Errorf("failed resync: %v", err)
	}
}

func TestLabelName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"zone", "zone"},
		{"dport", "dport"},
		{"reply_dport", "reply_dport"},
		{"bitand(mark, 0xff)", "bitand_mark_0xff"},
		{"1 + 2", "key"},
		{"  src in cidr(\"198.51.100.0/24\") ", "src_in_cidr_198_51_100_0_24"},
		{"__x", "x"},
		{"", "key"},
		{"_0", "key_0"},
	}
	for _, tt := range tests {
		if got := LabelName(tt.in); got != tt.want {
			t.Errorf("LabelName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzLabelName(f *testing.F) {
	for _, s := range []string{"zone", "bitand(mark, 0xff)", "9x", "__a", "é", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		name := LabelName(s)
		if name == "" || strings.HasPrefix(name, "__") || name[0] >= '0' && name[0] <= '9' {
			t.Fatalf("LabelName(%q) = %q", s, name)
		}
		for _, r := range name {
			if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
				t.Fatalf("LabelName(%q) = %q", s, name)
			}
		}
	})
}

// fakeKernel is a Kernel with a fixed table and counters.
type fakeKernel struct {
	flows    []*engine.Flow
	countErr error
}

func (k *fakeKernel) Scan(ctx context.Context, _ engine.Table, _ *engine.KernelFilter, yield func(*engine.Flow) error) (engine.ScanStats, error) {
	for _, f := range k.flows {
		if err := yield(f); err != nil {
			return engine.ScanStats{}, err
		}
	}
	return engine.ScanStats{}, nil
}

func (k *fakeKernel) Get(context.Context, *engine.Flow) (*engine.Flow, error) {
	return nil, engine.ErrNotFound
}

func (k *fakeKernel) Close() error { return nil }

func (k *fakeKernel) Watch(ctx context.Context, _ engine.WatchConfig, _ func(*engine.Event) error) (engine.WatchStats, error) {
	<-ctx.Done()
	return engine.WatchStats{}, nil
}

func (k *fakeKernel) Count(context.Context) (int, error) { return len(k.flows), k.countErr }

func (k *fakeKernel) MaxEntries() (int, error) { return 65536, nil }

func (k *fakeKernel) Stats(_ context.Context, table engine.Table) ([]engine.CPUStats, error) {
	if table == engine.TableExpect {
		return []engine.CPUStats{{CPU: 0, Counters: []engine.StatCounter{{Name: "expect_new", Value: 4}}}}, nil
	}
	return []engine.CPUStats{
		{CPU: 0, Counters: []engine.StatCounter{{Name: "found", Value: 1}, {Name: "insert", Value: 2}}},
		{CPU: 1, Counters: []engine.StatCounter{{Name: "found", Value: 3}, {Name: "insert", Value: 5}}},
	}, nil
}

func TestWriteTextfile(t *testing.T) {
	k := &fakeKernel{flows: []*engine.Flow{flow(1, "tcp", "ESTABLISHED", 22), flow(2, "udp", "", 53)}}
	path := filepath.Join(t.TempDir(), "ctq.prom")
	if err := WriteTextfile(context.Background(), k, path, &Config{}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"ctq_conntrack_entries 2\n",
		"ctq_conntrack_entries_limit 65536\n",
		`ctq_conntrack_entries_by_state{proto="tcp",state="ESTABLISHED"} 1` + "\n",
		`ctq_conntrack_entries_by_state{proto="udp",state=""} 1` + "\n",
		"ctq_conntrack_stat_insert_total 7\n",
		"ctq_conntrack_stat_found_total 4\n",
		"ctq_expect_stat_new_total 4\n",
		"ctq_scrape_kernel_errors 0\n",
		`ctq_build_info{goversion="` + runtime.Version() + `",`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("textfile lacks %q:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), SeriesName) {
		t.Errorf("textfile has a user series without one defined:\n%s", b)
	}
}

func TestCollectorSeriesAndErrors(t *testing.T) {
	k := &fakeKernel{flows: []*engine.Flow{flow(1, "tcp", "ESTABLISHED", 22), flow(2, "tcp", "ESTABLISHED", 80)},
		countErr: errors.New("no count")}
	tr := NewTracker(&Series{By: []func(*engine.Flow) (any, error){func(f *engine.Flow) (any, error) { return f.Dport, nil }}, Labels: []string{"dport"}})
	if err := tr.Resync(context.Background(), scanner(k)); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(newCollector(k, tr, SeriesName, ""))
	mfs, err := reg.Gather()
	if err != nil {
		t.Errorf("gather with a failing count: %v", err)
	}
	var got []string
	for _, mf := range mfs {
		switch mf.GetName() {
		case "ctq_conntrack_entries":
			t.Errorf("ctq_conntrack_entries exported although the count failed")
		case "ctq_scrape_kernel_errors":
			if v := mf.GetMetric()[0].GetGauge().GetValue(); v != 1 {
				t.Errorf("ctq_scrape_kernel_errors = %v, want 1", v)
			}
		}
		if mf.GetName() != SeriesName {
			continue
		}
		for _, m := range mf.GetMetric() {
			got = append(got, fmt.Sprintf("%s=%s:%g", m.GetLabel()[0].GetName(), m.GetLabel()[0].GetValue(), m.GetGauge().GetValue()))
		}
	}
	slices.Sort(got)
	if want := []string{"dport=22:1", "dport=80:1"}; !slices.Equal(got, want) {
		t.Errorf("series %q, want %q", got, want)
	}
}

func TestServeStopsOnCancel(t *testing.T) {
	k := &fakeKernel{flows: []*engine.Flow{flow(1, "tcp", "ESTABLISHED", 22)}}
	srv, err := Listen("127.0.0.1:0", k, &Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	url := "http://" + srv.Addr().String() + "/metrics"
	var body string
	// The first full dump runs as the server starts: wait for its count.
	for range 100 {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if body = string(b); strings.Contains(body, "ctq_conntrack_resyncs_total 1") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, want := range []string{
		`ctq_conntrack_entries_by_state{proto="tcp",state="ESTABLISHED"} 1`,
		`ctq_conntrack_events_total{type="new"} 0`,
		"ctq_conntrack_event_overflows_total 0",
		"ctq_conntrack_entries 1",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
	if _, err := http.Get(url); err == nil {
		t.Error("the server still answers after Serve returned")
	}
}

// TestExtraSamples: Config.Extra's samples join the scrape, counters and
// gauges with their labels; a failing fetch leaves them out.
func TestExtraSamples(t *testing.T) {
	k := &fakeKernel{flows: []*engine.Flow{flow(1, "tcp", "ESTABLISHED", 22)}}
	dir := t.TempDir()
	fail := false
	cfg := &Config{Extra: func(context.Context) ([]Sample, error) {
		if fail {
			return nil, errors.New("node gone")
		}
		return []Sample{
			{Name: "ctq_sync_up", Help: "Up.", Value: 1},
			{Name: "ctq_sync_link_sent_bytes_total", Help: "Bytes.", Counter: true, Labels: [][2]string{{"link", "eth1"}}, Value: 156},
		}, nil
	}}
	for _, tt := range []struct {
		fail bool
		want []string
		not  string
	}{
		{false, []string{"ctq_sync_up 1\n", "# TYPE ctq_sync_link_sent_bytes_total counter\n", `ctq_sync_link_sent_bytes_total{link="eth1"} 156` + "\n", "ctq_conntrack_entries 1\n"}, ""},
		{true, []string{"ctq_conntrack_entries 1\n"}, "ctq_sync"},
	} {
		fail = tt.fail
		path := filepath.Join(dir, "ctq.prom")
		if err := WriteTextfile(context.Background(), k, path, cfg); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range tt.want {
			if !strings.Contains(string(b), want) {
				t.Errorf("fail=%v: textfile lacks %q:\n%s", tt.fail, want, b)
			}
		}
		if tt.not != "" && strings.Contains(string(b), tt.not) {
			t.Errorf("fail=%v: textfile has %q:\n%s", tt.fail, tt.not, b)
		}
	}
}

func TestListenAddress(t *testing.T) {
	tests := []struct {
		addr, bound string // bound: the bound address with its port cut off; "" for an error
	}{
		{"127.0.0.1:0", "127.0.0.1"},
		{"0.0.0.0:0", "0.0.0.0"},
		{"localhost:0", ""},
		{":0", ""},
		{"127.0.0.1", ""},
	}
	for _, tt := range tests {
		srv, err := Listen(tt.addr, &fakeKernel{}, &Config{})
		if tt.bound == "" {
			if err == nil {
				srv.ln.Close()
				t.Errorf("Listen(%q) bound %v, want an error", tt.addr, srv.Addr())
			}
			continue
		}
		if err != nil {
			t.Errorf("Listen(%q): %v", tt.addr, err)
			continue
		}
		host, _, _ := net.SplitHostPort(srv.Addr().String())
		srv.ln.Close()
		if host != tt.bound {
			t.Errorf("Listen(%q) bound %v, want host %s", tt.addr, srv.Addr(), tt.bound)
		}
	}
}
