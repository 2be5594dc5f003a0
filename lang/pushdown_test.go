package lang

import (
	"net/netip"
	"testing"

	"ctq/engine"
)

func TestPushdown(t *testing.T) {
	const (
		protoNum = engine.TupleProto
		ipSrc    = engine.TupleSrc
		ipDst    = engine.TupleDst
		srcPort  = engine.TupleSport
		dstPort  = engine.TupleDport
	)
	addr := netip.MustParseAddr
	tests := []struct {
		cond string
		want engine.KernelFilter
	}{
		// Exact matches of the top-level && chain, either way round.
		{`proto == tcp and dport == 22`, engine.KernelFilter{Orig: engine.TupleFilter{Fields: protoNum | dstPort, Proto: 6, Dport: 22}}},
		{`22 == dport && tcp == proto`, engine.KernelFilter{Orig: engine.TupleFilter{Fields: protoNum | dstPort, Proto: 6, Dport: 22}}},
		{`proto==tcp && dport==22 && state=="ESTABLISHED"`, engine.KernelFilter{Orig: engine.TupleFilter{Fields: protoNum | dstPort, Proto: 6, Dport: 22}}},
		{`proto == "udp"`, engine.KernelFilter{Orig: engine.TupleFilter{Fields: protoNum, Proto: 17}}},
		{`protonum == 132`, engine.KernelFilter{Orig: engine.TupleFilter{Fields: protoNum, Proto: 132}}},
		{`family == ipv4`, engine.KernelFilter{Family: engine.FamilyIPv4}},
		{`family == "ipv6" and zone == 3`, engine.KernelFilter{Family: engine.FamilyIPv6, Zone: 3, ZoneSet: true}},
		{`src == "192.0.2.1" && dst == "198.51.100.7"`,
			engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{Fields: ipSrc | ipDst, Src: addr("192.0.2.1"), Dst: addr("198.51.100.7")}}},
		{`"192.0.2.1" == src`, engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{Fields: ipSrc, Src: addr("192.0.2.1")}}},
		{`reply_src == "2001:db8::1" && reply_dst == "2001:db8::2"`,
			engine.KernelFilter{Family: engine.FamilyIPv6, Reply: engine.TupleFilter{Fields: ipSrc | ipDst, Src: addr("2001:db8::1"), Dst: addr("2001:db8::2")}}},
		{`sport == 1024 && reply_sport == 80 && reply_dport == 1024`,
			engine.KernelFilter{Orig: engine.TupleFilter{Fields: srcPort, Sport: 1024}, Reply: engine.TupleFilter{Fields: srcPort | dstPort, Sport: 80, Dport: 1024}}},
		{`icmp_type == 8 && icmp_code == 0 && icmp_id == 77`, engine.KernelFilter{Orig: engine.TupleFilter{
			Fields:   engine.TupleICMPType | engine.TupleICMPCode | engine.TupleICMPID,
			ICMPType: 8, ICMPID: 77}}},
		{`mark == 7`, engine.KernelFilter{Mark: 7, MarkMask: 0xffffffff}},
		{`mark == 0`, engine.KernelFilter{MarkMask: 0xffffffff}},
		{`mark == 4294967295`, engine.KernelFilter{Mark: 0xffffffff, MarkMask: 0xffffffff}},
		{`dport == 20 + 2`, engine.KernelFilter{Orig: engine.TupleFilter{Fields: dstPort, Dport: 22}}},
		// Status bits.
		{`assured && !snat && not dnat`, engine.KernelFilter{Status: engine.StatusAssured,
			StatusMask: engine.StatusAssured | engine.StatusSrcNAT | engine.StatusDstNAT}},
		{`assured == true && seen_reply == false`, engine.KernelFilter{Status: engine.StatusAssured,
			StatusMask: engine.StatusAssured | engine.StatusSeenReply}},
		{`false == confirmed`, engine.KernelFilter{StatusMask: engine.StatusConfirmed}},
		{`"SEEN_REPLY" in status && "dying" in status`, engine.KernelFilter{Status: engine.StatusSeenReply | engine.StatusDying,
			StatusMask: engine.StatusSeenReply | engine.StatusDying}},
		{`!offload`, engine.KernelFilter{StatusMask: engine.StatusOffload | engine.StatusHWOffload}},
		{`offload`, engine.KernelFilter{}},
		// Only the top-level conjuncts: parentheses group, or/not block.
		{`(proto == tcp && dport == 22) && mark == 1`,
			engine.KernelFilter{Mark: 1, MarkMask: 0xffffffff, Orig: engine.TupleFilter{Fields: protoNum | dstPort, Proto: 6, Dport: 22}}},
		{`proto == tcp && (dport == 22 || dport == 80) && mark == 1`,
			engine.KernelFilter{Mark: 1, MarkMask: 0xffffffff, Orig: engine.TupleFilter{Fields: protoNum, Proto: 6}}},
		{`proto == tcp && !(dport == 22 && assured)`, engine.KernelFilter{Orig: engine.TupleFilter{Fields: protoNum, Proto: 6}}},
		{`proto == tcp or dport == 22`, engine.KernelFilter{}},
		{`not (proto == tcp)`, engine.KernelFilter{}},
		{`!assured || snat`, engine.KernelFilter{}},
		{`(let p = 22; dport == p)`, engine.KernelFilter{}},
		{`assured ? dport == 22 : true`, engine.KernelFilter{}},
		// Not exact, or not something the kernel filters on.
		{`proto != tcp`, engine.KernelFilter{}},
		{`dport > 22`, engine.KernelFilter{}},
		{`dport in [22]`, engine.KernelFilter{}},
		{`dport in 22..22`, engine.KernelFilter{}},
		{`src in cidr("192.0.2.1/32")`, engine.KernelFilter{}},
		{`src != "192.0.2.1"`, engine.KernelFilter{}},
		{`dport == sport`, engine.KernelFilter{}},
		{`state == "ESTABLISHED" && helper == "ftp" && 3 in labels`, engine.KernelFilter{}},
		// Values no flow holds are not pushed.
		{`dport == 70000`, engine.KernelFilter{}},
		{`mark == -1`, engine.KernelFilter{}},
		{`mark == 4294967296`, engine.KernelFilter{}},
		{`zone == 65536`, engine.KernelFilter{}},
		{`protonum == 300`, engine.KernelFilter{}},
		{`icmp_type == 256`, engine.KernelFilter{}},
		{`proto == "unknown"`, engine.KernelFilter{}},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			p := compileOne(t, "list where "+tt.cond, nil)
			if p.Filter != tt.want {
				t.Errorf("filter\n got %+v\nwant %+v", p.Filter, tt.want)
			}
		})
	}
}

