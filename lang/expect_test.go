package lang

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"ctq/engine"
)

// ftpExpect is an FTP data expectation over IPv4.
func ftpExpect() *engine.Expect {
	a := netip.MustParseAddr
	e := &engine.Expect{
		Family: "ipv4", Proto: "tcp", ProtoNum: 6,
		Src: a("192.0.2.1"), Dst: a("198.51.100.7"), Sport: 0, Dport: 50000,
		MaskSrc: a("255.255.255.255"), MaskDst: a("255.255.255.255"), MaskSport: 0, MaskDport: 0xffff,
		MasterProto: "tcp", MasterProtoNum: 6, MasterSrc: a("192.0.2.1"), MasterDst: a("198.51.100.7"),
		MasterSport: 40000, MasterDport: 21,
		Timeout: 300, Helper: "ftp",
	}
	e.SetFlags(engine.ExpectPermanent)
	return e
}

func TestExpectConditions(t *testing.T) {
	sip := ftpExpect()
	sip.Helper, sip.Proto, sip.ProtoNum, sip.Family = "sip", "udp", 17, "ipv6"
	sip.SetFlags(0)
	expects := []*engine.Expect{ftpExpect(), sip}
	tests := []struct {
		cond   string
		want   []bool
		family int // the pushed family
	}{
		{`helper == "ftp"`, []bool{true, false}, 0},
		{`master_dport == 21 && family == ipv4`, []bool{true, false}, engine.FamilyIPv4},
		{`ipv6 == family and proto == udp`, []bool{false, true}, engine.FamilyIPv6},
		{`family == ipv4 or helper == "sip"`, []bool{true, true}, 0},
		{`permanent && !inactive && mask_dport == 65535`, []bool{true, false}, 0},
		{`src == "192.0.2.1" && master_src in cidr("192.0.2.0/24")`, []bool{true, true}, 0},
		{`timeout > 100 && master_proto == tcp`, []bool{true, true}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			for _, stmt := range []string{"list expect where ", "count expect where ", "watch expect where ", "delete expect where "} {
				p := compileOne(t, stmt+tt.cond, nil)
				if p.Table != engine.TableExpect || p.Match != nil || p.MatchExpect == nil || p.Exact {
					t.Fatalf("%s: plan {%v match=%v matchExpect=%v exact=%v}", stmt, p.Table, p.Match != nil, p.MatchExpect != nil, p.Exact)
				}
				if p.Filter != (engine.KernelFilter{Family: tt.family}) {
					t.Errorf("%s: filter %+v, want family %d only", stmt, p.Filter, tt.family)
				}
				for i, e := range expects {
					if got, err := p.MatchExpect(e); err != nil || got != tt.want[i] {
						t.Errorf("%s: MatchExpect(%d) = %v, %v; want %v", stmt, i, got, err, tt.want[i])
					}
				}
			}
		})
	}
	p := compileOne(t, "list expect limit 5 as json", nil)
	if p.Action != engine.ActList || p.Table != engine.TableExpect || p.Limit != 5 || p.MatchExpect != nil {
		t.Errorf("list expect plan %+v", *p)
	}
}

