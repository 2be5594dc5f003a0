package savefmt

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"ctq/engine"
)

// errValue marks a value that does not parse; callers turn it into an
// *Error naming the option's value.
var errValue = errors.New("invalid value")

// parseDec parses a decimal number 0..max, digits only. conntrack reads
// these values (ports, ICMP fields, timeouts, vtags) with atoi and truncates
// them; ctq rejects anything that is not a plain in-range number.
func parseDec(s string, max uint64) (uint64, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errValue
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		return 0, errValue
	}
	return v, nil
}

// parseNum parses a number 0..max the way strtoul(s, NULL, 0) reads it
// (0x hexadecimal, a leading 0 for octal, decimal otherwise), but rejects
// signs, spaces, empty strings and trailing garbage, which strtoul allows.
// conntrack reads marks, zones, secmarks, ids, GRE keys and protocol
// numbers this way.
func parseNum(s string, max uint64) (uint64, error) {
	base := 10
	digits := s
	switch {
	case len(s) > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'):
		base, digits = 16, s[2:]
	case len(s) > 1 && s[0] == '0':
		base, digits = 8, s[1:]
	}
	if digits == "" || strings.ContainsAny(digits, "+-_") {
		return 0, errValue
	}
	v, err := strconv.ParseUint(digits, base, 64)
	if err != nil || v > max {
		return 0, errValue
	}
	return v, nil
}

// parseAddr parses an IPv4 dotted quad or an IPv6 address. conntrack
// accepts inet_aton's legacy IPv4 forms ("10.1", "0xc6.18.9.1"); ctq does
// not, nor zones or CIDR masks.
func parseAddr(s string) (netip.Addr, error) {
	if strings.ContainsRune(s, '/') {
		return netip.Addr{}, fmt.Errorf("invalid IP address `%s' (CIDR masks are not supported here)", s)
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("invalid IP address `%s'", s)
	}
	return a, nil
}

// addrFamily is AF_INET or AF_INET6 for an address.
func addrFamily(a netip.Addr) int {
	if a.Is4() {
		return engine.FamilyIPv4
	}
	return engine.FamilyIPv6
}

// parseNAT splits a --src-nat/--dst-nat value: ADDR, ADDR:PORT, [V6] or
// [V6]:PORT; a bare IPv6 address is taken as an address only, as conntrack
// does. port is -1 when none was given.
func parseNAT(s string) (addr netip.Addr, port int, err error) {
	port = -1
	host := s
	rest := ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return addr, port, errors.New("no closing `]' around IPv6 address")
		}
		host, rest = s[1:end], s[end+1:]
		if host == "" {
			return addr, port, errors.New("no IPv6 address specified")
		}
		if rest != "" && rest[0] != ':' {
			return addr, port, fmt.Errorf("invalid NAT address `%s'", s)
		}
	case strings.Count(s, ":") == 1:
		i := strings.IndexByte(s, ':')
		host, rest = s[:i], s[i:]
	}
	if rest != "" {
		p := rest[1:]
		if p == "" {
			return addr, port, errors.New("no port specified after `:'")
		}
		v, err := parseDec(p, 65535)
		if err != nil {
			return addr, port, fmt.Errorf("invalid port `%s'", p)
		}
		port = int(v)
	}
	addr, err = parseAddr(host)
	if err != nil {
		return addr, port, err
	}
	if strings.HasPrefix(s, "[") && !addr.Is6() {
		return addr, port, fmt.Errorf("invalid IPv6 address `%s'", host)
	}
	return addr, port, nil
}

// statusKeywords are the -u keywords that set status bits, in conntrack's
// match order.
var statusKeywords = []struct {
	name string
	bit  engine.Status
}{
	{"ASSURED", engine.StatusAssured},
	{"SEEN_REPLY", engine.StatusSeenReply},
	{"UNSET", 0},
	{"FIXED_TIMEOUT", engine.StatusFixedTimeout},
	{"EXPECTED", engine.StatusExpected},
	{"OFFLOAD", engine.StatusOffload},
	{"HW_OFFLOAD", engine.StatusHWOffload},
}

