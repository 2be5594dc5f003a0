//go:build linux

package metrics

import (
	"context"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"ctq/engine"
	"ctq/sync/config"
	"ctq/sync/control"
	"ctq/sync/link"
	"ctq/sync/node"
	"ctq/sync/wire"
)

// kernelStatNames are the counters conntrack -S and conntrack -S expect
// name (engine/ctnetlink's ctStatNames and expStatNames).
var (
	ctStatNames = []string{"searched", "found", "new", "invalid", "ignore", "delete", "delete_list", "insert",
		"insert_failed", "drop", "early_drop", "error", "search_restart", "clash_resolve", "chaintoolong"}
	expStatNames = []string{"expect_new", "expect_create", "expect_delete"}
)

// fullKernel is a fakeKernel reporting every statistics counter.
type fullKernel struct{ fakeKernel }

func (k *fullKernel) Stats(_ context.Context, table engine.Table) ([]engine.CPUStats, error) {
	names := ctStatNames
	if table == engine.TableExpect {
		names = expStatNames
	}
	var out []engine.CPUStats
	for cpu := range 2 {
		st := engine.CPUStats{CPU: cpu}
		for i, n := range names {
			st.Counters = append(st.Counters, engine.StatCounter{Name: n, Value: uint64(i)})
		}
		out = append(out, st)
	}
	return out, nil
}

// everyMetric is a registry with every metric ctq exports: the
// collector's with a user series, Serve's counters, a sync node's and
// ctq_sync_up (which repl/serve.go adds to them).
func everyMetric(t *testing.T) *prometheus.Registry {
	t.Helper()
	k := &fullKernel{fakeKernel{flows: []*engine.Flow{flow(1, "tcp", "ESTABLISHED", 22)}}}
	tr := NewTracker(&Series{By: []func(*engine.Flow) (any, error){func(f *engine.Flow) (any, error) { return f.Dport, nil }}, Labels: []string{"dport"}})
	if err := tr.Resync(context.Background(), scanner(k)); err != nil {
		t.Fatal(err)
	}
	start := time.Unix(1795459700, 0)
	st := node.Stats{Started: start, RecvErrors: map[wire.Kind]uint64{wire.KindBadPayload: 2}}
	st.Links = []link.LinkStatus{{Name: "eth1", Transport: config.TransportUDP, Up: true}}
	cfg := &Config{Series: tr.series, Extra: func(context.Context) ([]Sample, error) {
		out := []Sample{{Name: "ctq_sync_up", Help: "Whether the sync node answered the scrape.", Value: 1}}
		for _, m := range control.Metrics(&st, 0, start.Add(time.Minute)) {
			help, counter, _ := control.MetricHelp(m.Name)
			out = append(out, Sample{Name: m.Name, Help: help, Counter: counter, Labels: m.Labels, Value: m.Value})
		}
		return out, nil
	}}
	reg, err := registry(k, tr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	sc := newServeCounters()
	for _, c := range sc.collectors() {
		reg.MustRegister(c)
	}
	for _, typ := range []string{"new", "update", "destroy"} {
		sc.events.WithLabelValues(typ)
	}
	return reg
}

// TestMetricsLint: promlint finds nothing wrong with any metric ctq
// exports.
func TestMetricsLint(t *testing.T) {
	mfs, err := everyMetric(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	// testutil.GatherAndLint, without testutil's dependencies.
	problems, err := promlint.NewWithMetricFamilies(mfs).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// docRow is a metric's row of docs/metrics.md: | `name` | type | labels | meaning |.
var docRow = regexp.MustCompile("^\\| `(ctq_[a-z0-9_]+)` \\| (counter|gauge) \\| ([^|]*) \\|")

// TestMetricsDocumented: docs/metrics.md lists every metric ctq exports,
// with its type and labels, and no other.
func TestMetricsDocumented(t *testing.T) {
	b, err := os.ReadFile("../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	type row struct{ typ, labels string }
	doc := map[string]row{}
	for line := range strings.Lines(string(b)) {
		m := docRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if _, dup := doc[m[1]]; dup {
			t.Errorf("docs/metrics.md lists %s twice", m[1])
		}
		labels := strings.NewReplacer("`", "", " ", "").Replace(m[3])
		if labels == "-" || labels == "none" {
			labels = ""
		}
		doc[m[1]] = row{m[2], labels}
	}
	mfs, err := everyMetric(t).Gather()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, mf := range mfs {
		name := mf.GetName()
		seen[name] = true
		d, ok := doc[name]
		if !ok {
			t.Errorf("docs/metrics.md lacks %s", name)
			continue
		}
		if typ := strings.ToLower(mf.GetType().String()); typ != d.typ {
			t.Errorf("docs/metrics.md: %s is a %s, not a %s", name, typ, d.typ)
		}
		var labels []string
		for _, l := range mf.GetMetric()[0].GetLabel() {
			labels = append(labels, l.GetName())
		}
		if name == SeriesName {
			labels = []string{"KEY..."}
		}
		if got := strings.Join(labels, ","); got != d.labels {
			t.Errorf("docs/metrics.md: %s has labels %q, not %q", name, got, d.labels)
		}
	}
	for name := range doc {
		if !seen[name] {
			t.Errorf("docs/metrics.md lists %s, which ctq does not export", name)
		}
	}
	for _, name := range control.MetricNames() {
		if !seen[name] {
			t.Errorf("the sync node's %s is not in the test's scrape", name)
		}
	}
	if !slices.Contains(control.MetricNames(), "ctq_sync_link_up") {
		t.Error("control.MetricNames lacks ctq_sync_link_up")
	}
}

// TestSyncRenamedMetric: a node started before the rename still reads.
func TestSyncRenamedMetric(t *testing.T) {
	m, err := control.ParseMetric("ctq_sync_kernel_event_overruns_total 3")
	if err != nil || m.Name != "ctq_sync_kernel_event_overflows_total" || m.Value != 3 {
		t.Errorf("old name: %+v, %v", m, err)
	}
}
