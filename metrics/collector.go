package metrics

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"ctq/engine"
)

// Kernel is what the metrics read: the live conntrack table
// (*ctnetlink.Live), with its events, its global counter
// (CTA_STATS_GLOBAL_ENTRIES), its limit and its per-CPU counters.
type Kernel interface {
	engine.Source
	engine.EventSource
	engine.Counter
	engine.StatsSource
}

// scrapeTimeout bounds the kernel requests of one scrape (and the sync
// node's answer): a scrape never waits longer for them, and never for a
// dump (the per-state counts are the tracker's). A variable for the tests.
var scrapeTimeout = 5 * time.Second

// Metric names and help texts. docs/metrics.md lists every metric; a test
// keeps the two in step.
var (
	descEntries = prometheus.NewDesc("ctq_conntrack_entries",
		"Entries in the conntrack table (the kernel's global counter, as conntrack -C).", nil, nil)
	descLimit = prometheus.NewDesc("ctq_conntrack_entries_limit",
		"Most entries the conntrack table may hold (net.netfilter.nf_conntrack_max).", nil, nil)
	descByState = prometheus.NewDesc("ctq_conntrack_entries_by_state",
		"Entries per protocol and state (state is empty for protocols without one), kept from events and periodic full dumps.",
		[]string{"proto", "state"}, nil)
	descSeriesErrors = prometheus.NewDesc("ctq_conntrack_series_errors_total",
		"Evaluations of the user series' where or by expression that failed.", nil, nil)
	descScrapeErrors = prometheus.NewDesc("ctq_scrape_kernel_errors",
		"Kernel reads of this scrape that failed or timed out (their metrics are missing).", nil, nil)
)

// statPrefix is the name prefix of the per-CPU counters of each table.
var statPrefix = map[engine.Table]string{
	engine.TableConntrack: "ctq_conntrack_stat_",
	engine.TableExpect:    "ctq_expect_stat_",
}

// StatName is the metric of the conntrack -S counter name of table: the
// counters of all CPUs summed, as node_exporter's node_nf_conntrack_stat_*
// ("insert_failed" -> ctq_conntrack_stat_insert_failed_total;
// "expect_new" -> ctq_expect_stat_new_total).
func StatName(table engine.Table, name string) string {
	if table == engine.TableExpect {
		name = strings.TrimPrefix(name, "expect_")
	}
	return statPrefix[table] + name + "_total"
}

// collector gathers the kernel's numbers at scrape time and the tracker's
// counts. It is an unchecked collector (Describe sends nothing): the
// statistics counters are named by the kernel's answer.
type collector struct {
	k       Kernel
	tracker *Tracker
	// descSeries is the user series' gauge, nil without one.
	descSeries *prometheus.Desc
	build      prometheus.Metric
}

// newCollector returns the collector of k and t; seriesName names the
// user series' gauge (unused when t has no series); version is the
// version ctq_build_info reports ("": from the build information).
func newCollector(k Kernel, t *Tracker, seriesName, version string) *collector {
	c := &collector{k: k, tracker: t, build: buildInfo(version)}
	if t.series != nil {
		c.descSeries = prometheus.NewDesc(seriesName,
			"Entries of the user's series (the serve statement's where and by clauses).", t.series.Labels, nil)
	}
	return c
}

// Describe sends nothing: the collector is unchecked.
func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect reads the kernel's counters and the tracker's counts. A failed
// kernel request leaves its metrics out and counts in
// ctq_scrape_kernel_errors; the kernel requests all together wait at most
// scrapeTimeout (a request still running then is left to finish on its
// own, its answer dropped).
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ch <- c.build
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	type answer struct {
		ms   []prometheus.Metric
		errs int
	}
	done := make(chan answer, 1)
	go func() {
		var a answer
		a.ms, a.errs = c.kernelMetrics(ctx)
		done <- a
	}()
	select {
	case a := <-done:
		for _, m := range a.ms {
			ch <- m
		}
		ch <- prometheus.MustNewConstMetric(descScrapeErrors, prometheus.GaugeValue, float64(a.errs))
	case <-ctx.Done():
		ch <- prometheus.MustNewConstMetric(descScrapeErrors, prometheus.GaugeValue, 1)
	}
	states, series, errs := c.tracker.Snapshot()
	for _, s := range states {
		ch <- prometheus.MustNewConstMetric(descByState, prometheus.GaugeValue, float64(s.N), s.Proto, s.State)
	}
	if c.descSeries != nil {
		for _, s := range series {
			ch <- prometheus.MustNewConstMetric(c.descSeries, prometheus.GaugeValue, float64(s.N), s.Values...)
		}
		ch <- prometheus.MustNewConstMetric(descSeriesErrors, prometheus.CounterValue, float64(errs))
	}
}