// passes applies a KernelFilter the way the kernel does (per its
// documentation in engine): every set part must match. Like the kernel's
// tuple, it keeps ports and ICMP fields in the same place: an ICMP flow's
// "source port" is its ICMP id, and a port flow's ICMP id is its source
// port.
func passes(k *engine.KernelFilter, f *engine.Flow) bool {
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
	tuple := func(t engine.TupleFilter, src, dst netip.Addr, sport, dport int) bool {
		icmpType, icmpCode, icmpID := dport>>8, dport&0xff, sport
		if f.ProtoNum == engine.ProtoICMP || f.ProtoNum == engine.ProtoICMPv6 {
			icmpType, icmpCode, icmpID = f.ICMPType, f.ICMPCode, f.ICMPID
			sport, dport = icmpID, icmpType<<8|icmpCode
		}
		checks := []struct {
			flag engine.TupleFields
			ok   bool
		}{
			{engine.TupleSrc, src == t.Src},
			{engine.TupleDst, dst == t.Dst},
			{engine.TupleProto, f.ProtoNum == int(t.Proto)},
			{engine.TupleSport, sport == int(t.Sport)},
			{engine.TupleDport, dport == int(t.Dport)},
			{engine.TupleICMPType, icmpType == int(t.ICMPType)},
			{engine.TupleICMPCode, icmpCode == int(t.ICMPCode)},
			{engine.TupleICMPID, icmpID == int(t.ICMPID)},
		}
		for _, c := range checks {
			if t.Fields&c.flag != 0 && !c.ok {
				return false
			}
		}
		return true
	}
	return tuple(k.Orig, f.Src, f.Dst, f.Sport, f.Dport) &&
		tuple(k.Reply, f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport)
}

