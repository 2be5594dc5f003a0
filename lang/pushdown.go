package lang

import (
	"math"
	"net/netip"
	"slices"

	"github.com/expr-lang/expr/ast"

	"ctq/engine"
)

// pushdown derives the kernel filter from a checked condition tree over
// flows. Only the conjuncts of the top-level && / and chain are looked at,
// and only exact matches are taken (field == constant either way round, a
// status boolean or its negation, "FLAG" in status), so every flow
// satisfying the condition passes the filter: nothing under "or" or "not"
// is pushed. Values no flow can hold (a port above 65535) are not pushed.
//
// exact reports that the filter selects exactly the flows the condition
// does: every conjunct was pushed, none contradicts another (dport == 22
// && dport == 80 is not exact: its filter keeps one of the two), and every
// pushed field means the same in the kernel's tuple as in the flow. Ports
// and ICMP fields are only exact next to a pushed protocol that has them
// (a flow's sport is 0 where its tuple holds an ICMP id); zone is never
// exact (the kernel matches either direction's zone).
func pushdown(n ast.Node) (k engine.KernelFilter, exact bool) {
	p := &pusher{claims: map[string]any{}, exact: true}
	for _, c := range conjuncts(n, nil) {
		if !p.conjunct(c) {
			p.exact = false
		}
	}
	proto, hasProto := p.claims["proto"].(int)
	if p.ports && !(hasProto && engine.HasPorts(proto)) ||
		p.icmp && !(hasProto && (proto == engine.ProtoICMP || proto == engine.ProtoICMPv6)) {
		p.exact = false
	}
	return p.k, p.exact
}

// pushdownExpect derives the kernel filter of a condition over
// expectations: only the family is pushed (an expect dump filters on it).
func pushdownExpect(n ast.Node) engine.KernelFilter {
	p := &pusher{claims: map[string]any{}}
	for _, c := range conjuncts(n, nil) {
		if b, ok := c.(*ast.BinaryNode); ok && b.Operator == "==" {
			if field, v, ok := fieldAndConst(b.Left, b.Right); ok && field == "family" {
				p.equal(field, v)
			}
		}
	}
	return p.k
}

// conjuncts flattens the top-level && chain of n.
func conjuncts(n ast.Node, out []ast.Node) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		return conjuncts(b.Right, conjuncts(b.Left, out))
	}
	return append(out, n)
}

// pusher builds a KernelFilter conjunct by conjunct. Each part of the
// filter is claimed by the first conjunct that sets it; a later conjunct
// wanting another value for it is contradictory and is not pushed (the
// condition then matches nothing, so any filter is safe, but not exact).
type pusher struct {
	k      engine.KernelFilter
	claims map[string]any // filter part -> value
	exact  bool
	ports  bool // a port field was pushed
	icmp   bool // an ICMP field was pushed
}

// claim records part = v; it reports false when part already holds another
// value.
func (p *pusher) claim(part string, v any) bool {
	if old, ok := p.claims[part]; ok {
		if old != v {
			p.exact = false
			return false
		}
		return true
	}
	p.claims[part] = v
	return true
}

// statusFields maps the boolean fields to the status bits behind them.
// offload is set by either of two bits, so only its negation is exact.
var statusFields = map[string]engine.Status{
	"assured":    engine.StatusAssured,
	"seen_reply": engine.StatusSeenReply,
	"confirmed":  engine.StatusConfirmed,
	"snat":       engine.StatusSrcNAT,
	"dnat":       engine.StatusDstNAT,
	"offload":    engine.StatusOffload | engine.StatusHWOffload,
}

// status requires the bits of a status boolean to be set (want) or clear;
// a set requirement on a field backed by several bits is not exact and is
// skipped. It reports whether the requirement was pushed.
func (p *pusher) status(field string, want bool) bool {
	bits, ok := statusFields[field]
	if !ok || want && bits&(bits-1) != 0 {
		return false
	}
	return p.statusBits(bits, want)
}

// statusBits requires every bit of bits set (want) or clear.
func (p *pusher) statusBits(bits engine.Status, want bool) bool {
	for b := engine.Status(1); b != 0; b <<= 1 {
		if bits&b != 0 && !p.claim("status:"+b.String(), want) {
			return false
		}
	}
	if want {
		p.k.Status |= bits
	} else {
		p.k.Status &^= bits
	}
	p.k.StatusMask |= bits
	return true
}

// conjunct pushes one conjunct; it reports whether the conjunct is now
// exactly in the filter.
func (p *pusher) conjunct(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.IdentifierNode: // assured
		return p.status(x.Value, true)
	case *ast.UnaryNode: // !assured, not assured
		if id, ok := x.Node.(*ast.IdentifierNode); ok && (x.Operator == "!" || x.Operator == "not") {
			return p.status(id.Value, false)
		}
	case *ast.BinaryNode: // field == constant
		if x.Operator == "==" {
			if field, v, ok := fieldAndConst(x.Left, x.Right); ok {
				return p.equal(field, v)
			}
		}
	case *ast.CallNode:
		id, ok := x.Callee.(*ast.IdentifierNode)
		if !ok || len(x.Arguments) != 2 {
			return false
		}
		switch id.Value {
		case fnAddrEqual: // src == "192.0.2.1", folded
			if field, v, ok := fieldAndConst(x.Arguments[0], x.Arguments[1]); ok {
				return p.equal(field, v)
			}
		case fnHasStatus: // "ASSURED" in status
			s, ok := x.Arguments[0].(*ast.StringNode)
			f, isField := x.Arguments[1].(*ast.IdentifierNode)
			if ok && isField && f.Value == "status" {
				if bit, ok := engine.StatusBit(s.Value); ok {
					return p.statusBits(bit, true)
				}
			}
		}
	}
	return false
}

