package lang

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"testing"
	"time"

	"ctq/engine"
)

// flow builds a flow of protocol proto between two addresses and ports.
func flow(proto int, src, dst string, sport, dport int) *engine.Flow {
	f := &engine.Flow{
		Src: netip.MustParseAddr(src), Dst: netip.MustParseAddr(dst),
		Sport: sport, Dport: dport,
	}
	f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport = f.Dst, f.Src, dport, sport
	if f.Src.Is4() {
		f.SetFamily(engine.FamilyIPv4)
	} else {
		f.SetFamily(engine.FamilyIPv6)
	}
	f.SetProto(proto)
	return f
}

// ssh is an assured, established SSH flow over IPv4 with mark 7.
func ssh() *engine.Flow {
	f := flow(engine.ProtoTCP, "192.0.2.1", "198.51.100.7", 40000, 22)
	f.SetState(3) // ESTABLISHED
	f.SetStatus(engine.StatusAssured | engine.StatusSeenReply | engine.StatusConfirmed)
	f.Mark = 7
	f.Labels.Set(3)
	f.SetCounters(10, 1000, 8, 4000)
	f.SetStart(time.Unix(1000, 0), time.Unix(1000, 0).Add(10*time.Minute))
	return f
}

// dns is an unreplied UDP flow over IPv6.
func dns() *engine.Flow {
	f := flow(engine.ProtoUDP, "2001:db8::1", "2001:db8:53::53", 5353, 53)
	f.SetStatus(engine.StatusConfirmed | engine.StatusSrcNAT)
	f.Zone = 4
	return f
}

// web is a TCP flow to port 8080 in SYN_SENT.
func web() *engine.Flow {
	f := flow(engine.ProtoTCP, "203.0.113.5", "198.18.0.1", 50000, 8080)
	f.SetState(1) // SYN_SENT
	f.SetStatus(engine.StatusConfirmed)
	f.SetStart(time.Unix(1000, 0), time.Unix(1000, 0).Add(30*time.Second))
	return f
}

// ping is an ICMP echo request flow.
func ping() *engine.Flow {
	f := flow(engine.ProtoICMP, "192.0.2.9", "198.51.100.1", 0, 0)
	f.ICMPType, f.ICMPCode, f.ICMPID = 8, 0, 77
	f.SetStatus(engine.StatusConfirmed)
	return f
}

func compileOne(t *testing.T, src string, opts *Options) *engine.Plan {
	t.Helper()
	plans, err := CompileScript(src, opts)
	if err != nil {
		t.Fatalf("CompileScript(%q): %v", src, err)
	}
	if len(plans) != 1 {
		t.Fatalf("CompileScript(%q) gave %d plans, want 1", src, len(plans))
	}
	return plans[0]
}