// TestPushdownIsSafe checks that the filter never rejects a flow that the
// whole condition accepts.
func TestPushdownIsSafe(t *testing.T) {
	flows := []*engine.Flow{ssh(), dns(), web(), ping()}
	for _, f := range []*engine.Flow{ssh(), dns(), web()} {
		g := *f
		g.Mark, g.Zone = 1, 3
		g.SetStatus(engine.StatusDying | engine.StatusOffload | engine.StatusSeenReply)
		flows = append(flows, &g)
	}
	conds := []string{
		`proto == tcp and dport == 22`,
		`src == "192.0.2.1" && sport == 40000 && reply_dport == 40000 && reply_src == "198.51.100.7"`,
		`family == ipv6 && zone == 4 && snat && !assured`,
		`mark == 7 && assured && seen_reply && confirmed && !dnat && "ASSURED" in status`,
		`mark == 1 && zone == 3 && !confirmed && offload && "DYING" in status`,
		`icmp_type == 8 && icmp_code == 0 && icmp_id == 77 && proto == icmp && family == "ipv4"`,
		`protonum == 17 && dport == 53 && dst == "2001:db8:53::53"`,
		`proto == tcp && (dport == 22 || dport == 8080) && !(mark == 1)`,
		`!offload && sport > 0`,
	}
	for _, cond := range conds {
		p := compileOne(t, "list where "+cond, nil)
		matched := 0
		for i, f := range flows {
			ok, err := p.Match(f)
			if err != nil {
				t.Fatalf("%s: Match(flow %d): %v", cond, i, err)
			}
			if ok {
				matched++
				if !passes(&p.Filter, f) {
					t.Errorf("%s: flow %d matches but the filter %+v rejects it", cond, i, p.Filter)
				}
			}
		}
		if matched == 0 {
			t.Errorf("%s: matches no test flow; the check is void", cond)
		}
		if p.Filter.Empty() {
			t.Errorf("%s: nothing pushed; the check is void", cond)
		}
	}
}

func TestExact(t *testing.T) {
	tests := []struct {
		cond  string
		exact bool
	}{
		{`proto == tcp && dport == 22`, true},
		{`proto==tcp && dport==22 && state=="ESTABLISHED"`, false},
		{`dport == 22`, false}, // a flow's dport is 0 where the kernel's tuple holds an ICMP field
		{`proto == icmp && dport == 0`, false},
		{`proto == udp && sport == 53 && reply_dport == 53 && reply_sport == 1`, true},
		{`protonum == 132 && dport == 9`, true},
		{`proto == icmp && icmp_type == 8 && icmp_code == 0 && icmp_id == 77`, true},
		{`proto == icmpv6 && icmp_type == 128`, true},
		{`icmp_type == 8`, false},
		{`proto == tcp && icmp_type == 8`, false},
		{`proto == tcp && protonum == 6`, true},
		{`proto == tcp && protonum == 17`, false},
		{`proto == tcp && dport == 22 && dport == 80`, false},
		{`proto == tcp && dport == 22 && 22 == dport`, true},
		{`src == "192.0.2.1" && family == ipv4 && dst == "198.51.100.7"`, true},
		{`family == ipv4 && src == "2001:db8::1"`, false},
		{`reply_src == "2001:db8::1" && reply_dst == "2001:db8::2"`, true},
		{`src == "192.0.2.1" && src == "192.0.2.2"`, false},
		{`family == ipv6`, true},
		{`mark == 7`, true},
		{`mark == 7 && mark == 8`, false},
		{`mark == 4294967296`, false},
		{`zone == 3`, false},
		{`assured && !snat && not dnat && "SEEN_REPLY" in status`, true},
		{`assured == true && seen_reply == false && false == confirmed`, true},
		{`assured && !assured`, false},
		{`"ASSURED" in status && !assured`, false},
		{`offload`, false},
		{`!offload`, true},
		{`"OFFLOAD" in status && !offload`, false},
		{`proto == tcp or dport == 22`, false},
		{`proto == tcp && (dport == 22 || dport == 80)`, false},
		{`proto == tcp && dport in [22]`, false},
		{`proto == tcp && !(mark == 1)`, false},
		{`true`, false},
		{`proto == "unknown"`, false},
		{`proto == tcp && dport == 70000`, false},
		{`proto == tcp && 3 in labels`, false},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			p := compileOne(t, "delete where "+tt.cond, nil)
			if p.Exact != tt.exact {
				t.Errorf("Exact = %v, want %v (filter %+v)", p.Exact, tt.exact, p.Filter)
			}
		})
	}
	// Exact is only promised for the conntrack table, and only with a
	// condition.
	for _, src := range []string{"list dying where mark == 7", "count unconfirmed where mark == 7", "list", "watch"} {
		if p := compileOne(t, src, nil); p.Exact {
			t.Errorf("%s: Exact set", src)
		}
	}
	if p := compileOne(t, "list where mark == 7", nil); !p.Exact {
		t.Error("list where mark == 7: Exact not set")
	}
}

