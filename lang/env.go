package lang

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/expr-lang/expr"

	"ctq/engine"
)

// Functions and operator overloads the language adds to expr. The
// operator functions are ordinary functions too, but not advertised.
const (
	fnCIDR         = "cidr"         // cidr("198.51.100.0/24") netip.Prefix
	fnMask         = "mask"         // mask(src, "255.0.255.0") netip.Addr
	fnInPrefix     = "inPrefix"     // addr in prefix
	fnHasStatus    = "hasStatus"    // "ASSURED" in status
	fnHasLabel     = "hasLabel"     // 3 in labels
	fnAddrEqual    = "addrEqual"    // addr == addr
	fnAddrNotEqual = "addrNotEqual" // addr != addr
)

// parseCIDR parses "addr/bits", "addr/MASK" with a contiguous mask
// ("192.0.2.0/255.255.255.0"), or a bare address as a one-address prefix;
// the result is masked.
func parseCIDR(s string) (netip.Prefix, error) {
	addr, mask, hasMask := strings.Cut(s, "/")
	if !hasMask {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	if m, err := netip.ParseAddr(mask); err == nil {
		a, err := netip.ParseAddr(addr)
		if err != nil || a.BitLen() != m.BitLen() {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
		}
		bits, ok := maskBits(m)
		if !ok {
			return netip.Prefix{}, fmt.Errorf("%s is not a contiguous mask: for any mask write mask(src, %q) == %q", mask, mask, addr)
		}
		return netip.PrefixFrom(a, bits).Masked(), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
	}
	return p.Masked(), nil
}

// maskBits is the prefix length of a contiguous mask (ones, then zeros).
func maskBits(m netip.Addr) (int, bool) {
	b := m.AsSlice()
	bits, zeros := 0, false
	for _, by := range b {
		for i := 7; i >= 0; i-- {
			one := by&(1<<i) != 0
			switch {
			case one && zeros:
				return 0, false
			case one:
				bits++
			default:
				zeros = true
			}
		}
	}
	return bits, true
}

// applyMask is a AND m, bit by bit (conntrack's --mask-src); an address
// and a mask of different families give the zero Addr, which equals no
// address.
func applyMask(a, m netip.Addr) netip.Addr {
	if !a.IsValid() || a.BitLen() != m.BitLen() {
		return netip.Addr{}
	}
	b, mb := a.AsSlice(), m.AsSlice()
	for i := range b {
		b[i] &= mb[i]
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

// parseMask parses the mask of mask(ADDR, MASK).
func parseMask(s string) (netip.Addr, error) {
	m, err := netip.ParseAddr(s)
	if err != nil || m.Zone() != "" {
		return netip.Addr{}, fmt.Errorf("invalid mask %q (write an address such as \"255.0.255.0\")", s)
	}
	return m, nil
}

// exprOptions are the expr options shared by every expression: the
// language's functions and operator overloads, and the folding visitor.
// env is the expr environment (engine.Flow for conditions).
func exprOptions(env any, fold *folder) []expr.Option {
	return []expr.Option{
		expr.Env(env),
		expr.Function(fnCIDR, func(args ...any) (any, error) {
			return parseCIDR(args[0].(string))
		}, new(func(string) netip.Prefix)),
		expr.Function(fnMask, func(args ...any) (any, error) {
			m, ok := args[1].(netip.Addr)
			if !ok {
				var err error
				if m, err = parseMask(args[1].(string)); err != nil {
					return nil, err
				}
			}
			return applyMask(args[0].(netip.Addr), m), nil
		}, new(func(netip.Addr, netip.Addr) netip.Addr), new(func(netip.Addr, string) netip.Addr)),
		expr.Function(fnInPrefix, func(args ...any) (any, error) {
			return args[1].(netip.Prefix).Contains(args[0].(netip.Addr)), nil
		}, new(func(netip.Addr, netip.Prefix) bool)),
		expr.Function(fnHasStatus, func(args ...any) (any, error) {
			return args[1].(engine.Status).Has(args[0].(string)), nil
		}, new(func(string, engine.Status) bool)),
		expr.Function(fnHasLabel, func(args ...any) (any, error) {
			return args[1].(engine.Labels).Has(args[0].(int)), nil
		}, new(func(int, engine.Labels) bool)),
		expr.Function(fnAddrEqual, func(args ...any) (any, error) {
			return args[0].(netip.Addr) == args[1].(netip.Addr), nil
		}, new(func(netip.Addr, netip.Addr) bool)),
		expr.Function(fnAddrNotEqual, func(args ...any) (any, error) {
			return args[0].(netip.Addr) != args[1].(netip.Addr), nil
		}, new(func(netip.Addr, netip.Addr) bool)),
		expr.Operator("in", fnInPrefix, fnHasStatus, fnHasLabel),
		expr.Operator("==", fnAddrEqual),
		expr.Operator("!=", fnAddrNotEqual),
		expr.Patch(fold),
	}
}