func TestMatch(t *testing.T) {
	opts := &Options{LabelNames: map[int]string{3: "blue", 5: "red"}}
	flows := map[string]*engine.Flow{"ssh": ssh(), "dns": dns(), "web": web(), "ping": ping()}
	tests := []struct {
		cond string
		want []string // the flows that match, in the order ssh dns web ping
	}{
		// The must-work examples.
		{`proto == tcp and dport == 22`, []string{"ssh"}},
		{`src in cidr("198.51.100.0/24") or dst in cidr("2001:db8::/32")`, []string{"dns"}},
		{`proto==tcp && dport==22 && state=="ESTABLISHED"`, []string{"ssh"}},
		{`proto == tcp`, []string{"ssh", "web"}},
		// Constants and strings.
		{`proto == "tcp"`, []string{"ssh", "web"}},
		{`proto in [udp, icmp]`, []string{"dns", "ping"}},
		{`family == ipv6`, []string{"dns"}},
		{`state == "SYN_SENT" || state == "LISTEN"`, []string{"web"}},
		{`state == ""`, []string{"dns", "ping"}},
		// Addresses.
		{`src == "192.0.2.1"`, []string{"ssh"}},
		{`"192.0.2.1" == src`, []string{"ssh"}},
		{`src != "192.0.2.1"`, []string{"dns", "web", "ping"}},
		{`dst == "2001:db8:53::53"`, []string{"dns"}},
		{`src == reply_dst`, []string{"ssh", "dns", "web", "ping"}},
		{`src in ["192.0.2.1", "203.0.113.5"]`, []string{"ssh", "web"}},
		{`dst in cidr("198.51.100.0/24")`, []string{"ssh", "ping"}},
		{`dst not in cidr("198.51.100.0/24")`, []string{"dns", "web"}},
		{`src in cidr("192.0.2.1")`, []string{"ssh"}},
		{`reply_src in cidr("198.18.0.0/15")`, []string{"web"}},
		// Ports: ranges and lists.
		{`dport in 8000..8100`, []string{"web"}},
		{`dport in [22, 53]`, []string{"ssh", "dns"}},
		{`dport not in [22, 53]`, []string{"web", "ping"}},
		{`22 == dport`, []string{"ssh"}},
		{`reply_sport == 53`, []string{"dns"}},
		// Status flags, booleans, labels.
		{`"ASSURED" in status`, []string{"ssh"}},
		{`"assured" in status`, []string{"ssh"}},
		{`"SRC_NAT" in status && snat`, []string{"dns"}},
		{`"ASSURED" not in status`, []string{"dns", "web", "ping"}},
		{`assured && seen_reply`, []string{"ssh"}},
		{`!confirmed`, nil},
		{`not snat and confirmed`, []string{"ssh", "web", "ping"}},
		{`3 in labels`, []string{"ssh"}},
		{`"blue" in labels`, []string{"ssh"}},
		{`"red" in labels`, nil},
		// Numbers, times, durations.
		{`mark == 7 && zone == 0`, []string{"ssh"}},
		{`zone == 4`, []string{"dns"}},
		{`age > duration("5m")`, []string{"ssh"}},
		{`age > duration("10s") && age < duration("1m")`, []string{"web"}},
		{`start < now() && start > date("1969-12-31")`, []string{"ssh", "web"}},
		{`bytes / packets > 100`, []string{"ssh"}},
		{`bytes > 4_000 && orig_bytes == 1000`, []string{"ssh"}},
		{`icmp_type == 8 && icmp_id == 77`, []string{"ping"}},
		{`helper == "" && len(secctx) == 0`, []string{"ssh", "dns", "web", "ping"}},
		// expr's own language.
		{`proto startsWith "ud" or proto matches "^ic"`, []string{"dns", "ping"}},
		{`(let p = dport; p > 1000 and p < 9000)`, []string{"web"}},
		{`(dport ?? 0) == 22 ? true : false`, []string{"ssh"}},
	}
	order := []string{"ssh", "dns", "web", "ping"}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			plan := compileOne(t, "list where "+tt.cond, opts)
			var got []string
			for _, name := range order {
				ok, err := plan.Match(flows[name])
				if err != nil {
					t.Fatalf("Match(%s): %v", name, err)
				}
				if ok {
					got = append(got, name)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("matches %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMatchReusesVM(t *testing.T) {
	// One Plan evaluates many flows in turn; results must not leak from one
	// evaluation into the next.
	plan := compileOne(t, `list where (let p = dport; p == 22) or src in cidr("2001:db8::/32")`, nil)
	for i, tc := range []struct {
		f    *engine.Flow
		want bool
	}{{ssh(), true}, {web(), false}, {dns(), true}, {ping(), false}, {ssh(), true}} {
		got, err := plan.Match(tc.f)
		if err != nil || got != tc.want {
			t.Errorf("evaluation %d = %v, %v; want %v", i, got, err, tc.want)
		}
	}
}

func TestPlans(t *testing.T) {
	formats := &Options{Formats: []string{"text", "extended", "id", "json", "csv"}}
	tests := []struct {
		src    string
		want   engine.Plan // Action, Table, Limit
		format string      // the step's format
		match  bool        // Match is set
		order  []bool      // Desc of each order key
	}{
		{"list", engine.Plan{Action: engine.ActList, Table: engine.TableConntrack, Limit: -1}, "", false, nil},
		{"list expect", engine.Plan{Action: engine.ActList, Table: engine.TableExpect, Limit: -1}, "", false, nil},
		{"list dying where assured limit 0", engine.Plan{Action: engine.ActList, Table: engine.TableDying, Limit: 0}, "", true, nil},
		{"list order by bytes desc, src limit 10 as extended,id",
			engine.Plan{Action: engine.ActList, Limit: 10}, "extended,id", false, []bool{true, false}},
		{"list as json", engine.Plan{Action: engine.ActList, Limit: -1}, "json", false, nil},
		{"watch new as json", engine.Plan{Action: engine.ActWatch, Limit: -1}, "json", false, nil},
		{"count", engine.Plan{Action: engine.ActCount, Limit: -1}, "", false, nil},
		{"count unconfirmed where proto == tcp", engine.Plan{Action: engine.ActCount, Table: engine.TableUnconfirmed, Limit: -1}, "", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p := compileOne(t, tt.src, formats)
			if p.Action != tt.want.Action || p.Table != tt.want.Table || p.Limit != tt.want.Limit {
				t.Errorf("plan {%v %v limit %d}, want {%v %v limit %d}",
					p.Action, p.Table, p.Limit, tt.want.Action, tt.want.Table, tt.want.Limit)
			}
			prog, err := CompileProgram("", tt.src, formats)
			if err != nil {
				t.Fatal(err)
			}
			if f := prog.Steps[0].(*PlanStep).Format; f != tt.format {
				t.Errorf("format %q, want %q", f, tt.format)
			}
			if (p.Match != nil) != tt.match {
				t.Errorf("Match set = %v, want %v", p.Match != nil, tt.match)
			}
			var desc []bool
			for _, k := range p.Order {
				desc = append(desc, k.Desc)
			}
			if !reflect.DeepEqual(desc, tt.order) {
				t.Errorf("order keys (desc) %v, want %v", desc, tt.order)
			}
			if p.Key != nil {
				t.Errorf("Key set for %s", tt.src)
			}
		})
	}
}

func TestOrderKeys(t *testing.T) {
	f := ssh()
	tests := []struct {
		key  string
		want any
	}{
		{"dport", 22},
		{"src", netip.MustParseAddr("192.0.2.1")},
		{"proto", "tcp"},
		{"assured", true},
		{"status", uint(engine.StatusAssured | engine.StatusSeenReply | engine.StatusConfirmed)},
		{"age", 10 * time.Minute},
		{"start", time.Unix(1000, 0)},
		{"bytes / packets", 5000.0 / 18},
		{"-bytes", -5000},
		{"dport > 1024 ? \"high\" : \"low\"", "low"},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			p := compileOne(t, "list order by "+tt.key, nil)
			got, err := p.Order[0].Value(f)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("key %s = %#v (%T), want %#v (%T)", tt.key, got, got, tt.want, tt.want)
			}
		})
	}
}

