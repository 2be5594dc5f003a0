// Package engine holds ctq's record type, its tables and sources (the live
// kernel over netlink, saved snapshots) and the execution of query plans.
//
// The engine knows nothing of the statement language: lang compiles a
// statement into a Plan whose predicate and keys are plain Go functions.
package engine

import (
	"net/netip"
	"time"
)

// Flow is one conntrack entry. Its fields carry the names the language gives
// them (the expr tag); fields tagged "-" exist for the formatters only.
//
// A Flow handed to a callback by Source.Scan is reused for the next entry:
// copy it (a plain value copy is a deep copy) to keep it.
type Flow struct {
	// Family is "ipv4" or "ipv6" ("unknown" for anything else).
	Family string `expr:"family"`
	// Proto is conntrack's name of the layer-4 protocol ("tcp", "udp",
	// "udplite", "icmp", "icmpv6", "sctp", "gre", "dccp") or "unknown".
	Proto string `expr:"proto"`
	// ProtoNum is the IP protocol number.
	ProtoNum int `expr:"protonum"`

	// Original direction tuple.
	Src   netip.Addr `expr:"src"`
	Dst   netip.Addr `expr:"dst"`
	Sport int        `expr:"sport"` // GRE: source key
	Dport int        `expr:"dport"` // GRE: destination key

	// Reply direction tuple.
	ReplySrc   netip.Addr `expr:"reply_src"`
	ReplyDst   netip.Addr `expr:"reply_dst"`
	ReplySport int        `expr:"reply_sport"`
	ReplyDport int        `expr:"reply_dport"`

	// ICMP and ICMPv6 fields of the original tuple.
	ICMPType int `expr:"icmp_type"`
	ICMPCode int `expr:"icmp_code"`
	ICMPID   int `expr:"icmp_id"`
	// ICMP fields of the reply tuple (echo reply for an echo request).
	ReplyICMPType int `expr:"reply_icmp_type"`
	ReplyICMPCode int `expr:"reply_icmp_code"`
	ReplyICMPID   int `expr:"reply_icmp_id"`

	// State is the TCP, SCTP or DCCP state name ("ESTABLISHED"), empty for
	// protocols without state.
	State string `expr:"state"`
	// StateNum is the kernel's state number behind State.
	StateNum int `expr:"state_num"`

	// Status holds the IPS_* bits; the booleans below are derived from it.
	Status    Status `expr:"status"`
	Assured   bool   `expr:"assured"`
	SeenReply bool   `expr:"seen_reply"`
	Confirmed bool   `expr:"confirmed"`
	SNAT      bool   `expr:"snat"`
	DNAT      bool   `expr:"dnat"`
	Offload   bool   `expr:"offload"`

	Mark      int    `expr:"mark"`
	Secmark   int    `expr:"secmark"`
	Zone      int    `expr:"zone"`
	OrigZone  int    `expr:"orig_zone"`
	ReplyZone int    `expr:"reply_zone"`
	Timeout   int    `expr:"timeout"` // seconds left
	ID        int    `expr:"id"`
	Use       int    `expr:"use"`
	Labels    Labels `expr:"labels"`
	Helper    string `expr:"helper"`
	Secctx    string `expr:"secctx"`

	// Counters (present when nf_conntrack_acct was on when the entry was
	// created). Packets and Bytes are both directions together.
	Packets      int `expr:"packets"`
	Bytes        int `expr:"bytes"`
	OrigPackets  int `expr:"orig_packets"`
	OrigBytes    int `expr:"orig_bytes"`
	ReplyPackets int `expr:"reply_packets"`
	ReplyBytes   int `expr:"reply_bytes"`

	// Start and Stop are the kernel timestamps (nf_conntrack_timestamp);
	// Age is the time since Start when the entry was read.
	Start time.Time     `expr:"start"`
	Stop  time.Time     `expr:"stop"`
	Age   time.Duration `expr:"age"`

	// SCTP verification tags and the DCCP role (DCCPRoles: an
	// expression compares role with its name, role == "client").
	OrigVtag  int `expr:"orig_vtag"`
	ReplyVtag int `expr:"reply_vtag"`
	DCCPRole  int `expr:"role"`

	// Has says which optional attributes the kernel (or the snapshot)
	// supplied; formatters print an attribute only when it is present.
	Has Attr `expr:"-"`
}

// Attr is a set of optional Flow attributes, recorded in Flow.Has.
type Attr uint32

// Optional attributes of a Flow.
const (
	HasTimeout   Attr = 1 << iota // CTA_TIMEOUT
	HasState                      // CTA_PROTOINFO with a state
	HasStatus                     // CTA_STATUS
	HasMark                       // CTA_MARK
	HasSecmark                    // CTA_SECMARK
	HasZone                       // CTA_ZONE
	HasOrigZone                   // CTA_TUPLE_ZONE in the original tuple
	HasReplyZone                  // CTA_TUPLE_ZONE in the reply tuple
	HasCounters                   // CTA_COUNTERS_ORIG/REPLY
	HasStart                      // CTA_TIMESTAMP_START
	HasStop                       // CTA_TIMESTAMP_STOP
	HasHelper                     // CTA_HELP
	HasUse                        // CTA_USE
	HasID                         // CTA_ID
	HasLabels                     // CTA_LABELS
	HasSecctx                     // CTA_SECCTX
	HasVtags                      // CTA_PROTOINFO_SCTP_VTAG_*
	HasRole                       // CTA_PROTOINFO_DCCP_ROLE
	HasReply                      // CTA_TUPLE_REPLY
)

// SetProto sets ProtoNum and the matching Proto name.
func (f *Flow) SetProto(num int) {
	f.ProtoNum = num
	f.Proto = ProtoName(num)
}

// SetFamily sets Family from an address family number (AF_INET, AF_INET6).
func (f *Flow) SetFamily(af int) {
	f.Family = FamilyName(af)
}

// L3Num is the address family number of Family (2, 10, or 0).
func (f *Flow) L3Num() int {
	return FamilyNum(f.Family)
}

// SetState sets StateNum and the State name for the flow's protocol, and
// records the state as present.
func (f *Flow) SetState(num int) {
	f.StateNum = num
	f.State = StateName(f.ProtoNum, num)
	f.Has |= HasState
}

// SetStatus sets Status and the booleans derived from it.
func (f *Flow) SetStatus(s Status) {
	f.Status = s
	f.Assured = s&StatusAssured != 0
	f.SeenReply = s&StatusSeenReply != 0
	f.Confirmed = s&StatusConfirmed != 0
	f.SNAT = s&StatusSrcNAT != 0
	f.DNAT = s&StatusDstNAT != 0
	f.Offload = s&(StatusOffload|StatusHWOffload) != 0
	f.Has |= HasStatus
}

// SetCounters sets the per-direction counters and their sums.
func (f *Flow) SetCounters(origPackets, origBytes, replyPackets, replyBytes int) {
	f.OrigPackets, f.OrigBytes = origPackets, origBytes
	f.ReplyPackets, f.ReplyBytes = replyPackets, replyBytes
	f.Packets = origPackets + replyPackets
	f.Bytes = origBytes + replyBytes
	f.Has |= HasCounters
}

// SetStart sets the start timestamp and the age relative to now.
func (f *Flow) SetStart(start, now time.Time) {
	f.Start = start
	f.Age = now.Sub(start)
	f.Has |= HasStart
}

// Reset clears f for reuse by a decoder.
func (f *Flow) Reset() {
	*f = Flow{}
}
