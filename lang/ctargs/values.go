package ctargs

import (
	"math"
	"net/netip"
	"strings"
)

// The value parsers below reproduce the C library functions conntrack
// 1.4.7 reads its option values with, sloppiness included: leading
// spaces, signs, trailing garbage and overflow behave as in glibc.

// isCSpace is isspace(3) in the C locale.
func isCSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// digitVal is the value of c as a digit of any base up to 36, or 99.
func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// strtoul is strtoul(3) on s: it returns the value (ULONG_MAX on
// overflow, negated for a leading '-') and the index of the first byte
// not used (0 when no number was found).
func strtoul(s string, base int) (uint64, int) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if (base == 0 || base == 16) && i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') &&
		i+2 < len(s) && digitVal(s[i+2]) < 16 {
		i += 2
		base = 16
	} else if base == 0 {
		base = 10
		if i < len(s) && s[i] == '0' {
			base = 8
		}
	}
	start := i
	var v uint64
	over := false
	for i < len(s) && digitVal(s[i]) < base {
		d := uint64(digitVal(s[i]))
		if v > (math.MaxUint64-d)/uint64(base) {
			over = true
		}
		v = v*uint64(base) + d
		i++
	}
	if i == start {
		return 0, 0
	}
	if over {
		return math.MaxUint64, i
	}
	if neg {
		v = -v
	}
	return v, i
}

// strtol is strtol(s, &end, 10): the value, clamped to the int64 range,
// and the index of the first byte not used (0 when none was).
func strtol(s string) (int64, int) {
	i := 0
	for i < len(s) && isCSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	over := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if v > (math.MaxUint64-9)/10 {
			over = true
		} else {
			v = v*10 + uint64(s[i]-'0')
		}
		i++
	}
	if i == start {
		return 0, 0
	}
	switch {
	case neg && (over || v > 1<<63):
		return math.MinInt64, i
	case neg:
		return -int64(v), i
	case over || v > math.MaxInt64:
		return math.MaxInt64, i
	}
	return int64(v), i
}

// atoi is atoi(3): (int)strtol(s, NULL, 10).
func atoi(s string) int32 {
	v, _ := strtol(s)
	return int32(v)
}

// atol is atol(3).
func atol(s string) int64 {
	v, _ := strtol(s)
	return v
}

// strtoul0 is strtoul(s, NULL, 0), garbage after the number ignored.
func strtoul0(s string) uint64 {
	v, _ := strtoul(s, 0)
	return v
}

// inetAton is glibc's inet_aton: one to four parts separated by dots,
// each decimal, octal (leading 0) or hexadecimal (0x), the last part
// filling the remaining bytes; anything after a space is ignored.
func inetAton(s string) (netip.Addr, bool) {
	var parts [4]byte
	n := 0
	i := 0
	var val uint64
	for {
		if i >= len(s) || s[i] < '0' || s[i] > '9' {
			return netip.Addr{}, false
		}
		v, used := strtoul(s[i:], 0)
		if v > 0xffffffff {
			return netip.Addr{}, false
		}
		val = v
		i += used
		if i < len(s) && s[i] == '.' {
			if n > 2 || val > 0xff {
				return netip.Addr{}, false
			}
			parts[n] = byte(val)
			n++
			i++
			continue
		}
		break
	}
	if i < len(s) && !isCSpace(s[i]) {
		return netip.Addr{}, false
	}
	max := [4]uint64{0xffffffff, 0xffffff, 0xffff, 0xff}
	if val > max[n] {
		return netip.Addr{}, false
	}
	word := uint32(parts[0])<<24 | uint32(parts[1])<<16 | uint32(parts[2])<<8 | uint32(parts[3])
	word |= uint32(val)
	return netip.AddrFrom4([4]byte{byte(word >> 24), byte(word >> 16), byte(word >> 8), byte(word)}), true
}

