package engine

import (
	"net/netip"
	"testing"
)

func TestFlushPlan(t *testing.T) {
	const (
		num   = TupleProto
		sport = TupleSport
		dport = TupleDport
		src   = TupleSrc
	)
	v4, v6 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("2001:db8::1")
	tests := []struct {
		name     string
		f        KernelFilter
		ok       bool
		families []int
	}{
		{"family", KernelFilter{Family: FamilyIPv6}, true, []int{FamilyIPv6}},
		{"mark and status", KernelFilter{Mark: 1, MarkMask: 3, Status: StatusAssured, StatusMask: StatusAssured}, true, []int{FamilyUnspec}},
		{"tcp dport, both families", KernelFilter{Orig: TupleFilter{Fields: num | dport, Proto: 6, Dport: 22}}, true,
			[]int{FamilyIPv4, FamilyIPv6}},
		{"tcp dport, ordered", KernelFilter{Ordered: true, Orig: TupleFilter{Fields: num | dport, Proto: 6, Dport: 22}}, true,
			[]int{FamilyIPv4, FamilyIPv6}},
		{"ipv4 source fixes the family", KernelFilter{Orig: TupleFilter{Fields: src, Src: v4}}, true, []int{FamilyUnspec}},
		{"ipv6 source", KernelFilter{Orig: TupleFilter{Fields: src, Src: v6}}, false, nil},
		{"zone", KernelFilter{Zone: 3, ZoneSet: true}, false, nil},
		{"zone 0", KernelFilter{ZoneSet: true}, false, nil},
		{"sctp port", KernelFilter{Orig: TupleFilter{Fields: num | dport, Proto: 132, Dport: 22}}, false, nil},
		{"port without protocol", KernelFilter{Reply: TupleFilter{Fields: sport, Sport: 22}}, false, nil},
		{"tuple zone", KernelFilter{Family: FamilyIPv4, Orig: TupleFilter{Fields: TupleZone, Zone: 1}}, false, nil},
		{"icmp type conntrack does not track", KernelFilter{Family: FamilyIPv4, Orig: TupleFilter{
			Fields: num | TupleICMPType, Proto: 1, ICMPType: 3}}, false, nil},
		{"icmpv6 fields with the ICMP flags", KernelFilter{Family: FamilyIPv6, Orig: TupleFilter{
			Fields: num | TupleICMPType | TupleICMPID, Proto: 58,
			ICMPType: 128, ICMPID: 4}}, true, []int{FamilyIPv6}},
		{"icmp fields in the wrong family", KernelFilter{Family: FamilyIPv6, Orig: TupleFilter{
			Fields: num | TupleICMPID, Proto: 1, ICMPID: 4}}, false, nil},
		{"unknown family", KernelFilter{Family: 7}, false, nil},
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
				if data := encodeDump(&plan, fam); data[0] == FamilyUnspec && plan.hasTuple() {
					t.Errorf("a flush with CTA_FILTER needs a family: %x", data)
				}
			}
		})
	}
}

func TestTupleCovered(t *testing.T) {
	want := TupleFilter{Fields: TupleProto | TupleICMPCode, Proto: 58, ICMPCode: 1}
	got := TupleFilter{Fields: TupleProto | TupleICMPv6Code, Proto: 58, ICMPCode: 1}
	if !tupleCovered(&want, &got) {
		t.Error("ICMPv6 flags do not cover the same ICMP flags")
	}
	got.ICMPCode = 2
	if tupleCovered(&want, &got) {
		t.Error("a different value is covered")
	}
	if tupleCovered(&want, &TupleFilter{Fields: TupleProto, Proto: 58}) {
		t.Error("a dropped field is covered")
	}
	if !tupleCovered(&TupleFilter{}, &TupleFilter{}) {
		t.Error("an empty filter is not covered")
	}
}