func TestExpectConditionErrors(t *testing.T) {
	tests := []struct{ src, want string }{
		{"list expect where dprt == 1", "1:19: unknown field `dprt` (did you mean `dport`?)"},
		{"list expect where master_dprt == 1", "1:19: unknown field `master_dprt` (did you mean `master_dport`?)"},
		{"count expect where helper", "1:20: the condition must be true or false, but it is string"},
		{`list expect where master_proto == "tpc"`, "1:35: unknown protocol \"tpc\" (did you mean `tcp`?)"},
		{"list where master_dport == 21", "1:12: unknown field `master_dport`"},
		{`list expect where mask_src == "255.255.255.256"`, "1:31: invalid address \"255.255.255.256\""},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := CompileScript(tt.src, nil)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("CompileScript(%q) = %v, want *Error", tt.src, err)
			}
			if got := fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg); got != tt.want {
				t.Errorf("error\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestInsert(t *testing.T) {
	a := netip.MustParseAddr
	opts := &Options{LabelNames: map[int]string{1: "blue"}}
	tests := []struct {
		src  string
		want engine.Flow
	}{
		{`insert {src: "192.0.2.1", dst: "198.51.100.7", proto: tcp, sport: 40000, dport: 22, timeout: 120,
			state: "ESTABLISHED", status: ["SEEN_REPLY", "ASSURED"], mark: 7, zone: 2, labels: [3, "blue"]}`,
			engine.Flow{Family: "ipv4", Proto: "tcp", ProtoNum: 6, Src: a("192.0.2.1"), Dst: a("198.51.100.7"), Sport: 40000, Dport: 22,
				ReplySrc: a("198.51.100.7"), ReplyDst: a("192.0.2.1"), ReplySport: 22, ReplyDport: 40000,
				State: "ESTABLISHED", StateNum: 3, Status: engine.StatusSeenReply | engine.StatusAssured, Assured: true, SeenReply: true,
				Mark: 7, Zone: 2, Timeout: 120, Labels: labels(1, 3),
				Has: engine.HasTimeout | engine.HasState | engine.HasStatus | engine.HasMark | engine.HasZone | engine.HasLabels}},
		{`insert {family: ipv6, src: "2001:db8::1", dst: "2001:db8::2", proto: udp, sport: 5000, dport: 53,
			reply_src: "2001:db8::53", reply_dport: 6000, timeout: duration("1m"), orig_zone: 1, reply_zone: 2}`,
			engine.Flow{Family: "ipv6", Proto: "udp", ProtoNum: 17, Src: a("2001:db8::1"), Dst: a("2001:db8::2"), Sport: 5000, Dport: 53,
				ReplySrc: a("2001:db8::53"), ReplyDst: a("2001:db8::1"), ReplySport: 53, ReplyDport: 6000,
				Timeout: 60, OrigZone: 1, ReplyZone: 2,
				Has: engine.HasTimeout | engine.HasReply | engine.HasOrigZone | engine.HasReplyZone}},
		{`insert {src: "192.0.2.9", dst: "198.51.100.1", proto: icmp, icmp_type: 8, icmp_code: 0, icmp_id: 77, timeout: 30, status: "seen_reply"}`,
			engine.Flow{Family: "ipv4", Proto: "icmp", ProtoNum: 1, Src: a("192.0.2.9"), Dst: a("198.51.100.1"),
				ReplySrc: a("198.51.100.1"), ReplyDst: a("192.0.2.9"), ICMPType: 8, ICMPID: 77, ReplyICMPType: 0, ReplyICMPID: 77,
				Status: engine.StatusSeenReply, SeenReply: true, Timeout: 30, Has: engine.HasTimeout | engine.HasStatus}},
		{`insert {src: "2001:db8::1", dst: "2001:db8::2", proto: icmpv6, icmp_type: 129, icmp_code: 1, icmp_id: 5, timeout: 30}`,
			engine.Flow{Family: "ipv6", Proto: "icmpv6", ProtoNum: 58, Src: a("2001:db8::1"), Dst: a("2001:db8::2"),
				ReplySrc: a("2001:db8::2"), ReplyDst: a("2001:db8::1"), ICMPType: 129, ICMPCode: 1, ICMPID: 5,
				ReplyICMPType: 128, ReplyICMPCode: 1, ReplyICMPID: 5, Timeout: 30, Has: engine.HasTimeout}},
		{`insert {src: "192.0.2.1", dst: "192.0.2.2", proto: sctp, sport: 1, dport: 2, timeout: 10, state: "ESTABLISHED", orig_vtag: 0x1234, reply_vtag: 5}`,
			engine.Flow{Family: "ipv4", Proto: "sctp", ProtoNum: 132, Src: a("192.0.2.1"), Dst: a("192.0.2.2"), Sport: 1, Dport: 2,
				ReplySrc: a("192.0.2.2"), ReplyDst: a("192.0.2.1"), ReplySport: 2, ReplyDport: 1,
				State: "ESTABLISHED", StateNum: 4, Timeout: 10, OrigVtag: 0x1234, ReplyVtag: 5,
				Has: engine.HasTimeout | engine.HasState | engine.HasVtags}},
		{`insert {src: "192.0.2.1", dst: "192.0.2.2", proto: dccp, sport: 1, dport: 2, timeout: 10}`,
			engine.Flow{Family: "ipv4", Proto: "dccp", ProtoNum: 33, Src: a("192.0.2.1"), Dst: a("192.0.2.2"), Sport: 1, Dport: 2,
				ReplySrc: a("192.0.2.2"), ReplyDst: a("192.0.2.1"), ReplySport: 2, ReplyDport: 1, Timeout: 10, Has: engine.HasTimeout}},
		{`insert {src: "192.0.2.1", dst: "192.0.2.2", proto: gre, sport: 7, dport: 9, reply_dst: "203.0.113.1", timeout: 10}`,
			engine.Flow{Family: "ipv4", Proto: "gre", ProtoNum: 47, Src: a("192.0.2.1"), Dst: a("192.0.2.2"), Sport: 7, Dport: 9,
				ReplySrc: a("192.0.2.2"), ReplyDst: a("203.0.113.1"), ReplySport: 9, ReplyDport: 7, Timeout: 10,
				Has: engine.HasTimeout | engine.HasReply}},
		{`insert conntrack {src: "192.0.2.1", dst: "192.0.2.2", proto: 50, timeout: 10}`,
			engine.Flow{Family: "unknown", Proto: "unknown", ProtoNum: 50, Src: a("192.0.2.1"), Dst: a("192.0.2.2"),
				ReplySrc: a("192.0.2.2"), ReplyDst: a("192.0.2.1"), Timeout: 10, Has: engine.HasTimeout}},
	}
	tests[7].want.Family = "ipv4"
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p := compileOne(t, tt.src, opts)
			if p.Action != engine.ActInsert || p.Table != engine.TableConntrack || p.Match != nil || len(p.CreateExpect) != 0 {
				t.Errorf("plan {%v %v match=%v createExpect=%d}", p.Action, p.Table, p.Match != nil, len(p.CreateExpect))
			}
			if len(p.Create) != 1 {
				t.Fatalf("Create has %d flows, want 1", len(p.Create))
			}
			if !reflect.DeepEqual(p.Create[0], tt.want) {
				t.Errorf("flow\n got %+v\nwant %+v", p.Create[0], tt.want)
			}
		})
	}
	p := compileOne(t, "insert [\n  {src: \"192.0.2.1\", dst: \"192.0.2.2\", proto: 50, timeout: 1},\n  {src: \"192.0.2.3\", dst: \"192.0.2.4\", proto: 51, timeout: 2},\n]", nil)
	if len(p.Create) != 2 || p.Create[0].ProtoNum != 50 || p.Create[1].ProtoNum != 51 || p.Create[1].Timeout != 2 {
		t.Errorf("insert list created %+v", p.Create)
	}
}

