package savefmt

import (
	"bufio"
	"errors"
	"math"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"

	"ctq/engine"
)

// checkInvariants checks what every successfully parsed line must satisfy.
func checkInvariants(t *testing.T, line string, l Line) {
	t.Helper()
	f := &l.Flow
	switch l.Cmd {
	case CmdAdd, CmdCreate, CmdUpdate, CmdDelete, CmdFlush:
	default:
		t.Errorf("%q: command %q", line, byte(l.Cmd))
	}
	for _, p := range []int{f.Sport, f.Dport, f.ReplySport, f.ReplyDport, f.ICMPID, f.ReplyICMPID, f.Zone, f.OrigZone, f.ReplyZone} {
		if p < 0 || p > math.MaxUint16 {
			t.Errorf("%q: 16-bit value %d out of range", line, p)
		}
	}
	for _, v := range []int{f.ICMPType, f.ICMPCode, f.ReplyICMPType, f.ReplyICMPCode, f.ProtoNum} {
		if v < 0 || v > math.MaxUint8 {
			t.Errorf("%q: 8-bit value %d out of range", line, v)
		}
	}
	for _, v := range []int{f.Timeout, f.Mark, f.Secmark, f.ID, f.OrigVtag, f.ReplyVtag} {
		if v < 0 || v > math.MaxUint32 {
			t.Errorf("%q: 32-bit value %d out of range", line, v)
		}
	}
	fam := ""
	for _, a := range []netip.Addr{f.Src, f.Dst, f.ReplySrc, f.ReplyDst} {
		if !a.IsValid() {
			continue
		}
		name := "ipv6"
		if a.Is4() {
			name = "ipv4"
		}
		if fam != "" && fam != name {
			t.Errorf("%q: addresses of both families", line)
		}
		fam = name
	}
	if fam != "" && f.Family != fam {
		t.Errorf("%q: family %q for %s addresses", line, f.Family, fam)
	}
	if f.Proto == "icmp" && f.Family == "ipv6" || f.Proto == "icmpv6" && f.Family == "ipv4" {
		t.Errorf("%q: %s over %s", line, f.Proto, f.Family)
	}
	if l.Set.Has(FieldProto) && f.Proto != engine.ProtoName(f.ProtoNum) {
		t.Errorf("%q: proto %q for number %d", line, f.Proto, f.ProtoNum)
	}
	if l.Set.Has(FieldState) && (f.Has&engine.HasState == 0 || engine.StateName(f.ProtoNum, f.StateNum) != f.State) {
		t.Errorf("%q: state %q/%d inconsistent", line, f.State, f.StateNum)
	}
	if (f.Has&engine.HasReply != 0) != (f.ReplySrc.IsValid() && f.ReplyDst.IsValid()) {
		t.Errorf("%q: HasReply does not match the reply addresses", line)
	}
	if l.Cmd == CmdAdd || l.Cmd == CmdCreate {
		if !f.Src.IsValid() || !f.Dst.IsValid() || f.Has&engine.HasReply == 0 {
			t.Errorf("%q: entry line without both tuples", line)
		}
	}
}