func TestGet(t *testing.T) {
	tests := []struct {
		src  string
		want engine.Flow
	}{
		{`get {src: "192.0.2.1", dst: "198.51.100.7", proto: tcp, sport: 40000, dport: 22}`,
			engine.Flow{Family: "ipv4", Proto: "tcp", ProtoNum: 6, Src: netip.MustParseAddr("192.0.2.1"),
				Dst: netip.MustParseAddr("198.51.100.7"), Sport: 40000, Dport: 22}},
		{`get {proto: 17, dst: "2001:db8::53", src: "2001:db8::1", sport: 5000 + 353, dport: 53, zone: 4, family: ipv6}`,
			engine.Flow{Family: "ipv6", Proto: "udp", ProtoNum: 17, Src: netip.MustParseAddr("2001:db8::1"),
				Dst: netip.MustParseAddr("2001:db8::53"), Sport: 5353, Dport: 53, Zone: 4, Has: engine.HasZone}},
		{`get {src: "192.0.2.9", dst: "198.51.100.1", proto: "ICMP", icmp_type: 8, icmp_code: 0, icmp_id: 77}`,
			engine.Flow{Family: "ipv4", Proto: "icmp", ProtoNum: 1, Src: netip.MustParseAddr("192.0.2.9"),
				Dst: netip.MustParseAddr("198.51.100.1"), ICMPType: 8, ICMPID: 77}},
		{`get {src: "2001:db8::1", dst: "2001:db8::2", proto: icmpv6, icmp_type: 128, icmp_code: 0, icmp_id: 1}`,
			engine.Flow{Family: "ipv6", Proto: "icmpv6", ProtoNum: 58, Src: netip.MustParseAddr("2001:db8::1"),
				Dst: netip.MustParseAddr("2001:db8::2"), ICMPType: 128, ICMPID: 1}},
		{`get {src: "192.0.2.1", dst: "192.0.2.2", proto: 50}`,
			engine.Flow{Family: "ipv4", Proto: "unknown", ProtoNum: 50, Src: netip.MustParseAddr("192.0.2.1"),
				Dst: netip.MustParseAddr("192.0.2.2")}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			prog, err := CompileProgram("", tt.src+" as json", nil)
			if err != nil {
				t.Fatal(err)
			}
			ps := prog.Steps[0].(*PlanStep)
			p := ps.plan
			if p.Action != engine.ActGet || p.Match != nil || ps.Format != "json" || p.Limit != -1 {
				t.Errorf("plan {%v match=%v %q limit %d}, want {get no match \"json\" -1}", p.Action, p.Match != nil, ps.Format, p.Limit)
			}
			if p.Key == nil || !reflect.DeepEqual(*p.Key, tt.want) {
				t.Errorf("key\n got %+v\nwant %+v", p.Key, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	opts := &Options{Formats: []string{"text", "json", "csv"}, LabelNames: map[int]string{1: "blue"}}
	tests := []struct {
		name, src, want string
	}{
		{"typo", "list where dprt == 22", "1:12: unknown field `dprt` (did you mean `dport`?)"},
		{"typo far from anything", "list where zzzzzz == 22", "1:12: unknown field `zzzzzz`"},
		{"typo of a constant", "list where proto == tcpp", "1:21: unknown protocol `tcpp` (names: tcp, udp, udplite, icmp, icmpv6, sctp, gre, dccp, or one of /etc/protocols) (did you mean `tcp`?)"},
		{"uppercase constant", "list where proto == TCP", "1:21: unknown protocol `TCP` (names: tcp, udp, udplite, icmp, icmpv6, sctp, gre, dccp, or one of /etc/protocols) (did you mean `tcp`?)"},
		{"bare state name", "list where state == ESTABLISHED",
			"1:21: unknown field `ESTABLISHED` (state and status names are strings: write \"ESTABLISHED\")"},
		{"unknown function", "list where lenn(helper) > 0", "1:12: unknown function `lenn` (did you mean `len`?)"},
		{"type mismatch", `list where dport == "x"`, "1:18: invalid operation: == (mismatched types int and string)"},
		{"not a condition", "list where dport", "1:12: the condition must be true or false, but it is int"},
		{"count not a condition", "count where src", "1:13: the condition must be true or false, but it is netip.Addr"},
		{"incomplete expression", "list where dport ==", "1:20: unexpected end of expression"},
		{"bad cidr", `list where src in cidr("198.51.100.0/33")`, "1:24: invalid CIDR \"198.51.100.0/33\""},
		{"bad address", `list where src == "192.0.2.300"`, "1:19: invalid address \"192.0.2.300\""},
		{"network as address", `list where dst != "10.0.0.0/8"`,
			"1:19: invalid address \"10.0.0.0/8\" (for a network write `in cidr(\"10.0.0.0/8\")`)"},
		{"bad address in list", `list where src in ["192.0.2.1", "x"]`, "1:33: invalid address \"x\""},
		{"address against a non-literal", `list where src == helper`,
			"1:16: invalid operation: == (mismatched types netip.Addr and string)"},
		{"bad duration", `list where age > duration("5 minutes")`,
			"1:27: invalid duration \"5 minutes\" (write e.g. \"90s\", \"5m\", \"1h30m\")"},
		{"unknown status flag", `list where "ASSRED" in status`, "1:12: unknown status flag \"ASSRED\" (did you mean `ASSURED`?)"},
		{"unknown state", `list where state == "established"`, "1:21: unknown state \"established\" (did you mean `ESTABLISHED`?)"},
		{"unknown protocol", `list where "TCP" == proto`, "1:12: unknown protocol \"TCP\" (did you mean `tcp`?)"},
		{"unknown family", `list where family != "ip4"`, "1:22: unknown family \"ip4\" (it is \"ipv4\" or \"ipv6\")"},
		{"unknown label", `list where "bleu" in labels`, "1:12: unknown label \"bleu\" (did you mean `blue`?)"},
		{"label bit out of range", `list where 128 in labels`, "1:12: label bit 128 is out of range (0 to 127)"},
		{"unknown format", "list as jsn", "1:9: unknown format `jsn` (did you mean `json`?)"},
		{"unknown format far", "list as yaml", "1:9: unknown format `yaml` (formats: text, json, csv)"},
		{"second format word", "list as text,xml", "1:14: unknown format `xml` (formats: text, json, csv)"},
		{"expect order", "list expect order by dport", "1:22: expectations cannot be sorted: `order by` works on conntrack, dying and unconfirmed entries"},
		{"bad sort key", "list order by labels", "1:15: cannot sort by a value of engine.Labels (keys are numbers, strings, booleans, addresses, times or durations)"},
		{"sort key of mixed type", "list order by assured ? 1 : \"x\"", "1:15: cannot sort by a value of unknown type (keys are numbers, strings, booleans, addresses, times or durations)"},
		{"sort key typo", "list order by bytse desc", "1:15: unknown field `bytse` (did you mean `bytes`?)"},
		{"third line", "list\ncount\nlist where dprot == 1", "3:12: unknown field `dprot` (did you mean `dport`?)"},
		{"second line of an expression", "list where (proto == tcp\n   and dprt == 22)", "2:8: unknown field `dprt` (did you mean `dport`?)"},
		{"columns count characters", `list where helper == "é€" && dprt == 1`, "1:30: unknown field `dprt` (did you mean `dport`?)"},
		{"first error in source order", "list where dprt == 1\nlsit", "1:12: unknown field `dprt` (did you mean `dport`?)"},
		{"parse error after good statements", "list where dport == 1\nlsit", "2:1: unknown statement `lsit` (did you mean `list`?)"},
		// get
		{"get missing dst", `get {src: "192.0.2.1", proto: tcp, sport: 1, dport: 2}`,
			"1:1: `get` needs `src`, `dst` and `proto`: `dst` is missing"},
		{"get missing port", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: tcp, sport: 1}`, "1:1: `get` needs `dport` for protocol tcp"},
		{"get missing icmp id", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: icmp, icmp_type: 8, icmp_code: 0}`,
			"1:1: `get` needs `icmp_id` for protocol icmp"},
		{"get port for icmp", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: icmp, sport: 1}`, "1:55: `sport` does not apply to protocol icmp"},
		{"get icmp type for udp", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: udp, icmp_type: 1}`, "1:54: `icmp_type` does not apply to protocol udp"},
		{"get icmp with ipv6", `get {src: "2001:db8::1", dst: "2001:db8::2", proto: icmp, icmp_type: 8, icmp_code: 0, icmp_id: 1}`,
			"1:53: icmp does not go with ipv6 addresses"},
		{"get mixed families", `get {src: "192.0.2.1", dst: "2001:db8::1", proto: gre, sport: 1, dport: 2}`,
			"1:29: `src` and `dst` must be of the same family"},
		{"get family mismatch", `get {family: ipv6, src: "192.0.2.1", dst: "192.0.2.2", proto: 6, sport: 1, dport: 2}`,
			"1:14: `family` is ipv6 but the addresses are ipv4"},
		{"get bad address", `get {src: "192.0.2", dst: "192.0.2.2", proto: 6, sport: 1, dport: 2}`, "1:11: invalid address \"192.0.2\""},
		{"get address of a wrong type", `get {src: 1, dst: "192.0.2.2", proto: 6}`, "1:11: `src` must be an address string, not int"},
		{"get port out of range", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: 6, sport: 70000, dport: 2}`,
			"1:59: `sport` must be a whole number from 0 to 65535, not 70000"},
		{"get icmp type out of range", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: 1, icmp_type: 256, icmp_code: 0, icmp_id: 1}`,
			"1:63: `icmp_type` must be a whole number from 0 to 255, not 256"},
		{"get unknown protocol", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: "tpc"}`, "1:49: unknown protocol \"tpc\" (did you mean `tcp`?)"},
		{"get protocol number out of range", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: 256}`,
			"1:49: `proto` must be a protocol name or a number from 0 to 255, not 256"},
		{"get unknown family", `get {family: "inet", src: "192.0.2.1", dst: "192.0.2.2", proto: 6}`,
			"1:14: `family` must be ipv4 or ipv6, not \"inet\""},
		{"get value uses a flow field", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: 6, sport: dport, dport: 1}`,
			"1:59: `dport` is a flow field; this value must be a constant"},
		{"get value unknown name", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: udplit}`,
			"1:49: unknown name `udplit` (did you mean `udplite`?)"},
		{"get runtime error", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: 6, sport: [1][3], dport: 1}`,
			"1:62: index out of range: 3 (array length is 1)"},
		{"get bad format", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: 6, sport: 1, dport: 1} as xml`,
			"1:75: unknown format `xml` (formats: text, json, csv)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileScript(tt.src, opts)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("CompileScript(%q) = %v, want *Error", tt.src, err)
			}
			if got := fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg); got != tt.want {
				t.Errorf("CompileScript(%q) error\n got %q\nwant %q", tt.src, got, tt.want)
			}
		})
	}
}

func TestRuntimeError(t *testing.T) {
	plans, err := CompileScript("list\nlist where packets % mark == 0", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = plans[1].Match(&engine.Flow{Packets: 3})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Match = %v, want *Error", err)
	}
	if e.Line != 2 || e.Col != 20 || e.Msg != "runtime error: integer divide by zero" {
		t.Errorf("error %d:%d: %q, want 2:20: runtime error: integer divide by zero", e.Line, e.Col, e.Msg)
	}
}

func TestCompileHandBuilt(t *testing.T) {
	// Statements built without Parse still compile; errors are placed
	// relative to the expression text.
	p, err := Compile(&CountStmt{Where: &Expr{Text: "dport == 22"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Match(ssh()); !ok || err != nil {
		t.Errorf("Match(ssh) = %v, %v; want true", ok, err)
	}
	_, err = Compile(&ListStmt{Where: &Expr{Text: "a &&\n dprt == 1"}, Limit: -1}, nil)
	var e *Error
	if !errors.As(err, &e) || e.Line != 1 || e.Col != 1 || e.Msg != "unknown field `a`" {
		t.Errorf("Compile error %v, want 1:1: unknown field `a`", err)
	}
}
