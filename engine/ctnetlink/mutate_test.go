//go:build linux

package ctnetlink

import (
	"net/netip"
	"testing"

	"ctq/engine"
)

func TestFlushPlan(t *testing.T) {
	const (
		num   = engine.TupleProto
		sport = engine.TupleSport
		dport = engine.TupleDport
		src   = engine.TupleSrc
	)
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name     string
		f        engine.KernelFilter
		ok       bool
		families []int
	}{
		{"family", engine.KernelFilter{Family: engine.FamilyIPv6}, true, []int{engine.FamilyIPv6}},
		{"mark and status", engine.KernelFilter{Mark: 1, MarkMask: 3, Status: engine.StatusAssured, StatusMask: engine.StatusAssured}, true, []int{engine.FamilyUnspec}},
		{"tcp dport, both families", engine.KernelFilter{Orig: engine.TupleFilter{Fields: num | dport, Proto: 6, Dport: 22}}, true,
			[]int{engine.FamilyIPv4, engine.FamilyIPv6}},
		{"tcp dport, ordered", engine.KernelFilter{Ordered: true, Orig: engine.TupleFilter{Fields: num | dport, Proto: 6, Dport: 22}}, true,
			[]int{engine.FamilyIPv4, engine.FamilyIPv6}},
		{"ipv4 source fixes the family", engine.KernelFilter{Orig: engine.TupleFilter{Fields: src, Src: v4}}, true, []int{engine.FamilyUnspec}},
		{"ipv6 source", engine.KernelFilter{Orig: engine.TupleFilter{Fields: src, Src: v6}}, false, nil},
		{"zone", engine.KernelFilter{Zone: 3, ZoneSet: true}, false, nil},
		{"zone 0", engine.KernelFilter{ZoneSet: true}, false, nil},
		{"sctp port", engine.KernelFilter{Orig: engine.TupleFilter{Fields: num | dport, Proto: 132, Dport: 22}}, false, nil},
		{"port without protocol", engine.KernelFilter{Reply: engine.TupleFilter{Fields: sport, Sport: 22}}, false, nil},
		{"tuple zone", engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{Fields: engine.TupleZone, Zone: 1}}, false, nil},
		{"icmp type conntrack does not track", engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{
			Fields: num | engine.TupleICMPType, Proto: 1, ICMPType: 3}}, false, nil},
		{"icmpv6 fields with the ICMP flags", engine.KernelFilter{Family: engine.FamilyIPv6, Orig: engine.TupleFilter{
			Fields: num | engine.TupleICMPType | engine.TupleICMPID, Proto: 58,
			ICMPType: 128, ICMPID: 4}}, true, []int{engine.FamilyIPv6}},
		{"icmp fields in the wrong family", engine.KernelFilter{Family: engine.FamilyIPv6, Orig: engine.TupleFilter{
			Fields: num | engine.TupleICMPID, Proto: 1, ICMPID: 4}}, false, nil},
		{"unknown family", engine.KernelFilter{Family: 7}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, ok := flushPlan(&tt.f)
			if ok != tt.ok {
				t.Fatalf("flushPlan ok = %v, want %v (pushed %+v)", ok, tt.ok, plan.pushed)
			}
			if !ok {
				return
			}
			if len(plan.families) != len(tt.families) {
				t.Fatalf("families %v, want %v", plan.families, tt.families)
			}
			for i, fam := range plan.families {
				if fam != tt.families[i] {
					t.Errorf("families %v, want %v", plan.families, tt.families)
				}
				if data := encodeDump(&plan, fam); data[0] == engine.FamilyUnspec && plan.hasTuple() {
					t.Errorf("a flush with CTA_FILTER needs a family: %x", data)
				}
			}
		})
	}
}

func TestTupleCovered(t *testing.T) {
	want := engine.TupleFilter{Fields: engine.TupleProto | engine.TupleICMPCode, Proto: 58, ICMPCode: 1}
	got := engine.TupleFilter{Fields: engine.TupleProto | engine.TupleICMPv6Code, Proto: 58, ICMPCode: 1}
	if !tupleCovered(&want, &got) {
		t.Error("ICMPv6 flags do not cover the same ICMP flags")
	}
	got.ICMPCode = 2
	if tupleCovered(&want, &got) {
		t.Error("a different value is covered")
	}
	if tupleCovered(&want, &engine.TupleFilter{Fields: engine.TupleProto, Proto: 58}) {
		t.Error("a dropped field is covered")
	}
	if !tupleCovered(&engine.TupleFilter{}, &engine.TupleFilter{}) {
		t.Error("an empty filter is not covered")
	}
}