// TestParseCaptured parses every save line conntrack 1.4.7 printed in the
// reference captures.
func TestParseCaptured(t *testing.T) {
	fh, err := os.Open("testdata/captured.save")
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		n++
		l, err := Parse(line)
		if err != nil {
			t.Errorf("Parse(%q): %v", line, err)
			continue
		}
		checkInvariants(t, line, l)
		if !l.Set.Has(FieldSrc|FieldDst|FieldProto|FieldStatus) ||
			!l.Set.Has(FieldReplySrc) && !l.Set.Has(FieldDstNAT) ||
			!l.Set.Has(FieldReplyDst) && !l.Set.Has(FieldSrcNAT) {
			t.Errorf("%q: Set %b lacks a field conntrack always saves", line, l.Set)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 50 {
		t.Fatalf("only %d lines in testdata", n)
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

// tcpFlow is a TCP flow of the captures, to be adjusted per case.
func tcpFlow(src, dst, rsrc, rdst string, sp, dp, rsp, rdp int) engine.Flow {
	return engine.Flow{
		Family: "ipv4", Proto: "tcp", ProtoNum: 6,
		Src: addr(src), Dst: addr(dst), Sport: sp, Dport: dp,
		ReplySrc: addr(rsrc), ReplyDst: addr(rdst), ReplySport: rsp, ReplyDport: rdp,
		Has: engine.HasReply,
	}
}

func TestParseFields(t *testing.T) {
	const tupleFields = FieldSrc | FieldDst | FieldReplySrc | FieldReplyDst | FieldProto |
		FieldSport | FieldDport | FieldReplySport | FieldReplyDport
	tests := []struct {
		name string
		line string
		want Line
	}{{
		name: "tcp assured",
		line: "-A -t 431971 -u SEEN_REPLY,ASSURED -s 192.0.2.1 -d 192.0.2.1 -r 192.0.2.1 -q 192.0.2.1 -p tcp --sport 42002 --dport 80 --reply-port-src 8080 --reply-port-dst 42002 --state ESTABLISHED",
		want: Line{Cmd: CmdAdd, Set: tupleFields | FieldTimeout | FieldStatus | FieldState, MarkMask: math.MaxUint32,
			Flow: func() engine.Flow {
				f := tcpFlow("192.0.2.1", "192.0.2.1", "192.0.2.1", "192.0.2.1", 42002, 80, 8080, 42002)
				f.Timeout, f.State, f.StateNum = 431971, "ESTABLISHED", 3
				f.Status, f.SeenReply, f.Assured = engine.StatusSeenReply|engine.StatusAssured, true, true
				f.Has |= engine.HasTimeout | engine.HasState | engine.HasStatus
				return f
			}()},
	}, {
		name: "dnat",
		line: "-A -t 266 -u UNSET -s 198.18.0.7 -d 203.0.113.11 -g 192.0.2.80 -q 198.18.0.7 -p tcp --sport 2002 --dport 80 --reply-port-src 8080 --reply-port-dst 2002 --state ESTABLISHED",
		want: Line{Cmd: CmdAdd, Set: tupleFields&^FieldReplySrc | FieldDstNAT | FieldTimeout | FieldStatus | FieldState, MarkMask: math.MaxUint32,
			Flow: func() engine.Flow {
				f := tcpFlow("198.18.0.7", "203.0.113.11", "192.0.2.80", "198.18.0.7", 2002, 80, 8080, 2002)
				f.Timeout, f.State, f.StateNum = 266, "ESTABLISHED", 3
				f.Has |= engine.HasTimeout | engine.HasState | engine.HasStatus
				return f
			}()},
	}, {
		name: "snat ipv4 udp",
		line: "-A -t 28 -u SEEN_REPLY -s 192.0.2.1 -d 198.51.100.1 -r 198.51.100.1 -n 192.0.2.2 -p udp --sport 41004 --dport 5353 --reply-port-src 5353 --reply-port-dst 41004",
		want: Line{Cmd: CmdAdd, Set: tupleFields&^FieldReplyDst | FieldSrcNAT | FieldTimeout | FieldStatus, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv4", Proto: "udp", ProtoNum: 17, Timeout: 28,
				Src: addr("192.0.2.1"), Dst: addr("198.51.100.1"), Sport: 41004, Dport: 5353,
				ReplySrc: addr("198.51.100.1"), ReplyDst: addr("192.0.2.2"), ReplySport: 5353, ReplyDport: 41004,
				Status: engine.StatusSeenReply, SeenReply: true,
				Has: engine.HasReply | engine.HasTimeout | engine.HasStatus}},
	}, {
		name: "sctp vtags",
		line: "-A -t 15 -u UNSET -s 198.18.0.15 -d 198.18.0.16 -r 198.18.0.16 -q 198.18.0.15 -p sctp --sport 3000 --dport 3001 --reply-port-src 3001 --reply-port-dst 3000 --state ESTABLISHED --orig-vtag 1 --reply-vtag 2",
		want: Line{Cmd: CmdAdd, Set: tupleFields | FieldTimeout | FieldStatus | FieldState | FieldOrigVtag | FieldReplyVtag, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv4", Proto: "sctp", ProtoNum: 132, Timeout: 15,
				Src: addr("198.18.0.15"), Dst: addr("198.18.0.16"), Sport: 3000, Dport: 3001,
				ReplySrc: addr("198.18.0.16"), ReplyDst: addr("198.18.0.15"), ReplySport: 3001, ReplyDport: 3000,
				State: "ESTABLISHED", StateNum: 4, OrigVtag: 1, ReplyVtag: 2,
				Has: engine.HasReply | engine.HasTimeout | engine.HasStatus | engine.HasState | engine.HasVtags}},
	}, {
		name: "gre keys",
		line: "-A -t 16 -u UNSET -s 198.18.0.11 -d 198.18.0.12 -r 198.18.0.12 -q 198.18.0.11 -p gre --srckey 5 --dstkey 6 --reply-key-src 6 --reply-key-dst 0x5",
		want: Line{Cmd: CmdAdd, Set: tupleFields | FieldTimeout | FieldStatus, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv4", Proto: "gre", ProtoNum: 47, Timeout: 16,
				Src: addr("198.18.0.11"), Dst: addr("198.18.0.12"), Sport: 5, Dport: 6,
				ReplySrc: addr("198.18.0.12"), ReplyDst: addr("198.18.0.11"), ReplySport: 6, ReplyDport: 5,
				Has: engine.HasReply | engine.HasTimeout | engine.HasStatus}},
	}, {
		name: "unknown protocol number",
		line: "-A -t 18 -u UNSET -s 198.18.0.13 -d 198.18.0.14 -r 198.18.0.14 -q 198.18.0.13 -p 50",
		want: Line{Cmd: CmdAdd, Set: FieldSrc | FieldDst | FieldReplySrc | FieldReplyDst | FieldProto | FieldTimeout | FieldStatus, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv4", Proto: "unknown", ProtoNum: 50, Timeout: 18,
				Src: addr("198.18.0.13"), Dst: addr("198.18.0.14"), ReplySrc: addr("198.18.0.14"), ReplyDst: addr("198.18.0.13"),
				Has: engine.HasReply | engine.HasTimeout | engine.HasStatus}},
	}, {
		name: "icmpv6 reply type derived",
		line: "-D -t 3599 -u UNSET -s 2001:db8::10 -d 2001:db8::20 -r 2001:db8::20 -q 2001:db8::10 -p icmpv6 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 99",
		want: Line{Cmd: CmdDelete, Set: FieldSrc | FieldDst | FieldReplySrc | FieldReplyDst | FieldProto | FieldTimeout | FieldStatus | FieldICMPType | FieldICMPCode | FieldICMPID, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv6", Proto: "icmpv6", ProtoNum: 58, Timeout: 3599,
				Src: addr("2001:db8::10"), Dst: addr("2001:db8::20"), ReplySrc: addr("2001:db8::20"), ReplyDst: addr("2001:db8::10"),
				ICMPType: 128, ICMPID: 99, ReplyICMPType: 129, ReplyICMPID: 99,
				Has: engine.HasReply | engine.HasTimeout | engine.HasStatus}},
	}, {
		name: "zones",
		line: "-A -t 63 -u FIXED_TIMEOUT -w 11 --orig-zone 5 --reply-zone=6 -s 198.18.0.3 -d 198.18.0.4 -p udp --sport 53000 --dport 53",
		want: Line{Cmd: CmdAdd, Set: FieldSrc | FieldDst | FieldProto | FieldSport | FieldDport | FieldTimeout | FieldStatus | FieldZone | FieldOrigZone | FieldReplyZone, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv4", Proto: "udp", ProtoNum: 17, Timeout: 63,
				Src: addr("198.18.0.3"), Dst: addr("198.18.0.4"), Sport: 53000, Dport: 53,
				ReplySrc: addr("198.18.0.4"), ReplyDst: addr("198.18.0.3"), ReplySport: 53, ReplyDport: 53000,
				Status: engine.StatusFixedTimeout, Zone: 11, OrigZone: 5, ReplyZone: 6,
				Has: engine.HasReply | engine.HasTimeout | engine.HasStatus | engine.HasZone | engine.HasOrigZone | engine.HasReplyZone}},
	}, {
		name: "create from the original direction, icmp echo",
		line: "-I -s 198.18.1.10 -d 198.18.1.11 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 77 -t 3600",
		want: Line{Cmd: CmdCreate, Set: FieldSrc | FieldDst | FieldProto | FieldTimeout | FieldICMPType | FieldICMPCode | FieldICMPID, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv4", Proto: "icmp", ProtoNum: 1, Timeout: 3600,
				Src: addr("198.18.1.10"), Dst: addr("198.18.1.11"), ReplySrc: addr("198.18.1.11"), ReplyDst: addr("198.18.1.10"),
				ICMPType: 8, ICMPID: 77, ReplyICMPType: 0, ReplyICMPID: 77,
				Has: engine.HasReply | engine.HasTimeout}},
	}, {
		name: "create from the reply direction, ipv6, family given",
		line: "--create -f ipv6 -r 2001:db8::2 -q 2001:db8::1 -p udp --reply-port-src 53 --reply-port-dst 1000 -t 10",
		want: Line{Cmd: CmdCreate, Set: FieldFamily | FieldReplySrc | FieldReplyDst | FieldProto | FieldReplySport | FieldReplyDport | FieldTimeout, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv6", Proto: "udp", ProtoNum: 17, Timeout: 10,
				Src: addr("2001:db8::1"), Dst: addr("2001:db8::2"), Sport: 1000, Dport: 53,
				ReplySrc: addr("2001:db8::2"), ReplyDst: addr("2001:db8::1"), ReplySport: 53, ReplyDport: 1000,
				Has: engine.HasReply | engine.HasTimeout}},
	}, {
		name: "nat with ports, mark with mask, secmark, id",
		line: "-A -t 5 -s 198.18.1.8 -d 203.0.113.10 -p tcp --sport 2001 --dport 443 -n 198.51.100.77:61000 -m 0x10/0xff -c 7 -i 99",
		want: Line{Cmd: CmdAdd, Set: FieldSrc | FieldDst | FieldSrcNAT | FieldProto | FieldSport | FieldDport | FieldTimeout | FieldMark | FieldSecmark | FieldID, MarkMask: 0xff,
			Flow: engine.Flow{Family: "ipv4", Proto: "tcp", ProtoNum: 6, Timeout: 5,
				Src: addr("198.18.1.8"), Dst: addr("203.0.113.10"), Sport: 2001, Dport: 443,
				ReplySrc: addr("203.0.113.10"), ReplyDst: addr("198.51.100.77"), ReplySport: 443, ReplyDport: 61000,
				Mark: 16, Secmark: 7, ID: 99,
				Has: engine.HasReply | engine.HasTimeout | engine.HasMark | engine.HasSecmark | engine.HasID}},
	}, {
		name: "ipv6 dnat in brackets with port",
		line: "-A -t 5 -s 2001:db8::30 -d 2001:db8::40 -p tcp --sport 7 --dport 8 --dst-nat [2001:db8::50]:9 --state LISTEN",
		want: Line{Cmd: CmdAdd, Set: FieldSrc | FieldDst | FieldDstNAT | FieldProto | FieldSport | FieldDport | FieldTimeout | FieldState, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv6", Proto: "tcp", ProtoNum: 6, Timeout: 5,
				Src: addr("2001:db8::30"), Dst: addr("2001:db8::40"), Sport: 7, Dport: 8,
				ReplySrc: addr("2001:db8::50"), ReplyDst: addr("2001:db8::30"), ReplySport: 9, ReplyDport: 7,
				State: "SYN_SENT2", StateNum: 9,
				Has: engine.HasReply | engine.HasTimeout | engine.HasState}},
	}, {
		name: "dccp role, attached and prefixed options, table word",
		line: "-A conntrack -t5 --proto=dccp --orig-port-s 1 --orig-port-d=2 --state OPEN --role SERV -s198.18.0.1 --orig-d 198.18.0.2",
		want: Line{Cmd: CmdAdd, Set: FieldSrc | FieldDst | FieldProto | FieldSport | FieldDport | FieldTimeout | FieldState | FieldRole, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv4", Proto: "dccp", ProtoNum: 33, Timeout: 5,
				Src: addr("198.18.0.1"), Dst: addr("198.18.0.2"), Sport: 1, Dport: 2,
				ReplySrc: addr("198.18.0.2"), ReplyDst: addr("198.18.0.1"), ReplySport: 2, ReplyDport: 1,
				State: "OPEN", StateNum: 4, DCCPRole: 1,
				Has: engine.HasReply | engine.HasTimeout | engine.HasState | engine.HasRole}},
	}, {
		name: "status prefixes, quoted words, event suffix",
		line: `-U "-u" "a,seen,F" -s 198.18.4.1 -d "198.18.4.2" -p 6 --state ESTABLISHED [USERSPACE] portid=3371306908 progname=my prog`,
		want: Line{Cmd: CmdUpdate, Set: FieldSrc | FieldDst | FieldProto | FieldStatus | FieldState, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv4", Proto: "tcp", ProtoNum: 6,
				Src: addr("198.18.4.1"), Dst: addr("198.18.4.2"),
				ReplySrc: addr("198.18.4.2"), ReplyDst: addr("198.18.4.1"),
				Status: engine.StatusAssured | engine.StatusSeenReply | engine.StatusFixedTimeout, Assured: true, SeenReply: true,
				State: "ESTABLISHED", StateNum: 3,
				Has: engine.HasReply | engine.HasStatus | engine.HasState}},
	}, {
		name: "delete filter by protocol and port",
		line: "-D -p udp --dport 53",
		want: Line{Cmd: CmdDelete, Set: FieldProto | FieldDport, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Proto: "udp", ProtoNum: 17, Dport: 53, ReplySport: 53}},
	}, {
		name: "flush with family",
		line: "  --flush -f ipv6",
		want: Line{Cmd: CmdFlush, Set: FieldFamily, MarkMask: math.MaxUint32, Flow: engine.Flow{Family: "ipv6"}},
	}, {
		name: "offload flags",
		line: "-U -u OFFLOAD,HW -s 198.18.0.1",
		want: Line{Cmd: CmdUpdate, Set: FieldSrc | FieldStatus, MarkMask: math.MaxUint32,
			Flow: engine.Flow{Family: "ipv4", Src: addr("198.18.0.1"), ReplyDst: addr("198.18.0.1"),
				Status: engine.StatusOffload | engine.StatusHWOffload, Offload: true, Has: engine.HasStatus}},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse(tc.line)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.line, err)
			}
			checkInvariants(t, tc.line, got)
			if got.Cmd != tc.want.Cmd || got.Set != tc.want.Set || got.MarkMask != tc.want.MarkMask {
				t.Errorf("Cmd, Set, MarkMask = %v, %b, %#x; want %v, %b, %#x",
					got.Cmd, got.Set, got.MarkMask, tc.want.Cmd, tc.want.Set, tc.want.MarkMask)
			}
			diffFlow(t, got.Flow, tc.want.Flow)
		})
	}
}

