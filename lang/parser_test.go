package lang

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"ctq/engine"
)

// dump renders a statement compactly: keyword, table and clauses, each
// expression as its text and position.
func dump(st Stmt) string {
	ex := func(e *Expr) string { return fmt.Sprintf("%q@%d:%d", e.Text, e.Pos.Line, e.Pos.Col) }
	fields := func(fs []Field) []string {
		var out []string
		for _, f := range fs {
			out = append(out, fmt.Sprintf("%s@%d:%d=%s", f.Name, f.Pos.Line, f.Pos.Col, ex(f.Value)))
		}
		return out
	}
	table := func(t engine.Table, p Pos) string {
		if p.Line == 0 {
			return t.String()
		}
		return fmt.Sprintf("%s@%d:%d", t, p.Line, p.Col)
	}
	words := func(ws []Word) string {
		var out []string
		for _, w := range ws {
			out = append(out, fmt.Sprintf("%s@%d:%d", w.Name, w.Pos.Line, w.Pos.Col))
		}
		return strings.Join(out, ",")
	}
	p := st.Pos()
	out := []string{fmt.Sprintf("%s@%d:%d", st.Keyword(), p.Line, p.Col)}
	switch s := st.(type) {
	case *ListStmt:
		out = append(out, s.Table.String())
		if s.Where != nil {
			out = append(out, "where="+ex(s.Where))
		}
		for _, o := range s.Order {
			dir := "asc"
			if o.Desc {
				dir = "desc"
			}
			out = append(out, "order="+ex(o.Expr)+" "+dir)
		}
		if s.Limit >= 0 {
			out = append(out, fmt.Sprintf("limit=%d", s.Limit))
		}
		if s.As != nil {
			out = append(out, "as="+words(s.As))
		}
	case *CountStmt:
		out = append(out, s.Table.String())
		if s.Where != nil {
			out = append(out, "where="+ex(s.Where))
		}
	case *GetStmt:
		out = append(out, fields(s.Fields)...)
		if s.As != nil {
			out = append(out, "as="+words(s.As))
		}
	case *DeleteStmt:
		out = append(out, table(s.Table, s.TablePos))
		if s.Where != nil {
			out = append(out, "where="+ex(s.Where))
		}
		if s.Dry {
			out = append(out, "dry")
		}
	case *UpdateStmt:
		out = append(out, table(s.Table, s.TablePos))
		for _, a := range s.Set {
			out = append(out, fmt.Sprintf("set %s@%d:%d %s %s", a.Field, a.Pos.Line, a.Pos.Col, a.Op, ex(a.Value)))
		}
		if s.Where != nil {
			out = append(out, "where="+ex(s.Where))
		}
		if s.Dry {
			out = append(out, "dry")
		}
	case *InsertStmt:
		out = append(out, table(s.Table, s.TablePos))
		for _, r := range s.Records {
			out = append(out, fmt.Sprintf("{@%d:%d", r.Pos.Line, r.Pos.Col))
			out = append(out, fields(r.Fields)...)
			out = append(out, "}")
		}
	case *FlushStmt:
		out = append(out, table(s.Table, s.TablePos), fmt.Sprintf("family=%d", s.Family))
	case *LoadStmt:
		out = append(out, fmt.Sprintf("path=%q", s.Path))
	case *WatchStmt:
		out = append(out, table(s.Table, s.TablePos), fmt.Sprintf("events=%03b", s.Events))
		if s.Where != nil {
			out = append(out, "where="+ex(s.Where))
		}
		if s.For != 0 {
			out = append(out, "for="+s.For.String())
		}
		if s.Limit >= 0 {
			out = append(out, fmt.Sprintf("limit=%d", s.Limit))
		}
		if s.Reliable {
			out = append(out, "reliable")
		}
		if s.As != nil {
			out = append(out, "as="+words(s.As))
		}
	}
	return strings.Join(out, " ")
}

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     []string
	}{
		{"empty", "", nil},
		{"comments only", "# nothing\n\n  # here\n", nil},
		{"bare list", "list", []string{"list@1:1 conntrack"}},
		{"must: list where", "list where proto == tcp and dport == 22",
			[]string{`list@1:1 conntrack where="proto == tcp and dport == 22"@1:12`}},
		{"must: cidr", `list where src in cidr("198.51.100.0/24") or dst in cidr("2001:db8::/32")`,
			[]string{`list@1:1 conntrack where="src in cidr(\"198.51.100.0/24\") or dst in cidr(\"2001:db8::/32\")"@1:12`}},
		{"must: count", "count where proto == tcp", []string{`count@1:1 conntrack where="proto == tcp"@1:13`}},
		{"must: list expect", "list expect", []string{"list@1:1 expect"}},
		{"tables", "list dying; count unconfirmed; list conntrack",
			[]string{"list@1:1 dying", "count@1:13 unconfirmed", "list@1:32 conntrack"}},
		{"every list clause", "list where dport == 22 order by src desc, bytes, dport asc limit 10 as extended,id",
			[]string{`list@1:1 conntrack where="dport == 22"@1:12 order="src"@1:33 desc order="bytes"@1:43 asc order="dport"@1:50 asc limit=10 as=extended@1:72,id@1:81`}},
		{"clauses in any order", "list limit 0 as json where assured",
			[]string{`list@1:1 conntrack where="assured"@1:28 limit=0 as=json@1:17`}},
		{"format list with spaces", "list as extended, id",
			[]string{"list@1:1 conntrack as=extended@1:9,id@1:19"}},
		{"strings keep ; and #", `list where helper == "a;b#c"; count`,
			[]string{`list@1:1 conntrack where="helper == \"a;b#c\""@1:12`, "count@1:31 conntrack"}},
		{"multi-line brackets", "list where (proto == tcp\n    and dport == 22) limit 5",
			[]string{`list@1:1 conntrack where="(proto == tcp\n    and dport == 22)"@1:12 limit=5`}},
		{"comment after statement", "list where dport == 22 # ssh\ncount",
			[]string{`list@1:1 conntrack where="dport == 22"@1:12`, "count@2:1 conntrack"}},
		{"member named like a keyword", "list where x.limit == 1 limit 2",
			[]string{`list@1:1 conntrack where="x.limit == 1"@1:12 limit=2`}},
		{"keyword inside brackets", "list where (as == 1)",
			[]string{`list@1:1 conntrack where="(as == 1)"@1:12`}},
		{"closure", "list where all([1, 2], # > 0)",
			[]string{`list@1:1 conntrack where="all([1, 2], # > 0)"@1:12`}},
		{"order by expression", "list order by bytes / packets desc",
			[]string{`list@1:1 conntrack order="bytes / packets"@1:15 desc`}},
		{"get", `get {src: "192.0.2.1", dst: "192.0.2.2", proto: tcp, sport: 1000 + 1, dport: 22} as json`,
			[]string{`get@1:1 src@1:6="\"192.0.2.1\""@1:11 dst@1:24="\"192.0.2.2\""@1:29 proto@1:42="tcp"@1:49 sport@1:54="1000 + 1"@1:61 dport@1:71="22"@1:78 as=json@1:85`}},
		{"get over lines", "get {\n  src: \"192.0.2.1\",\n  dst: \"192.0.2.2\",\n  proto: icmp, icmp_type: 8, icmp_code: 0, icmp_id: f(1, 2),\n}",
			[]string{`get@1:1 src@2:3="\"192.0.2.1\""@2:8 dst@3:3="\"192.0.2.2\""@3:8 proto@4:3="icmp"@4:10 icmp_type@4:16="8"@4:27 icmp_code@4:30="0"@4:41 icmp_id@4:44="f(1, 2)"@4:53`}},
		{"third line", "list\ncount\nlist where dport == 1",
			[]string{"list@1:1 conntrack", "count@2:1 conntrack", `list@3:1 conntrack where="dport == 1"@3:12`}},
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

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"help not yet", `help`, "1:1: statement `help` is not supported yet"},
		{"future keyword later in script", "list\n  help", "2:3: statement `help` is not supported yet"},
		{"unknown statement", "lsit where dport == 22", "1:1: unknown statement `lsit` (did you mean `list`?)"},
		{"uppercase keyword", "LIST", "1:1: unknown statement `LIST` (keywords are lowercase: `list`)"},
		{"not a word", "42", "1:1: expected a statement, found `42`"},
		{"unknown table", "list expcet", "1:6: unknown table `expcet` (did you mean `expect`?)"},
		{"empty where", "list where", "1:11: expected an expression after `where`, found end of input"},
		{"empty where before clause", "list where limit 3", "1:12: expected an expression after `where`, found `limit`"},
		{"empty where at semicolon", "list where ; count", "1:12: expected an expression after `where`, found `;`"},
		{"empty where at newline", "list where\ncount", "1:11: expected an expression after `where`, found end of line"},
		{"duplicate clause", "list where a limit 1 where b", "1:22: duplicate `where` clause"},
		{"order without by", "list order dport", "1:12: expected `by` after `order`, found `dport`"},
		{"empty order key", "list order by , dport", "1:15: expected an expression after `by`, found `,`"},
		{"empty second order key", "list order by dport,", "1:21: expected an expression after `,`, found end of input"},
		{"limit not a number", "list limit ten", "1:12: `limit` needs a whole number, found `ten`"},
		{"limit negative", "list limit -1", "1:12: `limit` needs a whole number, found `-`"},
		{"limit float", "list limit 1.5", "1:12: `limit` needs a whole number, found `1.5`"},
		{"limit hex", "list limit 0x10", "1:12: `limit` needs a whole number, found `0x10`"},
		{"as without format", "list as", "1:8: expected a format name after `as`, found end of input"},
		{"as trailing comma", "list as json,", "1:14: expected a format name after `,`, found end of input"},
		{"clause of another statement", "count where a limit 3", "1:15: `limit` does not belong in a `count` statement"},
		{"junk after clause", "list limit 3 4", "1:14: unexpected `4`: expected `where`, `order`, `limit`, `zero`, `as` or the end of the statement"},
		{"typo of a clause", "list wher dport == 1", "1:6: unknown table `wher` (did you mean `where`?)"},
		{"typo of a later clause", "list limit 3 wher x", "1:14: unexpected `wher`: expected `where`, `order`, `limit`, `zero`, `as` or the end of the statement (did you mean `where`?)"},
		{"asc outside order", "list where a asc", "1:14: `asc` does not belong in a `list` statement"},
		{"newline ends statement", "list where (a ==\n 1)\n  limit 5", "3:3: unknown statement `limit` (did you mean `list`?)"},
		{"get without brace", "get src", "1:5: unknown table `src`"},
		{"get unknown field", `get {sprot: 1}`, "1:6: unknown get field `sprot` (did you mean `sport`?)"},
		{"get duplicate field", `get {sport: 1, sport: 2}`, "1:16: duplicate field `sport`"},
		{"get missing colon", `get {sport 1}`, "1:12: expected `:` after `sport`, found `1`"},
		{"get empty value", `get {sport: , dport: 1}`, "1:13: expected an expression after `:`, found `,`"},
		{"get field not a word", `get {"src": 1}`, "1:6: expected a field name, found `\"src\"`"},
		{"get junk after", `get {sport: 1} limit 1`, "1:16: `limit` does not belong in a `get` statement"},
		{"get junk after as", `get {sport: 1} as json json`, "1:24: unexpected `json` after the `get` statement"},
		{"error on line 3", "list\ncount\nlist where dport == 1 junk)", "3:27: unexpected `)`"},
		{"unclosed bracket", "list where (dport == 1\ncount", "1:12: unclosed `(`"},
		{"parse error before a lexical error", "lsit\nlist where \"x", "1:1: unknown statement `lsit` (did you mean `list`?)"},
		{"lexical error inside a statement", "list where x == \"x\ncount", "1:17: unterminated string"},
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
