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
	fnInPrefix     = "inPrefix"     // addr in prefix
	fnHasStatus    = "hasStatus"    // "ASSURED" in status
	fnHasLabel     = "hasLabel"     // 3 in labels
	fnAddrEqual    = "addrEqual"    // addr == addr
	fnAddrNotEqual = "addrNotEqual" // addr != addr
)

// parseCIDR parses "addr/bits", or a bare address as a one-address prefix;
// the result is masked.
func parseCIDR(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("invalid CIDR %q", s)
	}
	return p.Masked(), nil
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