// inetPton6 is inet_pton(AF_INET6, s).
func inetPton6(s string) (netip.Addr, bool) {
	if !strings.Contains(s, ":") || strings.ContainsAny(s, "%") {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() {
		return netip.Addr{}, false
	}
	return a, true
}

// Netmask results of parseAddr besides a prefix length.
const (
	noMask  = -1 // no "/N"
	badMask = -2 // an invalid "/N"
)

// parseAddr is conntrack's parse_addr: the address (IPv4 by inet_aton
// first, then IPv6) of s and, when withMask, the prefix length after a
// '/' (noMask, badMask). Like conntrack it only looks at the first 45
// bytes of s. ok is false for an invalid address.
func parseAddr(s string, withMask bool) (a netip.Addr, mask int, ok bool) {
	if len(s) > 45 {
		s = s[:45]
	}
	mask = noMask
	if withMask {
		if i := strings.IndexByte(s, '/'); i >= 0 {
			v, end := strtol(s[i+1:])
			if end == 0 {
				// No digits: strtol leaves end at the start, which is
				// the end of the string only for a bare "/".
				end = 0
				v = 0
			}
			m := int32(v)
			mask = int(m)
			if m < 0 || end != len(s)-i-1 {
				mask = badMask
			}
			s = s[:i]
		}
	}
	if a, ok = inetAton(s); ok {
		if mask > 32 {
			mask = badMask
		}
		return a, mask, true
	}
	if a, ok = inetPton6(s); ok {
		if mask > 128 {
			mask = badMask
		}
		return a, mask, true
	}
	return netip.Addr{}, mask, false
}

// prefixMask is the netmask of a prefix length for a family's addresses.
func prefixMask(is4 bool, bits int) netip.Addr {
	if is4 {
		var b [4]byte
		for i := range b {
			b[i] = maskByte(&bits)
		}
		return netip.AddrFrom4(b)
	}
	var b [16]byte
	for i := range b {
		b[i] = maskByte(&bits)
	}
	return netip.AddrFrom16(b)
}

// maskByte takes up to 8 bits of a prefix length for one mask byte.
func maskByte(bits *int) byte {
	switch {
	case *bits >= 8:
		*bits -= 8
		return 0xff
	case *bits > 0:
		b := byte(0xff << (8 - *bits))
		*bits = 0
		return b
	}
	return 0
}

// splitNAT is conntrack's split_address_and_port for the value of -n, -g
// and -j: "ADDR", "ADDR:PORT", "[V6]:PORT" or a bare IPv6 address. port
// is "" when none was given.
func splitNAT(arg string) (addr, port string, err *Error) {
	colon := -1
	if i := strings.IndexByte(arg, '['); i >= 0 {
		start := i + 1
		end := strings.IndexByte(arg[start:], ']')
		switch {
		case end == 0:
			return "", "", paramErr("No IPv6 address specified")
		case end < 0:
			return "", "", paramErr("No closing ']' around IPv6 address")
		}
		end += start
		if c := strings.IndexByte(arg[end:], ':'); c >= 0 {
			colon = end + c
			addr = arg[start:end]
		}
	} else if c := strings.IndexByte(arg, ':'); c >= 0 && !strings.Contains(arg[c+1:], ":") {
		colon = c
		addr = arg[:c]
	}
	if colon < 0 {
		return arg, "", nil
	}
	port = arg[colon+1:]
	if port == "" {
		return "", "", paramErr("No port specified after `:'")
	}
	if strings.TrimLeft(port, "0123456789") != "" {
		return "", "", paramErr("Invalid port `%s'", port)
	}
	if v, _ := strtol(port); v > 65535 {
		return "", "", paramErr("Invalid port `%s'", port)
	}
	return addr, port, nil
}

// keywordMatch reports whether item is a case-insensitive prefix of key
// (strncasecmp(item, key, strlen(item)) == 0).
func keywordMatch(item, key string) bool {
	return len(item) <= len(key) && asciiEqualFold(item, key[:len(item)])
}

// asciiEqualFold compares ASCII case-insensitively (the C locale).
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if x >= 'A' && x <= 'Z' {
			x += 'a' - 'A'
		}
		if y >= 'A' && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// keywordList is one of conntrack's keyword lists (parse_array).
type keywordList struct {
	names []string
	bits  []uint32
}

// The keyword lists of -u, -e and -o, in conntrack's match order.
var (
	statusKeywords = keywordList{
		[]string{"ASSURED", "SEEN_REPLY", "UNSET", "FIXED_TIMEOUT", "EXPECTED", "OFFLOAD", "HW_OFFLOAD"},
		[]uint32{1 << 2, 1 << 1, 0, 1 << 10, 1 << 0, 1 << 14, 1 << 15},
	}
	eventKeywords = keywordList{
		[]string{"ALL", "NEW", "UPDATES", "DESTROY"},
		[]uint32{evNew | evUpdate | evDestroy, evNew, evUpdate, evDestroy},
	}
	outputKeywords = keywordList{
		[]string{"xml", "extended", "timestamp", "id", "ktimestamp", "labels", "userspace", "save"},
		[]uint32{outXML, outExtended, outTimestamp, outID, outKTimestamp, outLabels, outUserspace, outSave},
	}
)

// Event mask bits (CT_EVENT_F_*).
const (
	evNew     = 1 << 0
	evUpdate  = 1 << 1
	evDestroy = 1 << 2
)

// Output bits (_O_*); outUserspace has none in conntrack (0), it is kept
// here to report -o userspace.
const (
	outXML        = 1 << 0
	outExtended   = 1 << 1
	outTimestamp  = 1 << 2
	outID         = 1 << 3
	outKTimestamp = 1 << 4
	outLabels     = 1 << 5
	outSave       = 1 << 6
	outUserspace  = 1 << 7
)

// parseKeyword is do_parse_parameter: item (non-empty) is first checked
// against SRC_NAT and DST_NAT (which print a warning and set nothing),
// then against the list.
func (p *parser) parseKeyword(item string, l *keywordList, value *uint32) bool {
	if keywordMatch(item, "SRC_NAT") {
		p.warn("WARNING: ignoring SRC_NAT, use --src-nat instead")
		return true
	}
	if keywordMatch(item, "DST_NAT") {
		p.warn("WARNING: ignoring DST_NAT, use --dst-nat instead")
		return true
	}
	for i, n := range l.names {
		if keywordMatch(item, n) {
			*value |= l.bits[i]
			return true
		}
	}
	return false
}

// parseKeywords is parse_parameter: a comma list of keywords. The error
// names the rest of the list from the bad item on.
func (p *parser) parseKeywords(arg string, l *keywordList, value *uint32) *Error {
	for {
		comma := strings.IndexByte(arg, ',')
		if comma < 0 {
			break
		}
		if comma == 0 || !p.parseKeyword(arg[:comma], l, value) {
			return paramErr("Bad parameter `%s'", arg)
		}
		arg = arg[comma+1:]
	}
	if arg == "" || !p.parseKeyword(arg, l, value) {
		return paramErr("Bad parameter `%s'", arg)
	}
	return nil
}

// parseStatusKeywords is parse_parameter_mask for -u: like parseKeywords,
// but an item "!FLAG" sets FLAG in mask only, and an item that starts
// with "UNREPLIED" (case-sensitive) sets SEEN_REPLY in mask.
func (p *parser) parseStatusKeywords(arg string, status, mask *uint32) *Error {
	const unreplied = "UNREPLIED"
	for {
		comma := strings.IndexByte(arg, ',')
		if comma < 0 {
			break
		}
		if comma == 0 {
			return paramErr("Bad parameter `%s'", arg)
		}
		negated := arg[0] == '!'
		if negated {
			arg = arg[1:]
			comma--
		}
		if comma == 0 {
			return paramErr("Bad parameter `%s'", arg)
		}
		value := status
		if negated {
			value = mask
		}
		if !negated && strings.HasPrefix(arg, unreplied) {
			*mask |= 1 << 1
			arg = arg[comma+1:]
			continue
		}
		if !p.parseKeyword(arg[:comma], &statusKeywords, value) {
			return paramErr("Bad parameter `%s'", arg)
		}
		arg = arg[comma+1:]
	}
	negated := arg != "" && arg[0] == '!'
	if negated {
		arg = arg[1:]
	}
	value := status
	if negated {
		value = mask
	}
	if !negated && strings.HasPrefix(arg, unreplied) {
		*mask |= 1 << 1
		return nil
	}
	if arg == "" || !p.parseKeyword(arg, &statusKeywords, value) {
		return paramErr("Bad parameter `%s'", arg)
	}
	return nil
}
