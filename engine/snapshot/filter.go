package snapshot

import (
	"net/netip"

	"ctq/engine"
)

// pushable is the part of a filter a snapshot applies: everything but the
// tuple zones, whose kernel meaning (the zone of a direction, directional
// or not) the Flow does not hold apart.
func pushable(k *engine.KernelFilter) engine.KernelFilter {
	if k.Empty() {
		return engine.KernelFilter{}
	}
	p := *k
	p.Orig.Fields &^= engine.TupleZone
	p.Reply.Fields &^= engine.TupleZone
	return p
}

// match applies a pushable filter to f.
func match(f *engine.Flow, k *engine.KernelFilter) bool {
	if k.Family != engine.FamilyUnspec && f.L3Num() != k.Family {
		return false
	}
	if k.MarkMask != 0 && uint32(f.Mark)&k.MarkMask != k.Mark {
		return false
	}
	if k.StatusMask != 0 && f.Status&k.StatusMask != k.Status {
		return false
	}
	if k.ZoneSet && f.Zone != int(k.Zone) {
		return false
	}
	o := tupleValues{f.Src, f.Dst, f.Sport, f.Dport, f.ICMPType, f.ICMPCode, f.ICMPID}
	r := tupleValues{f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport, f.ReplyICMPType, f.ReplyICMPCode, f.ReplyICMPID}
	return matchTuple(f, &o, &k.Orig) && matchTuple(f, &r, &k.Reply)
}

// tupleValues are the fields of one direction of a Flow.
type tupleValues struct {
	src, dst                   netip.Addr
	sport, dport               int
	icmpType, icmpCode, icmpID int
}

// matchTuple applies a tuple filter to one direction of f. It compares the
// Flow's fields as a predicate on them would (a port filter on an ICMP
// entry compares its zero port), so it never drops an entry that the
// predicate the filter was derived from accepts.
func matchTuple(f *engine.Flow, v *tupleValues, t *engine.TupleFilter) bool {
	fl := t.Fields
	has := func(b engine.TupleFields) bool { return fl&b != 0 }
	switch {
	case has(engine.TupleSrc) && v.src != t.Src,
		has(engine.TupleDst) && v.dst != t.Dst,
		has(engine.TupleProto) && f.ProtoNum != int(t.Proto),
		has(engine.TupleSport) && v.sport != int(t.Sport),
		has(engine.TupleDport) && v.dport != int(t.Dport),
		has(engine.TupleICMPType|engine.TupleICMPv6Type) && v.icmpType != int(t.ICMPType),
		has(engine.TupleICMPCode|engine.TupleICMPv6Code) && v.icmpCode != int(t.ICMPCode),
		has(engine.TupleICMPID|engine.TupleICMPv6ID) && v.icmpID != int(t.ICMPID):
		return false
	}
	return true
}
