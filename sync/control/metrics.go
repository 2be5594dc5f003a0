package control

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Metric is one sample of a node's counters, for Prometheus (`serve ...
// sync`): a name of metricInfo, label pairs and a value.
type Metric struct {
	Name   string
	Labels [][2]string
	Value  float64
}

// metricKind is a metric's help and type.
type metricKind struct {
	help    string
	counter bool
}

// metricInfo describes every metric a node reports.
var metricInfo = map[string]metricKind{
	"ctq_sync_uptime_seconds":                {"Seconds since the sync node started.", false},
	"ctq_sync_cache_entries":                 {"Live entries of a cache (not DEAD).", false},
	"ctq_sync_cache_objects":                 {"Entries a cache holds, DEAD ones waiting for their acknowledgement included.", false},
	"ctq_sync_cache_added_total":             {"Entries added to a cache.", true},
	"ctq_sync_cache_add_failures_total":      {"Entries a cache refused (full: HashLimit).", true},
	"ctq_sync_cache_updated_total":           {"Entries updated in a cache.", true},
	"ctq_sync_cache_destroyed_total":         {"Entries destroyed in a cache.", true},
	"ctq_sync_link_up":                       {"Whether a dedicated link's interface is up.", false},
	"ctq_sync_link_admin_up":                 {"Whether a dedicated link's interface is admin up (with or without carrier).", false},
	"ctq_sync_link_active":                   {"Whether a dedicated link is the active one.", false},
	"ctq_sync_link_sent_bytes_total":         {"Bytes sent on a dedicated link.", true},
	"ctq_sync_link_received_bytes_total":     {"Bytes received on a dedicated link.", true},
	"ctq_sync_link_sent_datagrams_total":     {"Datagrams sent on a dedicated link.", true},
	"ctq_sync_link_received_datagrams_total": {"Datagrams received on a dedicated link.", true},
	"ctq_sync_link_send_errors_total":        {"Datagrams a dedicated link failed to send.", true},
	"ctq_sync_link_receive_errors_total":     {"Receive errors of a dedicated link.", true},
	"ctq_sync_link_receive_dropped_total":    {"Datagrams the kernel dropped at a dedicated link's receive socket (its buffer was full).", true},
	"ctq_sync_messages_sent_total":           {"Sync messages sent, by kind (data, control).", true},
	"ctq_sync_messages_received_total":       {"Sync messages received, by kind (data, control, expect).", true},
	"ctq_sync_messages_rejected_total":       {"Received sync messages rejected, by reason (conntrackd's -s network counters).", true},
	"ctq_sync_sequence_lost_total":           {"Messages the peer's sequence numbers say were lost (conntrackd's Packets lost).", true},
	"ctq_sync_sequence_before_total":         {"Messages behind the expected sequence number (conntrackd's Packets before).", true},
	"ctq_sync_resend_queue_length":           {"Entries in FTFW's resend queue.", false},
	"ctq_sync_resend_queue_dropped_total":    {"Entries FTFW's resend queue dropped when full (lost until a resync).", true},
	"ctq_sync_sequence_jumps_total":          {"Messages dropped because their sequence number was too far from the expected one to be believed.", true},
	"ctq_sync_sequence_reanchors_total":      {"Times the node followed a new sequence of the peer (with a NACK or RESYNC for what it dropped).", true},
	"ctq_sync_resyncs_answered_total":        {"Bulk sends of the internal cache made for the peer's RESYNC requests and restarts.", true},
	"ctq_sync_resyncs_coalesced_total":       {"RESYNC requests of the peer that shared another request's bulk send (at most one a second).", true},
	"ctq_sync_resyncs_requested_total":       {"RESYNC requests this node sent (its own repairs included).", true},
	"ctq_sync_nack_limited_total":            {"Entries a NACK asked for beyond the resend budget (sent by the repair instead).", true},
	"ctq_sync_repaired_total":                {"Entries sent again to repair known losses (resend queue drops, NACKs over budget, a peer's restart).", true},
	"ctq_sync_repair_pending":                {"Entries waiting for the repair of known losses.", false},
	"ctq_sync_peer_restarts_total":           {"Restarts of the peer (HELLO out of its sequence), each answered with a bulk send.", true},
	"ctq_sync_hello_resent_total":            {"Entries a HELLO of the peer emptied out of the resend queue unacknowledged, each sent again at once (FTFW).", true},
	"ctq_sync_window_held_total":             {"Entries that waited for room in the resend queue before going out (FTFW flow control), each counted once.", true},
	"ctq_sync_window":                        {"Flows and expectations that may be in flight unacknowledged (FTFW flow control).", false},
	"ctq_sync_window_widened_total":          {"Times an ACK of the peer covering more than half the window widened it (the peer's ACKWindowSize is larger; FTFW).", true},
	"ctq_sync_transmit_queue_length":         {"Entries and control messages waiting to be sent (in FTFW, for room in the resend queue).", false},
	"ctq_sync_probes_total":                  {"ALIVEs sent after data to show the peer a lost end of a burst (FTFW).", true},
	"ctq_sync_quick_acks_total":              {"ACKs sent soon after the peer's data or ALIVE arrived (FTFW).", true},
	"ctq_sync_implicit_resends_total":        {"Entries sent again because the peer's ACK left them out (their NACK was lost; FTFW).", true},
	"ctq_sync_repeated_nacks_total":          {"NACKs sent again, in case the first was lost (FTFW).", true},
	"ctq_sync_startup_advertised_total":      {"Entries of the kernel table advertised when the node started.", true},
	"ctq_sync_external_full_total":           {"Entries of the peer the full external cache (HashLimit) refused.", true},
	"ctq_sync_external_rebuilds_total":       {"Rebuilds of the external cache started by a full cache.", true},
	"ctq_sync_external_evicted_total":        {"Entries rebuilds evicted (not sent again by the peer).", true},
	"ctq_sync_kernel_events_total":           {"Kernel conntrack events received.", true},
	"ctq_sync_traffic_bytes_total":           {"Bytes of the flows whose end the node saw (conntrackd's traffic processed; needs nf_conntrack_acct).", true},
	"ctq_sync_traffic_packets_total":         {"Packets of the flows whose end the node saw (needs nf_conntrack_acct).", true},
	"ctq_sync_kernel_events_filtered_total":  {"Kernel events the Filter left out.", true},
	"ctq_sync_kernel_event_overflows_total":  {"Kernel event overflows (ENOBUFS: lost events, each followed by a reread).", true},
	"ctq_sync_kernel_polls_total":            {"Reads of the kernel table in polling mode (PollSecs).", true},
	"ctq_sync_injected_total":                {"Received entries written into the kernel (DisableExternalCache).", true},
	"ctq_sync_inject_errors_total":           {"Received entries the kernel refused (DisableExternalCache).", true},
	"ctq_sync_auth_accepted_total":           {"Datagrams that passed authentication (AuthKey).", true},
	"ctq_sync_auth_dropped_total":            {"Datagrams dropped by authentication (AuthKey), by reason.", true},
	"ctq_sync_control_refused_total":         {"Control socket connections refused (users other than root and the node's).", true},
}