// parseStatus parses a -u list: comma-separated keywords, each the whole
// name or a prefix of exactly one name (case-insensitive). conntrack takes
// the first keyword a prefix matches and silently swallows prefixes of
// SRC_NAT and DST_NAT; ctq rejects ambiguous and unknown items, UNSET mixed
// with other flags, and the filter-only forms UNREPLIED and !FLAG.
// off is the byte offset of each error's item in s.
func parseStatus(s string) (st engine.Status, off int, err error) {
	pos := 0
	unset := false
	n := 0
	for _, item := range strings.Split(s, ",") {
		off = pos
		pos += len(item) + 1
		n++
		if item == "" {
			return 0, off, fmt.Errorf("bad parameter `%s' (empty status flag)", s)
		}
		if strings.HasPrefix(item, "!") || strings.EqualFold(item, "UNREPLIED") {
			return 0, off, fmt.Errorf("status `%s' is a filter, not a flag a line can set", item)
		}
		up := strings.ToUpper(item)
		var matches []string
		var bit engine.Status
		exact := false
		for _, k := range statusKeywords {
			if k.name == up {
				matches, bit, exact = []string{k.name}, k.bit, true
				break
			}
			if strings.HasPrefix(k.name, up) {
				matches = append(matches, k.name)
				bit = k.bit
			}
		}
		if !exact {
			for _, nat := range []string{"SRC_NAT", "DST_NAT"} {
				if strings.HasPrefix(nat, up) {
					if len(matches) == 0 {
						return 0, off, fmt.Errorf("status `%s' (%s) cannot be set with -u; use --%s", item, nat,
							strings.ToLower(strings.ReplaceAll(nat, "_", "-")))
					}
					matches = append(matches, nat)
				}
			}
		}
		switch {
		case len(matches) == 0:
			return 0, off, fmt.Errorf("unknown status `%s'", item)
		case len(matches) > 1:
			return 0, off, fmt.Errorf("ambiguous status `%s' (%s)", item, strings.Join(matches, ", "))
		}
		if matches[0] == "UNSET" {
			unset = true
		}
		st |= bit
	}
	if unset && n > 1 {
		return 0, 0, fmt.Errorf("status UNSET cannot be combined with other flags in `%s'", s)
	}
	return st, 0, nil
}

// parseRole parses a DCCP role: a case-insensitive prefix of "client" or
// "server" (CT_DCCP_ROLE_CLIENT, CT_DCCP_ROLE_SERVER).
func parseRole(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	for i, name := range []string{"client", "server"} {
		if len(s) <= len(name) && strings.EqualFold(s, name[:len(s)]) {
			return i, true
		}
	}
	return 0, false
}

// parseProto parses a -p value: a built-in protocol name (case-insensitive)
// or a number 0..255. conntrack also accepts /etc/protocols names (handled
// as protocols without options); ctq asks for the number instead.
func parseProto(s string) (int, error) {
	if n, ok := engine.ProtoNum(s); ok {
		return n, nil
	}
	if v, err := parseNum(s, 255); err == nil {
		return int(v), nil
	}
	return 0, fmt.Errorf("`%s' unsupported protocol (give a name among %s, or a number 0-255)",
		s, strings.Join(engine.ProtoNames, " "))
}

// icmpReplyType is the reply type the kernel's ICMP/ICMPv6 trackers pair
// with an original type (the invmap of nf_conntrack_proto_icmp.c and
// nf_conntrack_proto_icmpv6.c); ok is false for types without a pair.
func icmpReplyType(proto, typ int) (int, bool) {
	if proto == engine.ProtoICMP {
		switch typ {
		case 8, 0: // ICMP_ECHO <-> ICMP_ECHOREPLY
			return 8 - typ, true
		case 13, 14: // ICMP_TIMESTAMP <-> ICMP_TIMESTAMPREPLY
			return 27 - typ, true
		case 15, 16: // ICMP_INFO_REQUEST <-> ICMP_INFO_REPLY
			return 31 - typ, true
		case 17, 18: // ICMP_ADDRESS <-> ICMP_ADDRESSREPLY
			return 35 - typ, true
		}
		return 0, false
	}
	switch typ {
	case 128, 129: // ICMPV6_ECHO_REQUEST <-> ICMPV6_ECHO_REPLY
		return 257 - typ, true
	case 139, 140: // ICMPV6_NI_QUERY <-> ICMPV6_NI_REPLY
		return 279 - typ, true
	}
	return 0, false
}