// diffFlow reports each Flow field that differs.
func diffFlow(t *testing.T, got, want engine.Flow) {
	t.Helper()
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := 0; i < gv.NumField(); i++ {
		if !reflect.DeepEqual(gv.Field(i).Interface(), wv.Field(i).Interface()) {
			t.Errorf("Flow.%s = %v, want %v", gv.Type().Field(i).Name, gv.Field(i).Interface(), wv.Field(i).Interface())
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		line string
		at   string // the error is at the first occurrence of at, plus off
		off  int
		msg  string
	}{
		{"-A -t 1 -p tcp --sport 99999", "99999", 0, "invalid port `99999'"},
		{"-A -t 1 -p tcp --sport 0x50", "0x50", 0, "invalid port `0x50'"},
		{"-A -t 1 -p tcp --sport=", "--sport", 8, "invalid port `'"},
		{"-A -t 1x", "1x", 0, "invalid timeout `1x'"},
		{"-A -t -5", "-5", 0, "invalid timeout `-5'"},
		{"-A -t 4294967296", "4294967296", 0, "invalid timeout"},
		{"-A --timeout=abc", "abc", 0, "invalid timeout `abc'"},
		{"-A -tabc", "abc", 0, "invalid timeout `abc'"},
		{"-A --foo 1", "--foo", 0, "unknown option `--foo'"},
		{"-A -x", "-x", 0, "unknown option `-x'"},
		{"-A --sta X", "--sta", 0, "option `--sta' is ambiguous (--stats, --status)"},
		{"-A -t 5 --sport 1 -p tcp", "--sport", 0, "need -p PROTO before them"},
		{"-A -p udp --state ESTABLISHED", "--state", 0, "not an option of protocol udp"},
		{"-A -u SEEN_REPLY,S", ",S", 1, "ambiguous status `S' (SEEN_REPLY, SRC_NAT)"},
		{"-A -u ASSURED,,SEEN", ",,", 1, "empty status flag"},
		{"-A -u UNREPLIED", "UNREPLIED", 0, "is a filter"},
		{"-A -u !ASSURED", "!ASSURED", 0, "is a filter"},
		{"-A -u D", "D", 0, "use --dst-nat"},
		{"-A -u assured,bogus", "bogus", 0, "unknown status `bogus'"},
		{"-A -u UNSET,ASSURED", "UNSET", 0, "UNSET cannot be combined"},
		{"-A -s 999.1.1.1", "999", 0, "invalid IP address `999.1.1.1'"},
		{"-A -s 10.1", "10.1", 0, "invalid IP address `10.1'"},
		{"-A -s 198.18.0.0/15", "198", 0, "CIDR masks are not supported"},
		{"-A -s fe80::1%eth0", "fe80", 0, "invalid IP address"},
		{"-A -s 192.0.2.1 -d 2001:db8::1", "2001", 0, "mismatched address family"},
		{"-A -f ipv6 -s 192.0.2.1", "192", 0, "mismatched address family"},
		{"-A -f IPV6", "IPV6", 0, "unsupported family"},
		{"-A -p foo", "foo", 0, "`foo' unsupported protocol"},
		{"-A -p 256", "256", 0, "`256' unsupported protocol"},
		{"-A -p tcp --state established", "established", 0, "unknown TCP state `established'"},
		{"-A -p sctp --state FOO", "FOO", 0, "unknown SCTP state `FOO'"},
		{"-A -p dccp --role x", "x", 0, "unknown DCCP role `x'"},
		{"-A -p sctp --orig-vtag 4294967296", "4294967296", 0, "invalid verification tag"},
		{"-A -p icmp --icmp-type 256", "256", 0, "invalid ICMP type `256'"},
		{"-A -p icmpv6 --icmpv6-code 300", "300", 0, "invalid ICMP code `300'"},
		{"-A -p icmp --icmp-id 65536", "65536", 0, "invalid ICMP id `65536'"},
		{"-A -p gre --srckey 0x10000", "0x10000", 0, "invalid GRE key `0x10000'"},
		{"-A -w 65536", "65536", 0, "invalid zone `65536'"},
		{"-A --orig-zone 08", "08", 0, "invalid zone `08'"},
		{"-A -m 1x", "1x", 0, "invalid mark `1x'"},
		{"-A -m 1/0xzz", "0xzz", 0, "invalid mark mask `0xzz'"},
		{"-A -m 0x100000000", "0x1", 0, "invalid mark"},
		{"-A -c -1", "-1", 0, "invalid secmark `-1'"},
		{"-A -t 1 -t 2", "-t 2", 0, "option `-t' given twice"},
		{"-A -s 192.0.2.1 --orig-src 192.0.2.2", "--orig-src", 0, "option `--orig-src' given twice"},
		{"-A -D", "-D", 0, "invalid commands combination"},
		{"-L", "-L", 0, "command `-L' cannot be used in a save line"},
		{"-A -o save", "-o", 0, "option `-o' is not supported"},
		{"-A -p tcp --mask-port-src 1", "--mask", 0, "not supported"},
		{"-A -l web", "-l", 0, "not supported"},
		{"-A expect", "expect", 0, "table `expect' cannot be used"},
		{"-A foo", "foo", 0, "unknown table `foo'"},
		{"-s 192.0.2.1", "-s", 0, "no command"},
		{"-A -s 192.0.2.1 stray", "stray", 0, "unexpected argument `stray'"},
		{"-A -", " -", 1, "unexpected argument `-'"},
		{"-A -s", "-s", 0, "option `-s' requires an argument"},
		{`-A -s "192.0.2.1`, `"`, 0, "unterminated quote"},
		{"-A --help=x", "--help", 0, "doesn't allow an argument"},
		{"-A -n", "-n", 0, "option `-n' needs an address"},
		{"-A -r 192.0.2.1 -g 192.0.2.5", "-g", 0, "`-g' and `-r' both give the reply source address"},
		{"-A -n 192.0.2.5 -q 192.0.2.1", "-q", 0, "both give the reply destination address"},
		{"-A -g [2001:db8::1", "[", 0, "no closing `]'"},
		{"-A -g []:80", "[", 0, "no IPv6 address specified"},
		{"-A -g 192.0.2.1:", "192", 0, "no port specified after `:'"},
		{"-A -g 192.0.2.1:99999", "192", 0, "invalid port `99999'"},
		{"-A -g [192.0.2.1]:5", "[", 0, "invalid IPv6 address"},
		{"-A -g :61000", ":61000", 0, "invalid IP address `'"},
		{"-A -p icmp -s 2001:db8::1", "icmp", 0, "icmp needs IPv4 addresses"},
		{"-A -p icmpv6 -s 192.0.2.1", "icmpv6", 0, "icmpv6 needs IPv6 addresses"},
		{"-F -s 192.0.2.1", "-s", 0, "option `-s' cannot be used with -F"},
		{"-A -s 192.0.2.1 -d 192.0.2.2 -p tcp --sport 1 --dport 2", "-A", 0, "`--timeout' option"},
		{"-A -t 1 -s 192.0.2.1 -d 192.0.2.2", "-A", 0, "`--protonum' option"},
		{"-A -t 1 -s 192.0.2.1 -p tcp --sport 1 --dport 2", "-A", 0, "you have to specify `--src' and `--dst'"},
		{"-I -t 1 -s 192.0.2.1 -d 192.0.2.2 -p tcp --sport 1", "-I", 0, "you have to specify `--sport' and `--dport'"},
		{"-I -t 1 -s 192.0.2.1 -d 192.0.2.2 -p gre --srckey 1", "-I", 0, "you have to specify `--srckey' and `--dstkey'"},
		{"-A -t 1 -s 192.0.2.1 -d 192.0.2.2 -p icmp --icmp-type 8", "-A", 0, "ICMP type and code"},
		{"-A -t 1 -s 192.0.2.1 -d 192.0.2.2 -p 50 -g 192.0.2.3:80", "192.0.2.3", 0, "a NAT port needs a protocol with ports"},
		{"-A -t 1 -s 192.0.2.1 -d 192.0.2.2 -p tcp --sport 1 --dport 2 -g 192.0.2.3:80 --reply-port-src 81", "192.0.2.3", 0, "NAT port 80 differs from reply port 81"},
		{"-A -g 192.0.2.3:80 -n 192.0.2.4:81", "192.0.2.4", 0, "only one of --src-nat and --dst-nat may give a port"},
		{"-A [USERSPACE]", "[USERSPACE]", 0, "without portid="},
		{"-A [USERSPACE] portid=x", "portid", 0, "invalid `portid=x'"},
		{"-A [USERSPACE] portid=5 junk", "junk", 0, "unexpected argument `junk'"},
	}
	for _, tc := range tests {
		t.Run(tc.line, func(t *testing.T) {
			i := strings.Index(tc.line, tc.at)
			if i < 0 {
				t.Fatalf("bad test: %q not in line", tc.at)
			}
			want := i + 1 + tc.off
			_, err := Parse(tc.line)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error = %v, want *Error", tc.line, err)
			}
			if e.Col != want || !strings.Contains(e.Msg, tc.msg) {
				t.Errorf("Parse(%q) = column %d: %s; want column %d: ...%s...", tc.line, e.Col, e.Msg, want, tc.msg)
			}
		})
	}
}

