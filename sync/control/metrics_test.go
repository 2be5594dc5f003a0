package control

import (
	"slices"
	"strings"
	"testing"
	"time"

	"ctq/sync/config"
	"ctq/sync/link"
	"ctq/sync/node"
	"ctq/sync/wire"
)

func TestMetrics(t *testing.T) {
	start := time.Unix(1795459700, 0)
	st := node.Stats{Started: start, SeqLost: 3, RecvErrors: map[wire.Kind]uint64{wire.KindBadPayload: 2, wire.KindTruncated: 1}}
	st.External.Active, st.Auth.BadMAC = 7, 4
	st.Links = []link.LinkStatus{{Name: "eth1", Transport: config.TransportUDP, Up: true, Active: true, Stats: link.Stats{SentBytes: 156}}}
	var lines []string
	for _, m := range Metrics(&st, 0, start.Add(90*time.Second)) {
		if _, _, ok := MetricHelp(m.Name); !ok {
			t.Errorf("metric %s has no help", m.Name)
		}
		back, err := ParseMetric(m.String())
		if err != nil || back.String() != m.String() {
			t.Errorf("round trip of %q: %q, %v", m.String(), back.String(), err)
		}
		lines = append(lines, m.String())
	}
	for _, want := range []string{
		"ctq_sync_uptime_seconds 90",
		`ctq_sync_cache_entries{cache="external"} 7`,
		`ctq_sync_link_sent_bytes_total{link="eth1"} 156`,
		`ctq_sync_link_active{link="eth1"} 1`,
		`ctq_sync_link_admin_up{link="eth1"} 1`,
		`ctq_sync_messages_rejected_total{reason="Truncated message"} 1`,
		`ctq_sync_messages_rejected_total{reason="Malformed payload"} 2`,
		"ctq_sync_sequence_lost_total 3",
		`ctq_sync_auth_dropped_total{reason="forged"} 4`,
	} {
		if !slices.Contains(lines, want) {
			t.Errorf("metrics lack %q:\n%s", want, strings.Join(lines, "\n"))
		}
	}
}

func TestParseMetricErrors(t *testing.T) {
	for _, line := range []string{
		"", "ctq_sync_up", "ctq_sync_up x", "nosuch_metric 1", `ctq_sync_link_up{link="eth1" 1`,
		`ctq_sync_link_up{link=eth1} 1`, `ctq_sync_link_up{link="eth1} 1`,
	} {
		if m, err := ParseMetric(line); err == nil {
			t.Errorf("ParseMetric(%q) = %+v, want an error", line, m)
		}
	}
}

func FuzzParseMetric(f *testing.F) {
	for _, s := range []string{"ctq_sync_uptime_seconds 90", `ctq_sync_link_up{link="eth1",x="y"} 1`, `ctq_sync_link_up{} 0`, "x {"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		m, err := ParseMetric(line)
		if err != nil {
			return
		}
		if _, _, ok := MetricHelp(m.Name); !ok {
			t.Errorf("parsed an unknown metric %q", m.Name)
		}
	})
}
