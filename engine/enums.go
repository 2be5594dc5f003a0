package engine

import "strings"

// Address family numbers as the kernel uses them (nfgenmsg.nfgen_family).
const (
	FamilyUnspec = 0  // AF_UNSPEC
	FamilyIPv4   = 2  // AF_INET
	FamilyIPv6   = 10 // AF_INET6
)

// FamilyName maps an address family number to "ipv4", "ipv6" or "unknown".
func FamilyName(af int) string {
	switch af {
	case FamilyIPv4:
		return "ipv4"
	case FamilyIPv6:
		return "ipv6"
	}
	return "unknown"
}

// FamilyNum maps "ipv4"/"ipv6" to AF_INET/AF_INET6, anything else to 0.
func FamilyNum(name string) int {
	switch name {
	case "ipv4":
		return FamilyIPv4
	case "ipv6":
		return FamilyIPv6
	}
	return FamilyUnspec
}

// IP protocol numbers conntrack has trackers (and names) for.
const (
	ProtoICMP    = 1   // IPPROTO_ICMP
	ProtoTCP     = 6   // IPPROTO_TCP
	ProtoUDP     = 17  // IPPROTO_UDP
	ProtoDCCP    = 33  // IPPROTO_DCCP
	ProtoGRE     = 47  // IPPROTO_GRE
	ProtoICMPv6  = 58  // IPPROTO_ICMPV6
	ProtoSCTP    = 132 // IPPROTO_SCTP
	ProtoUDPLite = 136 // IPPROTO_UDPLITE
)

// ProtoName is conntrack's name for an IP protocol number, "unknown" for
// protocols without a conntrack tracker.
func ProtoName(num int) string {
	switch num {
	case ProtoTCP:
		return "tcp"
	case ProtoUDP:
		return "udp"
	case ProtoUDPLite:
		return "udplite"
	case ProtoICMP:
		return "icmp"
	case ProtoICMPv6:
		return "icmpv6"
	case ProtoSCTP:
		return "sctp"
	case ProtoGRE:
		return "gre"
	case ProtoDCCP:
		return "dccp"
	}
	return "unknown"
}

// DCCPRoles are the names of enum ct_dccp_roles, indexed by number.
var DCCPRoles = []string{"client", "server"}

// ProtoNames lists the protocol names ProtoNum accepts, in conntrack's order.
var ProtoNames = []string{"tcp", "udp", "udplite", "icmp", "icmpv6", "sctp", "gre", "dccp"}

// ProtoNum maps a protocol name (case-insensitive) to its number; ok is false
// for an unknown name.
func ProtoNum(name string) (num int, ok bool) {
	switch strings.ToLower(name) {
	case "tcp":
		return ProtoTCP, true
	case "udp":
		return ProtoUDP, true
	case "udplite":
		return ProtoUDPLite, true
	case "icmp":
		return ProtoICMP, true
	case "icmpv6", "ipv6-icmp":
		return ProtoICMPv6, true
	case "sctp":
		return ProtoSCTP, true
	case "gre":
		return ProtoGRE, true
	case "dccp":
		return ProtoDCCP, true
	}
	return 0, false
}

// HasPorts reports whether a protocol's tuple carries source and destination
// ports (GRE carries keys in the same attributes).
func HasPorts(proto int) bool {
	switch proto {
	case ProtoTCP, ProtoUDP, ProtoUDPLite, ProtoSCTP, ProtoDCCP, ProtoGRE:
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
	case ProtoTCP:
		return TCPStates
	case ProtoSCTP:
		return SCTPStates
	case ProtoDCCP:
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
	if proto == ProtoTCP && name == "LISTEN" {
		return 9, true
	}
	for i, s := range StateTable(proto) {
		if s == name {
			return i, true
		}
	}
	return 0, false
}