func TestTokenize(t *testing.T) {
	tests := []struct {
		line string
		want []Token
	}{
		{"", nil},
		{" \t ", nil},
		{"-A  -s\t1.2.3.4", []Token{{"-A", 1, true}, {"-s", 5, true}, {"1.2.3.4", 8, true}}},
		{`-l "a b" c`, []Token{{"-l", 1, true}, {"a b", 4, false}, {"c", 10, true}}},
		{`x"y z"w`, []Token{{"xy zw", 1, false}}},
		{`"a\"b\\c"`, []Token{{`a"b\c`, 1, false}}},
		{`""`, []Token{{"", 1, false}}},
		{`a\b`, []Token{{`a\b`, 1, true}}},
		{"a\r\n", []Token{{"a", 1, true}}},
	}
	for _, tc := range tests {
		got, err := Tokenize(tc.line)
		if err != nil {
			t.Errorf("Tokenize(%q): %v", tc.line, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Tokenize(%q) = %+v, want %+v", tc.line, got, tc.want)
		}
	}
	for _, line := range []string{`"abc`, `a "b\"`, `a "b\`} {
		var e *Error
		if _, err := Tokenize(line); !errors.As(err, &e) || e.Col != strings.IndexByte(line, '"')+1 {
			t.Errorf("Tokenize(%q) error = %v, want unterminated quote at the quote", line, err)
		}
	}
}

func TestCommandString(t *testing.T) {
	for c, want := range map[Command]string{CmdAdd: "-A", CmdCreate: "-I", CmdUpdate: "-U", CmdDelete: "-D", CmdFlush: "-F"} {
		if c.String() != want {
			t.Errorf("%c: String() = %q, want %q", byte(c), c.String(), want)
		}
	}
}

func TestICMPReplyType(t *testing.T) {
	pairs := []struct{ proto, a, b int }{
		{engine.ProtoICMP, 8, 0}, {engine.ProtoICMP, 13, 14}, {engine.ProtoICMP, 15, 16},
		{engine.ProtoICMP, 17, 18}, {engine.ProtoICMPv6, 128, 129}, {engine.ProtoICMPv6, 139, 140},
	}
	for _, p := range pairs {
		for _, x := range [][2]int{{p.a, p.b}, {p.b, p.a}} {
			if got, ok := icmpReplyType(p.proto, x[0]); !ok || got != x[1] {
				t.Errorf("icmpReplyType(%d, %d) = %d, %v; want %d", p.proto, x[0], got, ok, x[1])
			}
		}
	}
	for _, x := range [][2]int{{engine.ProtoICMP, 3}, {engine.ProtoICMP, 11}, {engine.ProtoICMPv6, 1}, {engine.ProtoICMPv6, 135}} {
		if _, ok := icmpReplyType(x[0], x[1]); ok {
			t.Errorf("icmpReplyType(%d, %d) has a pair", x[0], x[1])
		}
	}
}

// TestErrorEscapesControls: an error quoting a bad word of the line shows
// its control characters escaped, so that none reaches the terminal.
func TestErrorEscapesControls(t *testing.T) {
	tests := []struct{ line, want string }{
		{"-A \x1b[2J", "column 4: unknown table `\\x1b[2J'"},
		{"-A -t 1 -p tcp --sport \x1b]0;x\x07", "column 24: invalid port `\\x1b]0;x\\x07'"},
		{"-A --\u009bfoo 1", "column 4: unknown option `--\\u009bfoo'"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.line)
		if err == nil || err.Error() != tt.want {
			t.Errorf("Parse(%q) = %v, want %q", tt.line, err, tt.want)
		}
	}
}
