package lang

import (
	"math"
	"net/netip"
	"slices"

	"github.com/expr-lang/expr/ast"

	"ctq/engine"
)

// pushdown derives the kernel filter from a checked condition tree. Only
// the conjuncts of the top-level && / and chain are looked at, and only
// exact matches are taken (field == constant either way round, a status
// boolean or its negation, "FLAG" in status), so every flow satisfying the
// condition passes the filter: nothing under "or" or "not" is pushed.
// Values no flow can hold (a port above 65535) are not pushed.
func pushdown(n ast.Node) engine.KernelFilter {
	var k engine.KernelFilter
	for _, c := range conjuncts(n, nil) {
		pushConjunct(&k, c)
	}
	return k
}

// conjuncts flattens the top-level && chain of n.
func conjuncts(n ast.Node, out []ast.Node) []ast.Node {
	if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
		return conjuncts(b.Right, conjuncts(b.Left, out))
	}
	return append(out, n)
}

// statusFields maps the boolean fields to the status bits behind them.
// offload is set by either of two bits, so only its negation is exact.
var statusFields = map[string]engine.Status{
	"assured":    engine.IPS_ASSURED,
	"seen_reply": engine.IPS_SEEN_REPLY,
	"confirmed":  engine.IPS_CONFIRMED,
	"snat":       engine.IPS_SRC_NAT,
	"dnat":       engine.IPS_DST_NAT,
	"offload":    engine.IPS_OFFLOAD | engine.IPS_HW_OFFLOAD,
}

// pushStatus requires the bits of a status boolean to be set (want) or
// clear; a set requirement on a field backed by several bits is not exact
// and is skipped.
func pushStatus(k *engine.KernelFilter, field string, want bool) {
	bits, ok := statusFields[field]
	if !ok {
		return
	}
	if want {
		if bits&(bits-1) != 0 {
			return
		}
		k.Status |= bits
	} else {
		k.Status &^= bits
	}
	k.StatusMask |= bits
}

func pushConjunct(k *engine.KernelFilter, n ast.Node) {
	switch x := n.(type) {
	case *ast.IdentifierNode: // assured
		pushStatus(k, x.Value, true)
	case *ast.UnaryNode: // !assured, not assured
		if id, ok := x.Node.(*ast.IdentifierNode); ok && (x.Operator == "!" || x.Operator == "not") {
			pushStatus(k, id.Value, false)
		}
	case *ast.BinaryNode: // field == constant
		if x.Operator == "==" {
			if field, v, ok := fieldAndConst(x.Left, x.Right); ok {
				pushEqual(k, field, v)
			}
		}
	case *ast.CallNode:
		id, ok := x.Callee.(*ast.IdentifierNode)
		if !ok || len(x.Arguments) != 2 {
			return
		}
		switch id.Value {
		case fnAddrEqual: // src == "192.0.2.1", folded
			if field, v, ok := fieldAndConst(x.Arguments[0], x.Arguments[1]); ok {
				pushEqual(k, field, v)
			}
		case fnHasStatus: // "ASSURED" in status
			s, ok := x.Arguments[0].(*ast.StringNode)
			f, isField := x.Arguments[1].(*ast.IdentifierNode)
			if ok && isField && f.Value == "status" {
				if bit, ok := engine.StatusBit(s.Value); ok {
					k.Status |= bit
					k.StatusMask |= bit
				}
			}
		}
	}
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

// pushEqual records field == v in the filter when the kernel can match it.
func pushEqual(k *engine.KernelFilter, field string, v any) {
	switch v := v.(type) {
	case bool:
		pushStatus(k, field, v)
	case string:
		switch field {
		case "family":
			if af := engine.FamilyNum(v); af != engine.AF_UNSPEC {
				k.Family = af
			}
		case "proto":
			if slices.Contains(engine.ProtoNames, v) {
				n, _ := engine.ProtoNum(v)
				pushProto(&k.Orig, n)
			}
		}
	case netip.Addr:
		pushAddr(k, field, v)
	case int:
		pushInt(k, field, v)
	}
}

func pushProto(t *engine.TupleFilter, n int) {
	t.Proto = uint8(n)
	t.Fields |= engine.CTA_FILTER_FLAG_CTA_PROTO_NUM
}

func pushAddr(k *engine.KernelFilter, field string, a netip.Addr) {
	var t *engine.TupleFilter
	var flag engine.TupleFields
	switch field {
	case "src":
		t, flag = &k.Orig, engine.CTA_FILTER_FLAG_CTA_IP_SRC
	case "dst":
		t, flag = &k.Orig, engine.CTA_FILTER_FLAG_CTA_IP_DST
	case "reply_src":
		t, flag = &k.Reply, engine.CTA_FILTER_FLAG_CTA_IP_SRC
	case "reply_dst":
		t, flag = &k.Reply, engine.CTA_FILTER_FLAG_CTA_IP_DST
	default:
		return
	}
	if flag == engine.CTA_FILTER_FLAG_CTA_IP_SRC {
		t.Src = a
	} else {
		t.Dst = a
	}
	t.Fields |= flag
	if a.Is4() {
		k.Family = engine.AF_INET
	} else {
		k.Family = engine.AF_INET6
	}
}

func pushInt(k *engine.KernelFilter, field string, v int) {
	in := func(hi int) bool { return v >= 0 && v <= hi }
	switch field {
	case "protonum":
		if in(math.MaxUint8) {
			pushProto(&k.Orig, v)
		}
	case "sport", "reply_sport":
		if in(math.MaxUint16) {
			t := tuple(k, field)
			t.Sport = uint16(v)
			t.Fields |= engine.CTA_FILTER_FLAG_CTA_PROTO_SRC_PORT
		}
	case "dport", "reply_dport":
		if in(math.MaxUint16) {
			t := tuple(k, field)
			t.Dport = uint16(v)
			t.Fields |= engine.CTA_FILTER_FLAG_CTA_PROTO_DST_PORT
		}
	case "icmp_type":
		if in(math.MaxUint8) {
			k.Orig.ICMPType = uint8(v)
			k.Orig.Fields |= engine.CTA_FILTER_FLAG_CTA_PROTO_ICMP_TYPE
		}
	case "icmp_code":
		if in(math.MaxUint8) {
			k.Orig.ICMPCode = uint8(v)
			k.Orig.Fields |= engine.CTA_FILTER_FLAG_CTA_PROTO_ICMP_CODE
		}
	case "icmp_id":
		if in(math.MaxUint16) {
			k.Orig.ICMPID = uint16(v)
			k.Orig.Fields |= engine.CTA_FILTER_FLAG_CTA_PROTO_ICMP_ID
		}
	case "mark":
		if in(math.MaxUint32) {
			k.Mark, k.MarkMask = uint32(v), math.MaxUint32
		}
	case "zone":
		if in(math.MaxUint16) {
			k.Zone, k.ZoneSet = uint16(v), true
		}
	}
}

// tuple is the direction a port field belongs to.
func tuple(k *engine.KernelFilter, field string) *engine.TupleFilter {
	if field == "reply_sport" || field == "reply_dport" {
		return &k.Reply
	}
	return &k.Orig
}