// TestContradictionsKeepTheFirst checks that a conjunct contradicting an
// earlier one is not pushed: the filter never mixes families or values.
func TestContradictionsKeepTheFirst(t *testing.T) {
	tests := []struct {
		cond string
		want engine.KernelFilter
	}{
		{`family == ipv4 && src == "2001:db8::1"`, engine.KernelFilter{Family: engine.FamilyIPv4}},
		{`src == "2001:db8::1" && dst == "192.0.2.1"`, engine.KernelFilter{Family: engine.FamilyIPv6,
			Orig: engine.TupleFilter{Fields: engine.TupleSrc, Src: netip.MustParseAddr("2001:db8::1")}}},
		{`dport == 22 && dport == 80`, engine.KernelFilter{Orig: engine.TupleFilter{Fields: engine.TupleDport, Dport: 22}}},
		{`assured && !assured`, engine.KernelFilter{Status: engine.StatusAssured, StatusMask: engine.StatusAssured}},
		{`mark == 1 && mark == 2`, engine.KernelFilter{Mark: 1, MarkMask: 0xffffffff}},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			if p := compileOne(t, "list where "+tt.cond, nil); p.Filter != tt.want {
				t.Errorf("filter\n got %+v\nwant %+v", p.Filter, tt.want)
			}
		})
	}
}

// TestExactAgreesWithMatch checks that wherever Exact is set, the filter
// accepts exactly the flows the condition accepts.
func TestExactAgreesWithMatch(t *testing.T) {
	flows := []*engine.Flow{ssh(), dns(), web(), ping()}
	for _, f := range []*engine.Flow{ssh(), dns(), web(), ping()} {
		g := *f
		g.Mark, g.Zone = 1, 3
		g.SetStatus(engine.StatusDying | engine.StatusOffload | engine.StatusSeenReply)
		flows = append(flows, &g)
	}
	icmpSport := ping()
	icmpSport.ICMPID = 22 // sport == 22 would catch it in the kernel's tuple
	flows = append(flows, icmpSport)
	conds := []string{
		`proto == tcp and dport == 22`,
		`proto == tcp and dport == 8080 and !assured`,
		`src == "192.0.2.1" && proto == tcp && sport == 40000 && reply_dport == 40000 && reply_src == "198.51.100.7"`,
		`family == ipv6 && snat && !assured`,
		`mark == 7 && assured && seen_reply && confirmed && !dnat && "ASSURED" in status`,
		`mark == 1 && !confirmed && "DYING" in status && !snat`,
		`icmp_type == 8 && icmp_code == 0 && icmp_id == 77 && proto == icmp && family == "ipv4"`,
		`protonum == 17 && dport == 53 && dst == "2001:db8:53::53"`,
		`!offload && mark == 0`,
		`family == ipv4`,
	}
	for _, cond := range conds {
		p := compileOne(t, "delete where "+cond, nil)
		if !p.Exact {
			t.Errorf("%s: not exact", cond)
			continue
		}
		matched := 0
		for i, f := range flows {
			ok, err := p.Match(f)
			if err != nil {
				t.Fatalf("%s: Match(flow %d): %v", cond, i, err)
			}
			if ok {
				matched++
			}
			if pass := passes(&p.Filter, f); pass != ok {
				t.Errorf("%s: flow %d: Match %v but the filter %+v says %v", cond, i, ok, p.Filter, pass)
			}
		}
		if matched == 0 || matched == len(flows) {
			t.Errorf("%s: matches %d of %d test flows; the check is void", cond, matched, len(flows))
		}
	}
	// Why a port needs its protocol: without it, the kernel's filter also
	// takes the ICMP flow whose id is the port.
	p := compileOne(t, "delete where sport == 22", nil)
	if ok, _ := p.Match(icmpSport); p.Exact || ok || !passes(&p.Filter, icmpSport) {
		t.Errorf("sport == 22: exact=%v, Match(icmp id 22)=%v, filter passes it=%v; want false, false, true",
			p.Exact, ok, passes(&p.Filter, icmpSport))
	}
}
