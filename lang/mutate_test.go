package lang

import (
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"testing"

	"ctq/engine"
)

// labels builds a label set from bits.
func labels(bits ...int) engine.Labels {
	var l engine.Labels
	for _, b := range bits {
		l.Set(b)
	}
	return l
}

func TestDelete(t *testing.T) {
	const protoNum, dstPort = engine.TupleProto, engine.TupleDport
	tests := []struct {
		src    string
		table  engine.Table
		dry    bool
		exact  bool
		filter engine.KernelFilter
		match  []bool // Match (or MatchExpect) on ssh, dns, web
	}{
		{`delete where proto==tcp && dport==22 && state=="ESTABLISHED"`, engine.TableConntrack, false, false,
			engine.KernelFilter{Orig: engine.TupleFilter{Fields: protoNum | dstPort, Proto: 6, Dport: 22}}, []bool{true, false, false}},
		{`delete where proto == tcp && dport == 22`, engine.TableConntrack, false, true,
			engine.KernelFilter{Orig: engine.TupleFilter{Fields: protoNum | dstPort, Proto: 6, Dport: 22}}, []bool{true, false, false}},
		{`delete conntrack where src == "2001:db8::1" dry`, engine.TableConntrack, true, true,
			engine.KernelFilter{Family: engine.FamilyIPv6, Orig: engine.TupleFilter{Fields: engine.TupleSrc, Src: netip.MustParseAddr("2001:db8::1")}},
			[]bool{false, true, false}},
		{`delete dry where true`, engine.TableConntrack, true, false, engine.KernelFilter{}, []bool{true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p := compileOne(t, tt.src, nil)
			if p.Action != engine.ActDelete || p.Table != tt.table || p.Dry != tt.dry || p.Exact != tt.exact || p.Limit != -1 {
				t.Errorf("plan {%v %v dry=%v exact=%v limit %d}, want {delete %v dry=%v exact=%v limit -1}",
					p.Action, p.Table, p.Dry, p.Exact, p.Limit, tt.table, tt.dry, tt.exact)
			}
			if p.Filter != tt.filter {
				t.Errorf("filter\n got %+v\nwant %+v", p.Filter, tt.filter)
			}
			for i, f := range []*engine.Flow{ssh(), dns(), web()} {
				if got, err := p.Match(f); err != nil || got != tt.match[i] {
					t.Errorf("Match(flow %d) = %v, %v; want %v", i, got, err, tt.match[i])
				}
			}
		})
	}
	p := compileOne(t, `delete expect where helper == "ftp" && family == ipv4`, nil)
	if p.Action != engine.ActDelete || p.Table != engine.TableExpect || p.Match != nil || p.MatchExpect == nil || p.Exact ||
		p.Filter != (engine.KernelFilter{Family: engine.FamilyIPv4}) {
		t.Errorf("delete expect plan {%v %v match=%v matchExpect=%v exact=%v filter=%+v}",
			p.Action, p.Table, p.Match != nil, p.MatchExpect != nil, p.Exact, p.Filter)
	}
	if ok, err := p.MatchExpect(ftpExpect()); !ok || err != nil {
		t.Errorf("MatchExpect(ftp) = %v, %v; want true", ok, err)
	}
}

