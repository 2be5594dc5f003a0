package engine

import "strings"

// Address family numbers as the kernel uses them (nfgenmsg.nfgen_family).
const (
	AF_UNSPEC = 0  // AF_UNSPEC
	AF_INET   = 2  // AF_INET
	AF_INET6  = 10 // AF_INET6
)

// FamilyName maps an address family number to "ipv4", "ipv6" or "unknown".
func FamilyName(af int) string {
	switch af {
	case AF_INET:
		return "ipv4"
	case AF_INET6:
		return "ipv6"
	}
	return "unknown"
}

// FamilyNum maps "ipv4"/"ipv6" to AF_INET/AF_INET6, anything else to 0.
func FamilyNum(name string) int {
	switch name {
	case "ipv4":
		return AF_INET
	case "ipv6":
		return AF_INET6
	}
	return AF_UNSPEC
}

// IP protocol numbers conntrack has trackers (and names) for.
const (
	IPPROTO_ICMP    = 1   // IPPROTO_ICMP
	IPPROTO_TCP     = 6   // IPPROTO_TCP
	IPPROTO_UDP     = 17  // IPPROTO_UDP
	IPPROTO_DCCP    = 33  // IPPROTO_DCCP
	IPPROTO_GRE     = 47  // IPPROTO_GRE
	IPPROTO_ICMPV6  = 58  // IPPROTO_ICMPV6
	IPPROTO_SCTP    = 132 // IPPROTO_SCTP
	IPPROTO_UDPLITE = 136 // IPPROTO_UDPLITE
)

// ProtoName is conntrack's name for an IP protocol number, "unknown" for
// protocols without a conntrack tracker.
func ProtoName(num int) string {
	switch num {
	case IPPROTO_TCP:
		return "tcp"
	case IPPROTO_UDP:
		return "udp"
	case IPPROTO_UDPLITE:
		return "udplite"
	case IPPROTO_ICMP:
		return "icmp"
	case IPPROTO_ICMPV6:
		return "icmpv6"
	case IPPROTO_SCTP:
		return "sctp"
	case IPPROTO_GRE:
		return "gre"
	case IPPROTO_DCCP:
		return "dccp"
	}
	return "unknown"
}

// ProtoNames lists the protocol names ProtoNum accepts, in conntrack's order.
var ProtoNames = []string{"tcp", "udp", "udplite", "icmp", "icmpv6", "sctp", "gre", "dccp"}

// ProtoNum maps a protocol name (case-insensitive) to its number; ok is false
// for an unknown name.
func ProtoNum(name string) (num int, ok bool) {
	switch strings.ToLower(name) {
	case "tcp":
		return IPPROTO_TCP, true
	case "udp":
		return IPPROTO_UDP, true
	case "udplite":
		return IPPROTO_UDPLITE, true
	case "icmp":
		return IPPROTO_ICMP, true
	case "icmpv6", "ipv6-icmp":
		return IPPROTO_ICMPV6, true
	case "sctp":
		return IPPROTO_SCTP, true
	case "gre":
		return IPPROTO_GRE, true
	case "dccp":
		return IPPROTO_DCCP, true
	}
	return 0, false
}

// HasPorts reports whether a protocol's tuple carries source and destination
// ports (GRE carries keys in the same attributes).
func HasPorts(proto int) bool {
	switch proto {
	case IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, IPPROTO_SCTP, IPPROTO_DCCP, IPPROTO_GRE:
		return true
	}
	return false
}

// TCPStates are the names of enum tcp_conntrack, indexed by number
// (TCP_CONNTRACK_NONE ... TCP_CONNTRACK_SYN_SENT2, which conntrack also calls
// LISTEN).
var TCPStates = []string{
	"NONE", "SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT",
	"CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "SYN_SENT2",
}

// SCTPStates are the names of enum sctp_conntrack, indexed by number.
var SCTPStates = []string{
	"NONE", "CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED", "ESTABLISHED",
	"SHUTDOWN_SENT", "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT", "HEARTBEAT_SENT",
	"HEARTBEAT_ACKED",
}

// DCCPStates are the names of enum ct_dccp_states, indexed by number.
var DCCPStates = []string{
	"NONE", "REQUEST", "RESPOND", "PARTOPEN", "OPEN", "CLOSEREQ", "CLOSING",
	"TIMEWAIT", "IGNORE", "INVALID",
}

// StateTable returns the state names of a protocol, nil if it has none.
func StateTable(proto int) []string {
	switch proto {
	case IPPROTO_TCP:
		return TCPStates
	case IPPROTO_SCTP:
		return SCTPStates
	case IPPROTO_DCCP:
		return DCCPStates
	}
	return nil
}

// StateName is the name of state num of a protocol; out-of-range numbers
// print as "NONE", as conntrack does.
func StateName(proto, num int) string {
	t := StateTable(proto)
	if num < 0 || num >= len(t) {
		return "NONE"
	}
	return t[num]
}

// StateNum maps a state name of a protocol to its number (exact,
// case-sensitive like conntrack; "LISTEN" is TCP's SYN_SENT2).
func StateNum(proto int, name string) (int, bool) {
	if proto == IPPROTO_TCP && name == "LISTEN" {
		return 9, true
	}
	for i, s := range StateTable(proto) {
		if s == name {
			return i, true
		}
	}
	return 0, false
}
