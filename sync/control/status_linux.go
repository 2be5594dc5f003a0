package control

import (
	"errors"
	"fmt"
	"slices"

	"ctq/sync/cache"
	"ctq/sync/link"
	"ctq/sync/node"
	"ctq/sync/wire"
)

// StatusLines renders a node's counters for a person, in the order of
// `conntrackd -s`: the caches, the link's traffic, the messages.
func StatusLines(s *node.Stats) []string {
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	for _, c := range []struct {
		name string
		st   *cache.Stats
	}{{"internal", &s.Internal}, {"external", &s.External},
		{"internal expect", &s.InternalExpect}, {"external expect", &s.ExternalExpect}} {
		add("cache %s:", c.name)
		add("  active entries:      %12d   objects held: %12d", c.st.Active, c.st.Objects)
		add("  entries added:       %12d   failed: %12d   (full: %d)", c.st.AddOK, c.st.AddFail, c.st.AddFailFull)
		add("  entries updated:     %12d   failed: %12d   (no entry: %d)", c.st.UpdOK, c.st.UpdFail, c.st.UpdFailNoEntry)
		add("  entries destroyed:   %12d   failed: %12d   (no entry: %d)", c.st.DelOK, c.st.DelFail, c.st.DelFailNoEntry)
		add("")
	}
	l := &s.Link
	add("link:")
	add("  bytes sent:          %12d   received: %12d", l.SentBytes, l.RecvBytes)
	add("  datagrams sent:      %12d   received: %12d", l.SentDatagrams, l.RecvDatagrams)
	add("  errors sending:      %12d   receiving: %12d", l.SendErrors, l.RecvErrors)
	add("  dropped by the kernel (receive buffer full): %d", l.RecvDropped)
	// One link of no interface: the counters above are its own.
	if len(s.Links) > 1 || len(s.Links) == 1 && s.Links[0].Interface != "" {
		for _, ls := range s.Links {
			role, state := "BACKUP", "up"
			if ls.Active {
				role = "ACTIVE"
			}
			switch {
			case ls.State == link.StateNoCarrier:
				state = "down (no carrier)"
			case ls.State == link.StateDown || !ls.Up:
				state = "down"
			}
			add("  %s %s (%s, line %d) %s: sent %d datagrams, received %d, errors %d/%d, dropped by the kernel %d", role, ls.Name, ls.Transport,
				ls.Line, state, ls.Stats.SentDatagrams, ls.Stats.RecvDatagrams, ls.Stats.SendErrors, ls.Stats.RecvErrors, ls.Stats.RecvDropped)
		}
	}
	add("")
	add("messages:")
	add("  data sent:           %12d   received: %12d", s.SentData, s.RecvData)
	add("  control sent:        %12d   received: %12d", s.SentControl, s.RecvControl)
	add("  expectations received:%11d", s.RecvExpect)
	add("  sequence lost:       %12d   before: %12d", s.SeqLost, s.SeqBefore)
	add("  sequence jumps:      %12d   re-anchored: %12d", s.SeqJumps, s.SeqReanchors)
	add("  resend queue:        %12d   flows: %12d   dropped: %d", s.ResendQueue, s.ResendObjects, s.ResendDropped)
	add("  repaired:            %12d   pending: %12d   NACKs over budget: %d", s.Repaired, s.RepairPending, s.NACKLimited)
	add("  resyncs answered:    %12d   coalesced: %12d   requested: %d", s.ResyncsAnswered, s.ResyncsCoalesced, s.ResyncsRequested)
	add("  peer restarts:       %12d   sent again after its HELLO: %d   advertised at start: %d", s.PeerRestarts, s.HelloResent, s.StartupAdvertised)
	add("  waiting to be sent:  %12d   waited for the window: %d   window: %d (widened %d times)", s.TxQueue, s.WindowHeld, s.Window, s.WindowGrown)
	add("  loss recovery:       probes %d, quick ACKs %d, resent as left out of an ACK %d, NACKs repeated %d",
		s.Probes, s.QuickACKs, s.ImplicitResends, s.RepeatedNACKs)
	add("  external cache full: %12d   rebuilds: %12d   evicted: %d", s.ExternalFull, s.Rebuilds, s.ExternalEvicted)
	add("  event overruns:      %12d", s.EventOverflows)
	if s.Polls > 0 {
		add("  kernel table polls:  %12d", s.Polls)
	}
	add("  send errors:         %12d", s.SendErrors)
	if s.Injected+s.InjectErrors > 0 {
		add("  written to kernel:   %12d   refused: %12d", s.Injected, s.InjectErrors)
		if s.LastInjectError != "" {
			add("  last refusal: %s", s.LastInjectError)
		}
	}
	if s.Purges > 0 {
		add("  purges:              %12d   failed: %12d", s.Purges, s.PurgeErrors)
	}
	if s.DumpErrors > 0 {
		add("  failed kernel dumps: %12d", s.DumpErrors)
	}
	if a := s.Auth; a != (link.AuthStats{}) {
		add("")
		add("authentication:")
		add("  datagrams accepted:  %12d   dropped: %12d", a.Accepted, a.Dropped())
		add("    forged or corrupt: %12d   replayed: %12d   stale epoch: %12d", a.BadMAC, a.Replayed, a.Stale)
		add("    reflected:         %12d   too short: %12d", a.Reflected, a.Short)
	}
	kinds := make([]wire.Kind, 0, len(s.RecvErrors))
	for k := range s.RecvErrors {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		add("  rejected (%s): %d", k, s.RecvErrors[k])
	}
	return out
}

// CommitLines renders the result of a commit.
func CommitLines(r *node.CommitResult) []string {
	out := []string{fmt.Sprintf("%d entries committed (%d created, %d replaced, %d failed)",
		r.Entries, r.Created, r.Replaced, r.Failed)}
	for _, err := range r.Errors {
		out = append(out, "  error: "+err.Error())
	}
	return out
}

// CommitError is the error of a commit some entries of which the kernel
// refused (a full table, a clash), nil when all were written: a failed
// commit fails its request, so that a failover script does not go on to
// flush the external cache it could not commit.
func CommitError(r *node.CommitResult) error {
	failed := r.Failed + r.ExpectFailed
	if failed == 0 {
		return nil
	}
	msg := fmt.Sprintf("commit failed: the kernel refused %d of %d entries", failed, r.Entries+r.ExpectEntries)
	if len(r.Errors) > 0 {
		msg += " (first error: " + r.Errors[0].Error() + ")"
	}
	return errors.New(msg)
}