func TestUpdate(t *testing.T) {
	opts := &Options{LabelNames: map[int]string{1: "blue"}}
	timed := web()
	timed.Timeout = 100
	tests := []struct {
		src   string
		dry   bool
		flows []*engine.Flow
		want  []engine.Change // Change of each flow
	}{
		// ssh has mark 7 already: nothing to change.
		{"update set mark = 7 where dport in 8000..8100", false, []*engine.Flow{web(), ssh()},
			[]engine.Change{{SetMark: true, Mark: 7}, {}}},
		{"update set mark = bitor(mark, 0x10) where true", false, []*engine.Flow{ssh(), web()},
			[]engine.Change{{SetMark: true, Mark: 0x17}, {SetMark: true, Mark: 0x10}}},
		{"update set mark = mark * 2 + 1, timeout = timeout + 60 where true", false, []*engine.Flow{ssh(), timed},
			[]engine.Change{{SetMark: true, Mark: 15, SetTimeout: true, Timeout: 60}, {SetMark: true, Mark: 1, SetTimeout: true, Timeout: 160}}},
		{"update set mark = 4294967295 where true", false, []*engine.Flow{ssh()},
			[]engine.Change{{SetMark: true, Mark: 0xffffffff}}},
		{`update set timeout = 3600, status += ["ASSURED", "seen_reply"], labels += [2, "blue"], labels -= 5 where proto == tcp dry`,
			true, []*engine.Flow{ssh()},
			// ssh is ASSURED and SEEN_REPLY already and lacks label 5.
			[]engine.Change{{SetTimeout: true, Timeout: 3600, AddLabels: labels(1, 2)}}},
		{`update set timeout = duration("1m30s") where true`, false, []*engine.Flow{ssh()},
			[]engine.Change{{SetTimeout: true, Timeout: 90}}},
		{`update set timeout = duration("1500ms") where true`, false, []*engine.Flow{ssh()},
			[]engine.Change{{SetTimeout: true, Timeout: 2}}},
		{`update set timeout = 0, status += "FIXED_TIMEOUT" where true`, false, []*engine.Flow{ssh()},
			[]engine.Change{{SetTimeout: true, SetStatus: engine.StatusFixedTimeout}}},
		{`update set labels -= "blue" where true`, false, []*engine.Flow{ssh()},
			[]engine.Change{{}}},
		// labels = [] clears every label (ssh has 3; web none: no change).
		{`update set labels = [] where true`, false, []*engine.Flow{ssh(), web()},
			[]engine.Change{{DelLabels: labels(3)}, {}}},
		{`update set labels = ["blue", 3] where true`, false, []*engine.Flow{ssh(), web()},
			[]engine.Change{{AddLabels: labels(1)}, {AddLabels: labels(1, 3)}}},
		{`update set labels = 3 where true`, false, []*engine.Flow{ssh()},
			[]engine.Change{{}}},
		{`update set labels -= [1, 3] where true`, false, []*engine.Flow{ssh()},
			[]engine.Change{{DelLabels: labels(3)}}},
		{`update set status += "ASSURED" where true`, false, []*engine.Flow{ssh(), web()},
			[]engine.Change{{}, {SetStatus: engine.StatusAssured}}},
		{`update set state = "CLOSE" where proto == tcp`, false, []*engine.Flow{ssh(), web()},
			[]engine.Change{{SetState: true, StateNum: 8}, {SetState: true, StateNum: 8}}},
		{`update set state = "ESTABLISHED", mark = 7 where proto == tcp`, false, []*engine.Flow{ssh(), web()},
			[]engine.Change{{}, {SetState: true, StateNum: 3, SetMark: true, Mark: 7}}},
		{`update set state = "LISTEN" where proto == tcp and dport == 22`, false, []*engine.Flow{ssh()},
			[]engine.Change{{SetState: true, StateNum: 9}}},
		{`update set state = "COOKIE_WAIT" where proto == sctp`, false, []*engine.Flow{sctpFlow()},
			[]engine.Change{{SetState: true, StateNum: 2}}},
		{`update set mark = mark > 5 ? 1 : 2 where true`, false, []*engine.Flow{ssh(), web()},
			[]engine.Change{{SetMark: true, Mark: 1}, {SetMark: true, Mark: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p := compileOne(t, tt.src, opts)
			if p.Action != engine.ActUpdate || p.Table != engine.TableConntrack || p.Dry != tt.dry || p.Match == nil || p.Change == nil {
				t.Fatalf("plan {%v %v dry=%v match=%v change=%v}, want {update conntrack dry=%v, Match and Change set}",
					p.Action, p.Table, p.Dry, p.Match != nil, p.Change != nil, tt.dry)
			}
			for i, f := range tt.flows {
				got, err := p.Change(f)
				if err != nil {
					t.Fatalf("Change(flow %d): %v", i, err)
				}
				if !reflect.DeepEqual(got, tt.want[i]) {
					t.Errorf("Change(flow %d)\n got %+v\nwant %+v", i, got, tt.want[i])
				}
			}
		})
	}
	// The must-work example selects by port range.
	p := compileOne(t, "update set mark = 7 where dport in 8000..8100", nil)
	for _, tc := range []struct {
		f    *engine.Flow
		want bool
	}{{web(), true}, {ssh(), false}, {dns(), false}} {
		if got, err := p.Match(tc.f); err != nil || got != tc.want {
			t.Errorf("Match(dport %d) = %v, %v; want %v", tc.f.Dport, got, err, tc.want)
		}
	}
	if p.Exact || !p.Filter.Empty() {
		t.Errorf("range condition: exact=%v filter=%+v, want nothing pushed", p.Exact, p.Filter)
	}
}

// sctpFlow is an established SCTP flow.
func sctpFlow() *engine.Flow {
	f := flow(engine.ProtoSCTP, "192.0.2.1", "192.0.2.2", 5000, 5001)
	f.SetState(4) // ESTABLISHED
	return f
}

// TestUpdateSelectsChanges: an entry the change leaves as it is is not
// selected (neither sent nor counted, by a dry run either), unless the
// timeout is set (that restarts the timer of every entry).
func TestUpdateSelectsChanges(t *testing.T) {
	for _, tt := range []struct {
		src  string
		want []bool // Match on ssh (mark 7, ESTABLISHED, ASSURED, label 3), web (mark 0, SYN_SENT)
	}{
		{"update set mark = 7 where proto == tcp", []bool{false, true}},
		{"update set mark = 7 where proto == tcp dry", []bool{false, true}},
		{"update set mark = mark where true", []bool{false, false}},
		{"update set mark = 7, timeout = 60 where proto == tcp", []bool{true, true}},
		{`update set status += "ASSURED" where true`, []bool{false, true}},
		{`update set labels += 3 where true`, []bool{false, true}},
		{`update set labels -= 3 where true`, []bool{true, false}},
		{`update set state = "ESTABLISHED" where proto == tcp`, []bool{false, true}},
		{`update set state = "SYN_SENT" where proto == tcp and dport == 8080`, []bool{false, false}},
	} {
		p := compileOne(t, tt.src, nil)
		for i, f := range []*engine.Flow{ssh(), web()} {
			if got, err := p.Match(f); err != nil || got != tt.want[i] {
				t.Errorf("%s: Match(flow %d) = %v, %v; want %v", tt.src, i, got, err, tt.want[i])
			}
		}
	}
}

func TestUpdateRuntimeErrors(t *testing.T) {
	tests := []struct {
		src, want string
	}{
		{"update set mark = mark - 10 where true", "1:19: `mark` must be from 0 to 4294967295, not -10"},
		{`update set mark = mark > 5 ? 1 : "x" where true`, "1:19: `mark` must be a whole number, not string"},
		{"update set timeout = (10 %\n (mark - mark)) where true", "1:26: runtime error: integer divide by zero"},
		{`update set timeout = mark == 0 ? duration("-1s") : 1 where true`, "1:22: `timeout` must not be negative: -1s"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p := compileOne(t, tt.src, nil)
			_, err := p.Change(web()) // mark 0
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Change = %v, want *Error", err)
			}
			if got := fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg); got != tt.want {
				t.Errorf("Change error\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestFlush(t *testing.T) {
	tests := []struct {
		src  string
		want engine.Plan
	}{
		{"flush", engine.Plan{Action: engine.ActFlush, Limit: -1}},
		{"flush conntrack ipv4", engine.Plan{Action: engine.ActFlush, Limit: -1, Filter: engine.KernelFilter{Family: engine.FamilyIPv4}}},
		{"flush expect ipv6", engine.Plan{Action: engine.ActFlush, Table: engine.TableExpect, Limit: -1, Filter: engine.KernelFilter{Family: engine.FamilyIPv6}}},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			p := compileOne(t, tt.src, nil)
			if !reflect.DeepEqual(*p, tt.want) {
				t.Errorf("plan\n got %+v\nwant %+v", *p, tt.want)
			}
		})
	}
}

func TestWatch(t *testing.T) {
	formats := &Options{Formats: []string{"text", "json"}}
	p := compileOne(t, "watch new,destroy where proto == udp and dport == 53", formats)
	want := engine.KernelFilter{Orig: engine.TupleFilter{
		Fields: engine.TupleProto | engine.TupleDport, Proto: 17, Dport: 53}}
	if p.Action != engine.ActWatch || p.Table != engine.TableConntrack || p.Events != engine.EventNew|engine.EventDestroy ||
		p.For != 0 || p.Limit != -1 || !p.Exact || p.Filter != want {
		t.Errorf("must-work watch plan %+v", *p)
	}
	for _, tc := range []struct {
		f    *engine.Flow
		want bool
	}{{dns(), true}, {ssh(), false}, {ping(), false}} {
		if got, err := p.Match(tc.f); err != nil || got != tc.want {
			t.Errorf("Match(%s) = %v, %v; want %v", tc.f.Proto, got, err, tc.want)
		}
	}

	p = compileOne(t, `watch expect update for 5m limit 3 as json where helper == "ftp"`, formats)
	if p.Table != engine.TableExpect || p.Events != engine.EventUpdate || p.For.String() != "5m0s" || p.Limit != 3 ||
		p.Match != nil || p.MatchExpect == nil {
		t.Errorf("watch expect plan %+v", *p)
	}
	if ok, err := p.MatchExpect(ftpExpect()); !ok || err != nil {
		t.Errorf("MatchExpect(ftp) = %v, %v; want true", ok, err)
	}

	if p = compileOne(t, "watch destroy where dport == 53 reliable", nil); !p.Reliable {
		t.Errorf("watch reliable plan %+v", *p)
	}
	if p = compileOne(t, "watch destroy", nil); p.Reliable {
		t.Errorf("watch plan %+v: reliable without the word", *p)
	}

	p = compileOne(t, "watch", nil)
	if p.Action != engine.ActWatch || p.Events != 0 || p.Match != nil || p.Limit != -1 || p.For != 0 {
		t.Errorf("bare watch plan %+v", *p)
	}
	p = compileOne(t, "watch conntrack new,update,destroy limit 0", nil)
	if p.Events != engine.EventNew|engine.EventUpdate|engine.EventDestroy || p.Limit != 0 {
		t.Errorf("watch every event plan %+v", *p)
	}
}

func TestChangeCompileErrors(t *testing.T) {
	opts := &Options{Formats: []string{"text", "json"}, LabelNames: map[int]string{1: "blue"}}
	tests := []struct {
		name, src, want string
	}{
		// delete
		{"bare delete", "delete", "1:1: delete needs a where clause: to empty the table use `flush`"},
		{"dry delete without where", "delete expect dry", "1:1: delete needs a where clause: to empty the table use `flush`"},
		{"delete dying", "delete dying where true", "1:8: entries of the `dying` table cannot be deleted (delete from conntrack or expect)"},
		{"delete condition typo", "delete where dprt == 22", "1:14: unknown field `dprt` (did you mean `dport`?)"},
		{"delete expect field of flows", `delete expect where state == "ESTABLISHED"`, "1:21: unknown field `state`"},
		{"delete expect type error", `delete expect where dport == "x"`, "1:27: invalid operation: == (mismatched types int and string)"},
		// update
		{"update without where", "update set mark = 1", "1:1: update needs a where clause; use `where true` to update every entry"},
		{"update without set", "update where true", "1:1: update needs a `set` clause: update set mark = 1 where ..."},
		{"update expect", "update expect set mark = 1 where true", "1:8: expectations cannot be updated (update changes conntrack entries)"},
		{"update unconfirmed", "update unconfirmed set mark = 1 where true", "1:8: entries of the `unconfirmed` table cannot be updated (update changes conntrack entries)"},
		{"mark string", `update set mark = "x" where true`, "1:19: `mark` must be a whole number, not string"},
		{"mark float", `update set mark = 1.5 where true`, "1:19: `mark` must be a whole number, not float64"},
		{"mark duration", `update set mark = duration("1s") where true`, "1:19: `mark` must be a whole number, not time.Duration"},
		{"mark negative", `update set mark = -1 where true`, "1:19: `mark` must be from 0 to 4294967295, not -1"},
		{"mark above 32 bits", `update set mark = 4294967296 where true`, "1:19: `mark` must be from 0 to 4294967295, not 4294967296"},
		{"mark C or", `update set mark = mark | 0x10 where true`, "1:24: expr has no bitwise operators: write bitor(a, b) (also bitand, bitxor, bitnot, bitshl, bitshr)"},
		{"mark C and", `update set mark = mark & 0xff where true`, "1:24: expr has no bitwise operators: write bitor(a, b) (also bitand, bitxor, bitnot, bitshl, bitshr)"},
		{"mark typo", `update set mark = mrak + 1 where true`, "1:19: unknown field `mrak` (did you mean `mark`?)"},
		{"mark +=", `update set mark += 1 where true`, "1:12: `mark` is set with `=`, not `+=`"},
		{"timeout string", `update set timeout = "5m" where true`, "1:22: `timeout` must be a whole number of seconds or a duration, not string"},
		{"timeout bad duration", `update set timeout = duration("5 m") where true`, "1:31: invalid duration \"5 m\" (write e.g. \"90s\", \"5m\", \"1h30m\")"},
		{"labels = and +=", `update set labels = [], labels += 1 where true`,
			"1:25: `labels +=` cannot go with `labels =`, which sets every label (write the labels it should have, or [] for none)"},
		{"labels = of a wrong type", `update set labels = "x" where true`, "1:21: unknown label \"x\""},
		{"labels unknown name", `update set labels += "bleu" where true`, "1:22: unknown label \"bleu\" (did you mean `blue`?)"},
		{"labels out of range", `update set labels += [1, 128] where true`, "1:22: label bit 128 is out of range (0 to 127)"},
		{"labels of a wrong type", `update set labels += 1.5 where true`, "1:22: `labels` must be a label bit or name, or a list of them, not 1.5"},
		{"labels from the flow", `update set labels += dport where true`, "1:22: `dport` is a flow field; this value must be a constant"},
		{"labels added and removed", `update set labels += [1, 2], labels -= "blue" where true`, "1:40: label 1 is both added and removed"},
		{"status -=", `update set status -= "ASSURED" where true`,
			"1:12: `status` only takes `+=`: the kernel sets SEEN_REPLY, ASSURED and FIXED_TIMEOUT but never clears them"},
		{"status not settable", `update set status += ["ASSURED", "DYING"] where true`,
			"1:22: status flag DYING cannot be set (settable: SEEN_REPLY, ASSURED, FIXED_TIMEOUT)"},
		{"status unknown", `update set status += "ASSRED" where true`, "1:22: unknown status flag \"ASSRED\" (did you mean `ASSURED`?)"},
		{"state without proto", `update set state = "CLOSE" where dport == 22`,
			"1:12: `state` is a state of one protocol: the where clause must select tcp, sctp or dccp (where proto == tcp and ...)"},
		{"state of udp", `update set state = "CLOSE" where proto == udp`,
			"1:12: `state` is a state of one protocol: the where clause must select tcp, sctp or dccp (where proto == tcp and ...)"},
		{"state under or", `update set state = "CLOSE" where proto == tcp or proto == sctp`,
			"1:12: `state` is a state of one protocol: the where clause must select tcp, sctp or dccp (where proto == tcp and ...)"},
		{"state of another protocol", `update set state = "COOKIE_WAIT" where proto == tcp`,
			"1:20: \"COOKIE_WAIT\" is not a tcp state (tcp states: NONE, SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT, CLOSE_WAIT, LAST_ACK, TIME_WAIT, CLOSE, SYN_SENT2)"},
		{"state unknown", `update set state = "ESTABLISHD" where proto == tcp`, "1:20: unknown state \"ESTABLISHD\" (did you mean `ESTABLISHED`?)"},
		{"state number", `update set state = 3 where proto == tcp`, "1:20: `state` must be a state name such as \"ESTABLISHED\", not 3"},
		{"state +=", `update set state += "CLOSE" where proto == tcp`, "1:12: `state` is set with `=`, not `+=`"},
		{"state from the flow", `update set state = state where proto == tcp`, "1:20: `state` is a flow field; this value must be a constant"},
		{"status number", `update set status += 4 where true`, "1:22: `status` must be a flag name or a list of them, not 4"},
		{"update where typo", "update set mark = 7 where dprt == 1", "1:27: unknown field `dprt` (did you mean `dport`?)"},
		// flush, watch
		{"flush dying", "flush dying", "1:7: the `dying` table cannot be flushed (flush conntrack or expect)"},
		{"flush unconfirmed ipv4", "flush unconfirmed ipv4", "1:7: the `unconfirmed` table cannot be flushed (flush conntrack or expect)"},
		{"watch dying", "watch dying new", "1:7: the `dying` table has no events (watch conntrack or expect)"},
		{"watch bad format", "watch new as yaml", "1:14: unknown format `yaml` (formats: text, json)"},
		{"watch condition", "watch where dport = 1", "1:19: unexpected token Operator(\"=\")"},
		// insert
		{"insert dying", `insert dying {proto: 6}`, "1:8: entries cannot be inserted into the `dying` table (insert into conntrack or expect)"},
		{"insert without timeout", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: udp, sport: 1, dport: 2}`, "1:8: `insert` needs `timeout`"},
		{"insert without src", `insert {dst: "192.0.2.2", proto: udp, timeout: 1}`, "1:8: `insert` needs `src`"},
		{"insert with a flow field", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: udp, sport: dport, dport: 2, timeout: 1}`,
			"1:64: `dport` is a flow field; this value must be a constant"},
		{"insert without dport", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: udp, sport: 1, timeout: 1}`, "1:8: `insert` needs `dport`"},
		{"insert tcp without state", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: tcp, sport: 1, dport: 2, timeout: 1}`,
			"1:8: `insert` needs `state` for protocol tcp"},
		{"insert unknown state", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: tcp, sport: 1, dport: 2, timeout: 1, state: "ESTABLISH"}`,
			"1:96: unknown tcp state \"ESTABLISH\" (did you mean `ESTABLISHED`?)"},
		{"insert sctp state of tcp", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: sctp, sport: 1, dport: 2, timeout: 1, state: "SYN_SENT"}`,
			"1:97: unknown sctp state \"SYN_SENT\""},
		{"insert state for udp", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: udp, sport: 1, dport: 2, timeout: 1, state: "NONE"}`,
			"1:89: `state` does not apply to protocol udp"},
		{"insert vtag for tcp", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: 6, orig_vtag: 1, timeout: 1}`,
			"1:55: `orig_vtag` does not apply to protocol tcp"},
		{"insert ports for icmp", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: icmp, dport: 1, timeout: 1}`,
			"1:58: `dport` does not apply to protocol icmp"},
		{"insert icmp without id", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: icmp, icmp_type: 8, icmp_code: 0, timeout: 1}`,
			"1:8: `insert` needs `icmp_id`"},
		{"insert untracked icmp type", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: icmp, icmp_type: 3, icmp_code: 0, icmp_id: 1, timeout: 1}`,
			"1:69: conntrack does not track icmp type 3 (it tracks types 0, 8, 13, 14, 15, 16, 17, 18)"},
		{"insert icmp with ipv6", `insert {src: "2001:db8::1", dst: "2001:db8::2", proto: icmp, icmp_type: 8, icmp_code: 0, icmp_id: 1, timeout: 1}`,
			"1:56: icmp does not go with ipv6 addresses"},
		{"insert mixed families", `insert {src: "192.0.2.1", dst: "192.0.2.2", reply_src: "2001:db8::1", proto: 50, timeout: 1}`,
			"1:56: `reply_src` must be of the same family as `src` (ipv4)"},
		{"insert family mismatch", `insert {family: ipv6, src: "192.0.2.1", dst: "192.0.2.2", proto: 50, timeout: 1}`,
			"1:17: `family` is ipv6 but the addresses are ipv4"},
		{"insert zero timeout", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: 50, timeout: 0}`,
			"1:65: `timeout` must be from 1 to 4294967295 seconds, not 0"},
		{"insert timeout string", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: 50, timeout: "5m"}`,
			"1:65: `timeout` must be a whole number of seconds or a duration, not \"5m\""},
		{"insert status not settable", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: 50, timeout: 1, status: ["ASSURED", "SRC_NAT"]}`,
			"1:76: status flag SRC_NAT cannot be set (settable: SEEN_REPLY, ASSURED, FIXED_TIMEOUT)"},
		{"insert mark negative", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: 50, timeout: 1, mark: -1}`,
			"1:74: `mark` must be a whole number from 0 to 4294967295, not -1"},
		{"insert zone too big", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: 50, timeout: 1, zone: 65536}`,
			"1:74: `zone` must be a whole number from 0 to 65535, not 65536"},
		{"insert label out of range", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: 50, timeout: 1, labels: [200]}`,
			"1:76: label bit 200 is out of range (0 to 127)"},
		{"insert bad address", `insert {src: "192.0.2", dst: "192.0.2.2", proto: 50, timeout: 1}`, "1:14: invalid address \"192.0.2\""},
		{"insert error in second record", "insert [\n  {src: \"192.0.2.1\", dst: \"192.0.2.2\", proto: 50, timeout: 1},\n  {src: \"192.0.2.1\", proto: 50, timeout: 1},\n]",
			"3:3: `insert` needs `dst`"},
		// insert expect
		{"expect without master", `insert expect {proto: tcp, src: "192.0.2.1", dst: "192.0.2.2", sport: 0, dport: 2, timeout: 1}`,
			"1:15: `insert expect` needs `master_src`"},
		{"expect icmp", `insert expect {master_src: "192.0.2.1", master_dst: "192.0.2.2", master_sport: 1, master_dport: 21, proto: icmp, src: "192.0.2.1", dst: "192.0.2.2", sport: 0, dport: 2, timeout: 1}`,
			"1:108: an expectation needs a protocol with ports (tcp, udp, udplite, sctp, dccp or gre), not icmp"},
		{"expect mask family", `insert expect {master_src: "192.0.2.1", master_dst: "192.0.2.2", master_sport: 1, master_dport: 21, proto: tcp, src: "192.0.2.1", dst: "192.0.2.2", sport: 0, dport: 2, timeout: 1, mask_src: "::"}`,
			"1:191: `mask_src` must be of the same family as `src` (ipv4)"},
		{"expect nat without direction", `insert expect {master_src: "192.0.2.1", master_dst: "192.0.2.2", master_sport: 1, master_dport: 21, proto: tcp, src: "192.0.2.1", dst: "192.0.2.2", sport: 0, dport: 2, timeout: 1, nat_sport: 7}`,
			"1:15: `insert expect with NAT` needs `nat_dir`"},
		{"expect nat direction", `insert expect {master_src: "192.0.2.1", master_dst: "192.0.2.2", master_sport: 1, master_dport: 21, proto: tcp, src: "192.0.2.1", dst: "192.0.2.2", sport: 0, dport: 2, timeout: 1, nat_dir: 2}`,
			"1:190: `nat_dir` must be 0 or \"original\", 1 or \"reply\", not 2"},
		{"expect nat family", `insert expect {master_src: "192.0.2.1", master_dst: "192.0.2.2", master_sport: 1, master_dport: 21, proto: tcp, src: "192.0.2.1", dst: "192.0.2.2", sport: 0, dport: 2, timeout: 1, nat_dir: 1, nat_src: "2001:db8::1"}`,
			"1:202: `nat_src` must be of the same family as `src` (ipv4)"},
		{"expect unknown flag", `insert expect {master_src: "192.0.2.1", master_dst: "192.0.2.2", master_sport: 1, master_dport: 21, proto: tcp, src: "192.0.2.1", dst: "192.0.2.2", sport: 0, dport: 2, timeout: 1, flags: ["PERMANET"]}`,
			"1:188: unknown expectation flag \"PERMANET\" (flags: PERMANENT, INACTIVE, USERSPACE)"},
		{"expect empty helper", `insert expect {master_src: "192.0.2.1", master_dst: "192.0.2.2", master_sport: 1, master_dport: 21, proto: tcp, src: "192.0.2.1", dst: "192.0.2.2", sport: 0, dport: 2, timeout: 1, helper: ""}`,
			"1:189: `helper` must not be empty"},
		{"expect value from a field", `insert expect {master_src: "192.0.2.1", master_dst: "192.0.2.2", master_sport: 1, master_dport: 21, proto: tcp, src: "192.0.2.1", dst: "192.0.2.2", sport: 0, dport: 2, timeout: 1, helper: master_proto}`,
			"1:189: `master_proto` is an expectation field; this value must be a constant"},
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

func TestNothingRunsBeforeEverythingCompiles(t *testing.T) {
	plans, err := CompileScript("flush\ndelete where proto == tcp\nupdate set mark = \"x\" where true", nil)
	var e *Error
	if plans != nil || !errors.As(err, &e) || e.Line != 3 {
		t.Errorf("CompileScript = %d plans, %v; want no plans and an error on line 3", len(plans), err)
	}
}

func TestLoad(t *testing.T) {
	for src, want := range map[string]string{`load "/var/lib/ctq/table.save"`: "/var/lib/ctq/table.save", "load -": "-"} {
		prog, err := CompileProgram("", src, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s, ok := prog.Steps[0].(*LoadStep); !ok || s.Path != want || s.At.Line != 1 {
			t.Errorf("%s: step %#v, want a LoadStep of %q", src, prog.Steps[0], want)
		}
	}
	if _, err := CompileScript("load -", nil); err == nil {
		t.Error("CompileScript(load -): want an error (load is not a query)")
	}
}
