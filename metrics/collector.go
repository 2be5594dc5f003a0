package metrics

import (
	"context"
	"fmt"
	"strconv"
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

// scrapeTimeout bounds the kernel requests of one scrape.
const scrapeTimeout = 10 * time.Second

// Metric names and help texts.
var (
	descEntries = prometheus.NewDesc("ctq_conntrack_entries",
		"Entries in the conntrack table (the kernel's global counter, as conntrack -C).", nil, nil)
	descMax = prometheus.NewDesc("ctq_conntrack_max",
		"Most entries the conntrack table may hold (net.netfilter.nf_conntrack_max).", nil, nil)
	descByState = prometheus.NewDesc("ctq_conntrack_entries_by_state",
		"Entries per protocol and state (state is empty for protocols without one), kept from events and periodic full dumps.",
		[]string{"proto", "state"}, nil)
	descSeriesErrors = prometheus.NewDesc("ctq_series_errors",
		"Entries whose where or by expression of the user series failed to evaluate.", nil, nil)
)

// collector gathers the kernel's numbers at scrape time and the tracker's
// counts. It is an unchecked collector (Describe sends nothing): the
// per-CPU counters are named by the kernel's answer.
type collector struct {
	k       Kernel
	tracker *Tracker
	// descSeries is the user series' gauge, nil without one.
	descSeries *prometheus.Desc
}

// newCollector returns the collector of k and t; seriesName names the
// user series' gauge (unused when t has no series).
func newCollector(k Kernel, t *Tracker, seriesName string) *collector {
	c := &collector{k: k, tracker: t}
	if t.series != nil {
		c.descSeries = prometheus.NewDesc(seriesName,
			"Entries of the user's series (the serve statement's where and by clauses).", t.series.Labels, nil)
	}
	return c
}

// Describe sends nothing: the collector is unchecked.
func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect reads the kernel's counters and the tracker's counts. A failed
// kernel request becomes an invalid metric (the handler reports it and
// serves the rest).
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	if n, err := c.k.Count(ctx); err != nil {
		ch <- prometheus.NewInvalidMetric(descEntries, err)
	} else {
		ch <- prometheus.MustNewConstMetric(descEntries, prometheus.GaugeValue, float64(n))
	}
	if n, err := c.k.MaxEntries(); err != nil {
		ch <- prometheus.NewInvalidMetric(descMax, err)
	} else {
		ch <- prometheus.MustNewConstMetric(descMax, prometheus.GaugeValue, float64(n))
	}
	c.collectStats(ctx, ch, engine.TableConntrack, "ctq_conntrack_stat_")
	c.collectStats(ctx, ch, engine.TableExpect, "ctq_expect_stat_")
	states, series, errs := c.tracker.Snapshot()
	for _, s := range states {
		ch <- prometheus.MustNewConstMetric(descByState, prometheus.GaugeValue, float64(s.N), s.Proto, s.State)
	}
	if c.descSeries != nil {
		for _, s := range series {
			ch <- prometheus.MustNewConstMetric(c.descSeries, prometheus.GaugeValue, float64(s.N), s.Values...)
		}
		ch <- prometheus.MustNewConstMetric(descSeriesErrors, prometheus.GaugeValue, float64(errs))
	}
}

// collectStats sends the per-CPU counters of table, one counter metric a
// name (prefix + the conntrack -S name + "_total") with a cpu label. The
// kernel's counters are 32 bits wide and wrap.
func (c *collector) collectStats(ctx context.Context, ch chan<- prometheus.Metric, table engine.Table, prefix string) {
	cpus, err := c.k.Stats(ctx, table)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(prometheus.NewDesc(prefix+"error", "", nil, nil), fmt.Errorf("read %s statistics: %w", table, err))
		return
	}
	cmd := "conntrack -S"
	if table == engine.TableExpect {
		cmd = "conntrack -S expect"
	}
	descs := map[string]*prometheus.Desc{}
	for i := range cpus {
		cpu := strconv.Itoa(cpus[i].CPU)
		for _, ctr := range cpus[i].Counters {
			d := descs[ctr.Name]
			if d == nil {
				d = prometheus.NewDesc(prefix+ctr.Name+"_total",
					fmt.Sprintf("The %s counter of %s, per CPU.", ctr.Name, cmd),
					[]string{"cpu"}, nil)
				descs[ctr.Name] = d
			}
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(ctr.Value), cpu)
		}
	}
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
