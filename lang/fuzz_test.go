package lang

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse checks that parsing and compiling any input never panics, that
// every error is an *Error placed inside the input, and that compiled
// plans evaluate without panicking.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"",
		"list",
		"list where proto == tcp and dport == 22",
		`list where src in cidr("198.51.100.0/24") or dst in cidr("2001:db8::/32")`,
		`delete where proto==tcp && dport==22 && state=="ESTABLISHED"`,
		"count where proto == tcp",
		"count by dport",
		"list expect",
		"list where dprt == 22",
		"list where (proto == tcp\n and dport == 22)\nlist order by bytes desc, src limit 10 as extended,id",
		`list where helper == "a;b#c"; count # comment`,
		`list where "ASSURED" in status && !snat && mark == 7 && zone == 1`,
		`list where src == "192.0.2.1" && "blue" in labels && 3 in labels`,
		`list where age > duration("5m") and start < now()`,
		`list where dport in 8000..8100 or dport in [22, 80]`,
		`get {src: "192.0.2.1", dst: "192.0.2.2", proto: tcp, sport: 1, dport: 2, zone: 3} as json`,
		"get {\n src: \"2001:db8::1\", dst: \"2001:db8::2\", proto: icmpv6, icmp_type: 128, icmp_code: 0, icmp_id: 1\n}",
		"list where all([1,2], # > 0) /* ; */ // x",
		"list where `raw\nstring` == helper",
		"list where x == \"é€\"\r\ncount",
		"list order\r",
		`delete where proto == tcp && dport == 22 dry`,
		`delete expect where helper == "ftp"`,
		"delete",
		`update set mark = 7 where dport in 8000..8100`,
		`update set mark = bitor(mark, 0x10), timeout = duration("5m"), labels += [1, "blue"], labels -= 2, status += "ASSURED" where true dry`,
		`update set mark = mark | 0x10 where true`,
		`insert {src: "192.0.2.1", dst: "198.51.100.7", proto: tcp, sport: 1, dport: 22, timeout: 60, state: "ESTABLISHED", status: ["ASSURED"], mark: 1, zone: 2, labels: [3]}`,
		"insert [\n {src: \"2001:db8::1\", dst: \"2001:db8::2\", proto: icmpv6, icmp_type: 128, icmp_code: 0, icmp_id: 1, timeout: 5, reply_src: \"2001:db8::3\"},\n]",
		`insert expect {master_src: "192.0.2.1", master_dst: "192.0.2.2", master_sport: 1, master_dport: 21, proto: tcp, src: "192.0.2.1", dst: "192.0.2.2", sport: 0, dport: 2, timeout: 1, flags: ["PERMANENT"], helper: "ftp"}`,
		`load "/tmp/x.save"; load -; load 'a\'b'`,
		"flush; flush expect ipv6; flush dying",
		"watch new,destroy where proto == udp and dport == 53",
		`watch expect update for 1h30m limit 5 as json where helper == "sip"`,
		`list expect where master_dport == 21 && family == ipv4 limit 3`,
		"count expect where permanent",
		"let n = count where state == \"SYN_SENT\"\nif n > 0 { print \"x=\" + string(n); exit 3 }",
		"let p = 22\nlist where dport == p\nif p > 1 {\n # c\n print p\n} else if false { exit } else { set output json }",
		"count by dport; top 10 src by bytes; sum bytes by proto; avg timeout; min age by src, dst; max mark",
		"explain delete where proto == tcp and dport == 22; set netns ns-1; source \"/nonexistent\"",
		"let s = sum bytes\nlet a = s / 2\nprint a; exit int(a) % 256",
		"list where " + strings.Repeat("(", 300) + "true" + strings.Repeat(")", 300),
		strings.Repeat("if true {", 300),
		"list where helper == \"\x1b[31m\" && dprt == 1\n\x1b]0;x\x07",
	} {
		f.Add(s)
	}
	opts := &Options{Formats: []string{"text", "json"}, LabelNames: map[int]string{3: "blue"}}
	f.Fuzz(func(t *testing.T, src string) {
		lines := strings.Count(src, "\n") + 1
		check := func(err error) {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v (%T) is not an *Error", err, err)
			}
			if e.Line < 1 || e.Col < 1 || e.Line > lines {
				t.Fatalf("error %d:%d outside the input (%d lines): %v", e.Line, e.Col, lines, e)
			}
			if e.Src != "" && e.Col > utf8.RuneCountInString(e.Src)+1 {
				t.Fatalf("error column %d beyond its line %q", e.Col, e.Src)
			}
			for _, c := range []byte(e.Error()) {
				if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
					t.Fatalf("error text %q holds control byte %#x", e.Error(), c)
				}
			}
		}
		if _, err := CompileProgram("", src, opts); err != nil {
			var e *Error
			if errors.As(err, &e) && e.File != "" {
				return // an error in a sourced file is placed in that file
			}
			check(err)
		}
		s, err := Parse(src)
		if err != nil {
			check(err)
			return
		}
		flow := ssh()
		for _, st := range s.Stmts() {
			p, err := Compile(st, opts)
			if err != nil {
				check(err)
				continue
			}
			if p.Match != nil {
				if _, err := p.Match(flow); err != nil {
					check(err)
				}
			}
			for _, k := range p.Order {
				if _, err := k.Value(flow); err != nil {
					check(err)
				}
			}
			if p.Change != nil {
				if _, err := p.Change(flow); err != nil {
					check(err)
				}
			}
			if p.MatchExpect != nil {
				if _, err := p.MatchExpect(ftpExpect()); err != nil {
					check(err)
				}
			}
		}
	})
}
