package control

import (
	"slices"
	"time"

	"ctq/sync/cache"
	"ctq/sync/link"
	"ctq/sync/node"
	"ctq/sync/wire"
)

// Metrics turns a node's counters, and the connections its control socket
// refused, into metrics.
func Metrics(st *node.Stats, refused uint64, now time.Time) []Metric {
	var out []Metric
	add := func(name string, v float64, labels ...string) {
		m := Metric{Name: name, Value: v}
		for i := 0; i+1 < len(labels); i += 2 {
			m.Labels = append(m.Labels, [2]string{labels[i], labels[i+1]})
		}
		out = append(out, m)
	}
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	if !st.Started.IsZero() {
		add("ctq_sync_uptime_seconds", now.Sub(st.Started).Seconds())
	}
	for _, c := range []struct {
		name string
		s    *cache.Stats
	}{{"internal", &st.Internal}, {"external", &st.External},
		{"internal_expect", &st.InternalExpect}, {"external_expect", &st.ExternalExpect}} {
		add("ctq_sync_cache_entries", float64(c.s.Active), "cache", c.name)
		add("ctq_sync_cache_objects", float64(c.s.Objects), "cache", c.name)
		add("ctq_sync_cache_added_total", float64(c.s.AddOK), "cache", c.name)
		add("ctq_sync_cache_add_failures_total", float64(c.s.AddFail), "cache", c.name)
		add("ctq_sync_cache_updated_total", float64(c.s.UpdOK), "cache", c.name)
		add("ctq_sync_cache_destroyed_total", float64(c.s.DelOK), "cache", c.name)
	}
	for _, l := range st.Links {
		add("ctq_sync_link_up", b(l.Up), "link", l.Name)
		add("ctq_sync_link_admin_up", b(l.State != link.StateDown), "link", l.Name)
		add("ctq_sync_link_active", b(l.Active), "link", l.Name)
		add("ctq_sync_link_sent_bytes_total", float64(l.Stats.SentBytes), "link", l.Name)
		add("ctq_sync_link_received_bytes_total", float64(l.Stats.RecvBytes), "link", l.Name)
		add("ctq_sync_link_sent_datagrams_total", float64(l.Stats.SentDatagrams), "link", l.Name)
		add("ctq_sync_link_received_datagrams_total", float64(l.Stats.RecvDatagrams), "link", l.Name)
		add("ctq_sync_link_send_errors_total", float64(l.Stats.SendErrors), "link", l.Name)
		add("ctq_sync_link_receive_errors_total", float64(l.Stats.RecvErrors), "link", l.Name)
		add("ctq_sync_link_receive_dropped_total", float64(l.Stats.RecvDropped), "link", l.Name)
	}
	add("ctq_sync_messages_sent_total", float64(st.SentData), "kind", "data")
	add("ctq_sync_messages_sent_total", float64(st.SentControl), "kind", "control")
	add("ctq_sync_messages_received_total", float64(st.RecvData), "kind", "data")
	add("ctq_sync_messages_received_total", float64(st.RecvControl), "kind", "control")
	add("ctq_sync_messages_received_total", float64(st.RecvExpect), "kind", "expect")
	kinds := make([]wire.Kind, 0, len(st.RecvErrors))
	for k := range st.RecvErrors {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		add("ctq_sync_messages_rejected_total", float64(st.RecvErrors[k]), "reason", k.String())
	}
	add("ctq_sync_sequence_lost_total", float64(st.SeqLost))
	add("ctq_sync_sequence_before_total", float64(st.SeqBefore))
	add("ctq_sync_resend_queue_length", float64(st.ResendQueue))
	add("ctq_sync_resend_queue_dropped_total", float64(st.ResendDropped))
	add("ctq_sync_sequence_jumps_total", float64(st.SeqJumps))
	add("ctq_sync_sequence_reanchors_total", float64(st.SeqReanchors))
	add("ctq_sync_resyncs_answered_total", float64(st.ResyncsAnswered))
	add("ctq_sync_resyncs_coalesced_total", float64(st.ResyncsCoalesced))
	add("ctq_sync_resyncs_requested_total", float64(st.ResyncsRequested))
	add("ctq_sync_nack_limited_total", float64(st.NACKLimited))
	add("ctq_sync_repaired_total", float64(st.Repaired))
	add("ctq_sync_repair_pending", float64(st.RepairPending))
	add("ctq_sync_peer_restarts_total", float64(st.PeerRestarts))
	add("ctq_sync_hello_resent_total", float64(st.HelloResent))
	add("ctq_sync_window_held_total", float64(st.WindowHeld))
	add("ctq_sync_transmit_queue_length", float64(st.TxQueue))
	add("ctq_sync_window", float64(st.Window))
	add("ctq_sync_window_widened_total", float64(st.WindowGrown))
	add("ctq_sync_probes_total", float64(st.Probes))
	add("ctq_sync_quick_acks_total", float64(st.QuickACKs))
	add("ctq_sync_implicit_resends_total", float64(st.ImplicitResends))
	add("ctq_sync_repeated_nacks_total", float64(st.RepeatedNACKs))
	add("ctq_sync_startup_advertised_total", float64(st.StartupAdvertised))
	add("ctq_sync_external_full_total", float64(st.ExternalFull))
	add("ctq_sync_external_rebuilds_total", float64(st.Rebuilds))
	add("ctq_sync_external_evicted_total", float64(st.ExternalEvicted))
	add("ctq_sync_kernel_events_total", float64(st.EventsReceived))
	add("ctq_sync_traffic_bytes_total", float64(st.TrafficBytes))
	add("ctq_sync_traffic_packets_total", float64(st.TrafficPackets))
	add("ctq_sync_kernel_events_filtered_total", float64(st.EventsFiltered))
	add("ctq_sync_kernel_event_overflows_total", float64(st.EventOverflows))
	add("ctq_sync_kernel_polls_total", float64(st.Polls))
	add("ctq_sync_injected_total", float64(st.Injected))
	add("ctq_sync_inject_errors_total", float64(st.InjectErrors))
	a := st.Auth
	add("ctq_sync_auth_accepted_total", float64(a.Accepted))
	for _, r := range []struct {
		reason string
		n      uint64
	}{{"forged", a.BadMAC}, {"replayed", a.Replayed}, {"stale_epoch", a.Stale}, {"reflected", a.Reflected}, {"short", a.Short}} {
		add("ctq_sync_auth_dropped_total", float64(r.n), "reason", r.reason)
	}
	add("ctq_sync_control_refused_total", float64(refused))
	return out
}