// fieldAndConst matches "field, constant" in either order.
func fieldAndConst(a, b ast.Node) (string, any, bool) {
	if id, ok := a.(*ast.IdentifierNode); ok {
		if v, ok := constValue(b); ok {
			return id.Value, v, true
		}
	}
	if id, ok := b.(*ast.IdentifierNode); ok {
		if v, ok := constValue(a); ok {
			return id.Value, v, true
		}
	}
	return "", nil, false
}

// constValue is the value of a literal or folded constant node.
func constValue(n ast.Node) (any, bool) {
	switch x := n.(type) {
	case *ast.IntegerNode:
		return x.Value, true
	case *ast.StringNode:
		return x.Value, true
	case *ast.BoolNode:
		return x.Value, true
	case *ast.ConstantNode:
		switch x.Value.(type) {
		case int, string, bool, netip.Addr:
			return x.Value, true
		}
	}
	return nil, false
}

// equal pushes field == v when the kernel can match it, and reports
// whether it did, exactly.
func (p *pusher) equal(field string, v any) bool {
	switch v := v.(type) {
	case bool:
		return p.status(field, v)
	case string:
		switch field {
		case "family":
			if af := engine.FamilyNum(v); af != engine.FamilyUnspec {
				return p.family(af)
			}
		case "proto":
			if slices.Contains(engine.ProtoNames, v) {
				n, _ := engine.ProtoNum(v)
				return p.proto(n)
			}
		}
	case netip.Addr:
		return p.addr(field, v)
	case int:
		return p.int(field, v)
	}
	return false
}

func (p *pusher) family(af int) bool {
	if !p.claim("family", af) {
		return false
	}
	p.k.Family = af
	return true
}

func (p *pusher) proto(n int) bool {
	if !p.claim("proto", n) {
		return false
	}
	p.k.Orig.Proto = uint8(n)
	p.k.Orig.Fields |= engine.TupleProto
	return true
}

func (p *pusher) addr(field string, a netip.Addr) bool {
	var t *engine.TupleFilter
	var flag engine.TupleFields
	switch field {
	case "src":
		t, flag = &p.k.Orig, engine.TupleSrc
	case "dst":
		t, flag = &p.k.Orig, engine.TupleDst
	case "reply_src":
		t, flag = &p.k.Reply, engine.TupleSrc
	case "reply_dst":
		t, flag = &p.k.Reply, engine.TupleDst
	default:
		return false
	}
	af := engine.FamilyIPv6
	if a.Is4() {
		af = engine.FamilyIPv4
	}
	// The family is claimed first: an address of the other family is not
	// pushed at all, so the filter never mixes families.
	if !p.claim("family", af) || !p.claim(field, a) {
		return false
	}
	p.k.Family = af
	if flag == engine.TupleSrc {
		t.Src = a
	} else {
		t.Dst = a
	}
	t.Fields |= flag
	return true
}

// int pushes an integer field; zone is pushed but never exact.
func (p *pusher) int(field string, v int) bool {
	in := func(hi int) bool { return v >= 0 && v <= hi }
	switch field {
	case "protonum":
		return in(math.MaxUint8) && p.proto(v)
	case "sport", "reply_sport", "dport", "reply_dport":
		if !in(math.MaxUint16) || !p.claim(field, v) {
			return false
		}
		t := &p.k.Orig
		if field == "reply_sport" || field == "reply_dport" {
			t = &p.k.Reply
		}
		if field == "sport" || field == "reply_sport" {
			t.Sport = uint16(v)
			t.Fields |= engine.TupleSport
		} else {
			t.Dport = uint16(v)
			t.Fields |= engine.TupleDport
		}
		p.ports = true
		return true
	case "icmp_type", "icmp_code":
		if !in(math.MaxUint8) || !p.claim(field, v) {
			return false
		}
		if field == "icmp_type" {
			p.k.Orig.ICMPType = uint8(v)
			p.k.Orig.Fields |= engine.TupleICMPType
		} else {
			p.k.Orig.ICMPCode = uint8(v)
			p.k.Orig.Fields |= engine.TupleICMPCode
		}
		p.icmp = true
		return true
	case "icmp_id":
		if !in(math.MaxUint16) || !p.claim(field, v) {
			return false
		}
		p.k.Orig.ICMPID = uint16(v)
		p.k.Orig.Fields |= engine.TupleICMPID
		p.icmp = true
		return true
	case "mark":
		if !in(math.MaxUint32) || !p.claim(field, v) {
			return false
		}
		p.k.Mark, p.k.MarkMask = uint32(v), math.MaxUint32
		return true
	case "zone":
		if in(math.MaxUint16) && p.claim(field, v) {
			p.k.Zone, p.k.ZoneSet = uint16(v), true
		}
	}
	return false
}