// kernelMetrics reads the kernel's counters: cheap requests, never a
// dump. errs counts the failed ones.
func (c *collector) kernelMetrics(ctx context.Context) (ms []prometheus.Metric, errs int) {
	if n, err := c.k.Count(ctx); err != nil {
		errs++
	} else {
		ms = append(ms, prometheus.MustNewConstMetric(descEntries, prometheus.GaugeValue, float64(n)))
	}
	if n, err := c.k.MaxEntries(); err != nil {
		errs++
	} else {
		ms = append(ms, prometheus.MustNewConstMetric(descLimit, prometheus.GaugeValue, float64(n)))
	}
	for _, table := range []engine.Table{engine.TableConntrack, engine.TableExpect} {
		st, err := c.stats(ctx, table)
		if err != nil {
			errs++
		}
		ms = append(ms, st...)
	}
	return ms, errs
}

// stats returns the statistics counters of table, each summed over the
// CPUs (as node_exporter does). The kernel's per-CPU counters are 32 bits
// wide and wrap: a wrap shows as a counter reset.
func (c *collector) stats(ctx context.Context, table engine.Table) ([]prometheus.Metric, error) {
	cpus, err := c.k.Stats(ctx, table)
	if err != nil {
		return nil, fmt.Errorf("read %s statistics: %w", table, err)
	}
	cmd := "conntrack -S"
	if table == engine.TableExpect {
		cmd = "conntrack -S expect"
	}
	var names []string
	sums := map[string]uint64{}
	for i := range cpus {
		for _, ctr := range cpus[i].Counters {
			if _, ok := sums[ctr.Name]; !ok {
				names = append(names, ctr.Name)
			}
			sums[ctr.Name] += ctr.Value
		}
	}
	out := make([]prometheus.Metric, 0, len(names))
	for _, name := range names {
		d := prometheus.NewDesc(StatName(table, name),
			fmt.Sprintf("The %s counter of %s, summed over the CPUs.", name, cmd), nil, nil)
		out = append(out, prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(sums[name])))
	}
	return out, nil
}

// buildInfo is ctq_build_info: version (from the build information when
// empty), the Go version and the VCS revision, value 1.
func buildInfo(version string) prometheus.Metric {
	rev, dirty := "", false
	info, ok := debug.ReadBuildInfo()
	if ok {
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
	}
	if version == "" {
		switch {
		case ok && info.Main.Version != "" && info.Main.Version != "(devel)":
			version = info.Main.Version
		case rev != "":
			version = "devel-" + rev[:min(12, len(rev))]
			if dirty {
				version += "+dirty"
			}
		default:
			version = "devel"
		}
	}
	d := prometheus.NewDesc("ctq_build_info",
		"Always 1; the labels say which ctq this is (version as ctq -V prints it, the Go version, the VCS revision).",
		nil, prometheus.Labels{"version": version, "goversion": runtime.Version(), "revision": rev})
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, 1)
}

// LabelName turns the text of a by key into a Prometheus label name:
// letters, digits and "_", not starting with a digit or "__"; an empty
// result becomes "key", one that would start with a digit gets "key_" in
// front.
func LabelName(text string) string {
	var b strings.Builder
	for _, r := range strings.TrimSpace(text) {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_', r >= '0' && r <= '9' && b.Len() > 0:
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "_"):
			b.WriteByte('_')
		}
	}
	s := strings.Trim(b.String(), "_")
	switch {
	case s == "":
		return "key"
	case s[0] >= '0' && s[0] <= '9':
		return "key_" + s
	}
	return s
}
