package format

import (
	"math/bits"
	"net/netip"
	"strconv"

	"ctq/engine"
)

// appendAddr appends a tuple address as conntrack prints it: IPv4 with
// inet_ntoa, IPv6 with glibc's inet_ntop. A missing address prints as the
// all-zero address of the family, as the C struct would hold.
func appendAddr(buf []byte, a netip.Addr, af int) []byte {
	if af == engine.FamilyIPv4 {
		a = a.Unmap()
		if !a.Is4() {
			return append(buf, "0.0.0.0"...)
		}
		return a.AppendTo(buf)
	}
	if !a.IsValid() {
		return append(buf, "::"...)
	}
	a = a.WithZone("")
	if a.Is4() {
		a = netip.AddrFrom16(a.As16())
	}
	b := a.As16()
	// glibc prints an IPv4-compatible address (::a.b.c.d, the first 96
	// bits zero and the seventh group non-zero) in dotted form; Go would
	// print ::a0b:c0d.
	if isZero(b[:12]) && (b[12] != 0 || b[13] != 0) {
		buf = append(buf, "::"...)
		return netip.AddrFrom4([4]byte(b[12:16])).AppendTo(buf)
	}
	return a.AppendTo(buf)
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// appendUint appends the decimal form of v.
func appendUint(buf []byte, v uint64) []byte {
	return strconv.AppendUint(buf, v, 10)
}

// u32 truncates v to 32 bits, as a %u of a C uint32_t would print it.
func u32(v int) uint64 { return uint64(uint32(v)) }

// u16 truncates v to 16 bits (ports, GRE keys, ICMP ids, zones).
func u16(v int) uint64 { return uint64(uint16(v)) }

// u8 truncates v to 8 bits (ICMP type and code).
func u8(v int) uint64 { return uint64(uint8(v)) }

// isICMP reports whether a protocol carries ICMP type, code and id.
func isICMP(proto int) bool {
	return proto == engine.ProtoICMP || proto == engine.ProtoICMPv6
}

// nextLabel returns the lowest label bit set in l at or above n, or -1.
func nextLabel(l *engine.Labels, n int) int {
	for n >= 0 && n < 128 {
		if w := l.Words[n/32] >> (n % 32); w != 0 {
			return n + bits.TrailingZeros32(w)
		}
		n = (n/32 + 1) * 32
	}
	return -1
}