// renamedMetrics maps the names older nodes report to today's, so that a
// new `serve ... sync` reads a node started before an upgrade.
var renamedMetrics = map[string]string{
	"ctq_sync_kernel_event_overruns_total": "ctq_sync_kernel_event_overflows_total",
}

// errUnknownMetric is ParseMetric's error for a name it does not know.
var errUnknownMetric = errors.New("unknown metric")

// MetricNames returns the name of every metric a node reports, sorted
// (docs/metrics.md lists them; a test of package metrics checks it).
func MetricNames() []string {
	names := make([]string, 0, len(metricInfo))
	for name := range metricInfo {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// MetricHelp returns a metric's help text and whether it is a counter;
// ok is false for a name the node does not report.
func MetricHelp(name string) (help string, counter, ok bool) {
	k, ok := metricInfo[name]
	return k.help, k.counter, ok
}

// String is the metric as a line of the Prometheus text format (labels
// quoted; the values never hold quotes or backslashes).
func (m Metric) String() string {
	var b strings.Builder
	b.WriteString(m.Name)
	if len(m.Labels) > 0 {
		b.WriteByte('{')
		for i, l := range m.Labels {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, "%s=%q", l[0], l[1])
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(strconv.FormatFloat(m.Value, 'g', -1, 64))
	return b.String()
}

// ParseMetric parses a line String wrote.
func ParseMetric(line string) (Metric, error) {
	var m Metric
	head, value, ok := cutLast(line, ' ')
	if !ok {
		return m, fmt.Errorf("metric line %q: no value", line)
	}
	v, err := strconv.ParseFloat(value, 64)
	if err != nil {
		return m, fmt.Errorf("metric line %q: %w", line, err)
	}
	m.Value = v
	name, labels, hasLabels := strings.Cut(head, "{")
	if now, ok := renamedMetrics[name]; ok {
		name = now
	}
	if _, _, ok := MetricHelp(name); !ok {
		return m, fmt.Errorf("metric line %q: %w %q", line, errUnknownMetric, name)
	}
	m.Name = name
	if !hasLabels {
		return m, nil
	}
	labels, ok = strings.CutSuffix(labels, "}")
	if !ok {
		return m, fmt.Errorf("metric line %q: unterminated labels", line)
	}
	for labels != "" {
		key, rest, ok := strings.Cut(labels, `="`)
		if !ok {
			return m, fmt.Errorf("metric line %q: malformed labels", line)
		}
		val, rest, ok := strings.Cut(rest, `"`)
		if !ok {
			return m, fmt.Errorf("metric line %q: malformed labels", line)
		}
		m.Labels = append(m.Labels, [2]string{key, val})
		labels = strings.TrimPrefix(rest, ",")
	}
	return m, nil
}

// cutLast cuts s around the last sep.
func cutLast(s string, sep byte) (string, string, bool) {
	i := strings.LastIndexByte(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// FetchMetrics asks the node listening at path for its metrics. Metrics
// it does not know (from a newer node) are left out; names an older node
// used are renamed.
func FetchMetrics(ctx context.Context, path string) ([]Metric, error) {
	return Client{Path: path}.FetchMetrics(ctx)
}

// FetchMetrics asks the node for its metrics.
func (cl Client) FetchMetrics(ctx context.Context) ([]Metric, error) {
	var out []Metric
	err := cl.Stream(ctx, Request{Verb: VerbMetrics}, func(line string) error {
		m, err := ParseMetric(line)
		if errors.Is(err, errUnknownMetric) {
			return nil
		}
		if err != nil {
			return err
		}
		out = append(out, m)
		return nil
	})
	return out, err
}
