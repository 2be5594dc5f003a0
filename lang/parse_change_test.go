package lang

import (
	"errors"
	"fmt"
	"slices"
	"testing"
)

func TestParseChangeAndWatch(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"must: delete", `delete where proto==tcp && dport==22 && state=="ESTABLISHED"`,
			[]string{`delete@1:1 conntrack where="proto==tcp && dport==22 && state==\"ESTABLISHED\""@1:14`}},
		{"delete table dry", "delete expect where helper == \"ftp\" dry",
			[]string{`delete@1:1 expect@1:8 where="helper == \"ftp\""@1:21 dry`}},
		{"dry first", "delete dry where mark == 1",
			[]string{`delete@1:1 conntrack where="mark == 1"@1:18 dry`}},
		{"bare delete parses", "delete", []string{"delete@1:1 conntrack"}},
		{"must: update", "update set mark = 7 where dport in 8000..8100",
			[]string{`update@1:1 conntrack set mark@1:12 = "7"@1:19 where="dport in 8000..8100"@1:27`}},
		{"update many", `update conntrack where true set mark = bitor(mark, 0x10), labels += [1, "a"], labels -= 2, status += "ASSURED", timeout = duration("5m") dry`,
			[]string{`update@1:1 conntrack@1:8 set mark@1:33 = "bitor(mark, 0x10)"@1:40 set labels@1:59 += "[1, \"a\"]"@1:69 ` +
				`set labels@1:79 -= "2"@1:89 set status@1:92 += "\"ASSURED\""@1:102 set timeout@1:113 = "duration(\"5m\")"@1:123 where="true"@1:24 dry`}},
		{"update over lines", "update set mark = (1 +\n 2) where (dport ==\n 1)",
			[]string{`update@1:1 conntrack set mark@1:12 = "(1 +\n 2)"@1:19 where="(dport ==\n 1)"@2:11`}},
		{"insert", `insert {src: "192.0.2.1", dst: "192.0.2.2", proto: tcp, sport: 1, dport: 2, timeout: 60, state: "ESTABLISHED"}`,
			[]string{`insert@1:1 conntrack {@1:8 src@1:9="\"192.0.2.1\""@1:14 dst@1:27="\"192.0.2.2\""@1:32 proto@1:45="tcp"@1:52 ` +
				`sport@1:57="1"@1:64 dport@1:67="2"@1:74 timeout@1:77="60"@1:86 state@1:90="\"ESTABLISHED\""@1:97 }`}},
		{"insert list", "insert [\n  {proto: udp},\n  {proto: 6, status: [\"ASSURED\"]},\n]",
			[]string{`insert@1:1 conntrack {@2:3 proto@2:4="udp"@2:11 } {@3:3 proto@3:4="6"@3:11 status@3:14="[\"ASSURED\"]"@3:22 }`}},
		{"insert expect", `insert expect {master_src: "192.0.2.1", helper: "ftp"}`,
			[]string{`insert@1:1 expect@1:8 {@1:15 master_src@1:16="\"192.0.2.1\""@1:28 helper@1:41="\"ftp\""@1:49 }`}},
		{"flush", "flush", []string{"flush@1:1 conntrack family=0"}},
		{"flush expect ipv6", "flush expect ipv6", []string{"flush@1:1 expect@1:7 family=10"}},
		{"flush ipv4", "flush ipv4; flush conntrack", []string{"flush@1:1 conntrack family=2", "flush@1:13 conntrack@1:19 family=0"}},
		{"load", `load "/tmp/t.save"`, []string{`load@1:1 path="/tmp/t.save"`}},
		{"load escapes", `load 'a\'b c'`, []string{`load@1:1 path="a'b c"`}},
		{"load raw", "load `C:\\x`", []string{`load@1:1 path="C:\\x"`}},
		{"load stdin", "load -", []string{`load@1:1 path="-"`}},
		{"must: watch", "watch new,destroy where proto == udp and dport == 53",
			[]string{`watch@1:1 conntrack events=101 where="proto == udp and dport == 53"@1:25`}},
		{"bare watch", "watch", []string{"watch@1:1 conntrack events=000"}},
		{"watch update event", "watch update", []string{"watch@1:1 conntrack events=010"}},
		{"watch reliable", "watch destroy where dport == 53 reliable as json",
			[]string{`watch@1:1 conntrack events=100 where="dport == 53"@1:21 reliable as=json@1:45`}},
		{"watch everything", "watch expect new, update as json for 1h30m limit 10 where helper == \"ftp\"",
			[]string{`watch@1:1 expect@1:7 events=011 where="helper == \"ftp\""@1:59 for=1h30m0s limit=10 as=json@1:29`}},
		{"watch for forms", "watch for 20s; watch for \"5m\"; watch for 1.5s",
			[]string{"watch@1:1 conntrack events=000 for=20s", "watch@1:16 conntrack events=000 for=5m0s", "watch@1:32 conntrack events=000 for=1.5s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			var got []string
			for _, st := range s.Stmts() {
				got = append(got, dump(st))
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Parse(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseChangeAndWatchErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"delete clause of another statement", "delete where a limit 1", "1:16: `limit` does not belong in a `delete` statement"},
		{"delete twice dry", "delete where a dry dry", "1:20: duplicate `dry` clause"},
		{"delete unknown table", "delete conntrak where a", "1:8: unknown table `conntrak` (did you mean `conntrack`?)"},
		{"update empty set", "update set where a", "1:12: expected a field name after `set`, found `where`"},
		{"update unknown settable field", "update set mrak = 1 where true", "1:12: unknown field `mrak` (did you mean `mark`?) (update sets mark, timeout, labels, status and state)"},
		{"update fixed field", "update set dport = 1 where true", "1:12: `dport` cannot be changed (update sets mark, timeout, labels, status and state)"},
		{"update ==", "update set mark == 1 where true", "1:17: expected `=` after `mark`, found `==` (`set` assigns: `mark = ...`)"},
		{"update no operator", "update set mark 1 where true", "1:17: expected `=`, `+=` or `-=` after `mark`, found `1`"},
		{"update spaced +=", "update set labels + = 1 where true", "1:19: expected `=`, `+=` or `-=` after `labels`, found `+`"},
		{"update empty value", "update set mark = where true", "1:19: expected an expression after `=`, found `where`"},
		{"update empty += value", "update set labels += , mark = 1", "1:22: expected an expression after `+=`, found `,`"},
		{"update trailing comma", "update set mark = 1, where true", "1:22: expected a field name after `,`, found `where`"},
		{"update duplicate", "update set mark = 1, mark = 2 where true", "1:22: duplicate `mark =` in `set`"},
		{"update two set clauses", "update set mark = 1 set timeout = 2", "1:21: duplicate `set` clause"},
		{"insert without record", "insert", "1:7: expected `{` after `insert`, found end of input"},
		{"insert table without record", "insert expect", "1:14: expected `{` after `expect`, found end of input"},
		{"insert unknown field", "insert {sprot: 1}", "1:9: unknown insert field `sprot` (did you mean `sport`?)"},
		{"insert expect unknown field", "insert expect {master_sprot: 1}", "1:16: unknown expectation field `master_sprot` (did you mean `master_sport`?)"},
		{"insert flow field in expect", "insert expect {state: 1}", "1:16: unknown expectation field `state`"},
		{"insert empty list", "insert []", "1:9: expected `{` after `[`, found `]`"},
		{"insert list without comma", "insert [{proto: 6} {proto: 6}]", "1:20: expected `,` or `]`, found `{`"},
		{"insert junk after", "insert {proto: 6} where a", "1:19: unexpected `where` after the `insert` statement"},
		{"flush where", "flush where proto == tcp", "1:7: `flush` empties a whole table: to remove some entries write `delete where ...`"},
		{"flush junk", "flush ipv4 ipv6", "1:12: unexpected `ipv6`: expected `ipv4`, `ipv6` or the end of the statement"},
		{"flush unknown table", "flush ipv5", "1:7: unknown table `ipv5` (did you mean `ipv4`?)"},
		{"load bare word", "load table.save", "1:6: expected a file name in quotes, or `-` for standard input, after `load`, found `table`"},
		{"load nothing", "load", "1:5: expected a file name in quotes, or `-` for standard input, after `load`, found end of input"},
		{"load empty", `load ""`, "1:6: `load` needs a file name, not an empty string"},
		{"load bad escape", `load "a\q"`, "1:6: invalid char escape"},
		{"load two files", `load "a" "b"`, "1:10: unexpected `\"b\"` after the `load` statement"},
		{"watch unknown event", "watch nwe", "1:7: unknown table or event `nwe` (did you mean `new`?)"},
		{"watch unknown event after table", "watch expect destory", "1:14: unknown event `destory` (did you mean `destroy`?) (events: new, update, destroy)"},
		{"watch duplicate event", "watch new,new", "1:11: duplicate event `new`"},
		{"watch trailing comma", "watch new,", "1:11: expected an event (new, update, destroy) after `,`, found end of input"},
		{"watch comma before clause", "watch new, where a", "1:12: expected an event (new, update, destroy) after `,`, found `where`"},
		{"watch table after events", "watch new expect", "1:11: unexpected `expect`: expected `where`, `count`, `every`, `for`, `limit`, `reliable`, `as` or the end of the statement"},
		{"bad duration", "watch for 20", "1:11: invalid duration `20` (write e.g. 20s, 5m, 1h30m)"},
		{"bad duration unit", "watch new for 5 m", "1:15: invalid duration `5` (write e.g. 20s, 5m, 1h30m)"},
		{"bad quoted duration", `watch for "5 minutes"`, "1:11: invalid duration `\"5 minutes\"` (write e.g. 20s, 5m, 1h30m)"},
		{"zero duration", "watch for 0s", "1:11: the duration of `for` must be positive"},
		{"negative duration", "watch for -5s", "1:11: `for` needs a duration (e.g. 20s, 5m, 1h30m), found `-`"},
		{"for outside watch", "list for 5s", "1:6: `for` does not belong in a `list` statement"},
		{"for after list clause", "list where a for 5s", "1:14: `for` does not belong in a `list` statement"},
		{"dry in list", "list limit 1 dry", "1:14: `dry` does not belong in a `list` statement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.in)
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) = %v, want *Error", tt.in, err)
			}
			if got := fmt.Sprintf("%d:%d: %s", e.Line, e.Col, e.Msg); got != tt.want {
				t.Errorf("Parse(%q) error\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}