func TestInsertExpect(t *testing.T) {
	a := netip.MustParseAddr
	p := compileOne(t, `insert expect {master_src: "192.0.2.1", master_dst: "198.51.100.7", master_sport: 40000, master_dport: 21,
		proto: tcp, src: "192.0.2.1", dst: "198.51.100.7", sport: 0, dport: 50000, mask_sport: 0,
		timeout: duration("5m"), helper: "ftp", zone: 1, flags: ["permanent"], class: 2}`, nil)
	want := *ftpExpect()
	want.Zone, want.Class = 1, 2
	want.Has |= engine.HasExpTimeout | engine.HasExpMask | engine.HasExpMaster | engine.HasExpZone | engine.HasExpHelper | engine.HasExpClass
	if p.Action != engine.ActInsert || p.Table != engine.TableExpect || len(p.Create) != 0 || len(p.CreateExpect) != 1 {
		t.Fatalf("plan {%v %v create=%d createExpect=%d}", p.Action, p.Table, len(p.Create), len(p.CreateExpect))
	}
	if !reflect.DeepEqual(p.CreateExpect[0], want) {
		t.Errorf("expectation\n got %+v\nwant %+v", p.CreateExpect[0], want)
	}

	// Defaults: the master protocol is the expected one, the mask is full.
	p = compileOne(t, `insert expect {master_src: "2001:db8::1", master_dst: "2001:db8::2", master_sport: 5060, master_dport: 5060,
		proto: udp, src: "2001:db8::1", dst: "2001:db8::2", sport: 1, dport: 2, timeout: 10, flags: 3}`, nil)
	full := a("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
	want = engine.Expect{Family: "ipv6", Proto: "udp", ProtoNum: 17, Src: a("2001:db8::1"), Dst: a("2001:db8::2"), Sport: 1, Dport: 2,
		MaskSrc: full, MaskDst: full, MaskSport: 0xffff, MaskDport: 0xffff,
		MasterProto: "udp", MasterProtoNum: 17, MasterSrc: a("2001:db8::1"), MasterDst: a("2001:db8::2"), MasterSport: 5060, MasterDport: 5060,
		Timeout: 10, Has: engine.HasExpTimeout | engine.HasExpMask | engine.HasExpMaster}
	want.SetFlags(engine.ExpectPermanent | engine.ExpectInactive)
	if !reflect.DeepEqual(p.CreateExpect[0], want) {
		t.Errorf("expectation\n got %+v\nwant %+v", p.CreateExpect[0], want)
	}

	// NAT: the direction, and the address and port (zero by default).
	for _, tt := range []struct {
		nat     string
		dir     int
		src     netip.Addr
		sport   int
		comment string
	}{
		{`nat_dir: "reply", nat_src: "203.0.113.5", nat_sport: 2121`, 1, a("203.0.113.5"), 2121, "all given"},
		{`nat_dir: 0, nat_sport: 50000`, 0, netip.IPv4Unspecified(), 50000, "address kept"},
	} {
		p = compileOne(t, `insert expect {master_src: "192.0.2.1", master_dst: "198.51.100.7", master_sport: 40000, master_dport: 21,
			proto: tcp, src: "192.0.2.1", dst: "198.51.100.7", sport: 0, dport: 50000, timeout: 60, `+tt.nat+`}`, nil)
		e := p.CreateExpect[0]
		if e.Has&engine.HasExpNAT == 0 || e.NATDir != tt.dir || e.NATSrc != tt.src || e.NATSport != tt.sport || e.NATProtoNum != engine.ProtoTCP {
			t.Errorf("%s: NAT dir %d src %v sport %d proto %d (has %v)", tt.comment, e.NATDir, e.NATSrc, e.NATSport, e.NATProtoNum, e.Has&engine.HasExpNAT != 0)
		}
	}
}
