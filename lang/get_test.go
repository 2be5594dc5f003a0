package lang

import (
	"strings"
	"testing"

	"ctq/engine"
)

// TestGetByIDAndExpect: get {id: N} finds the entry of that id (a scan
// that stops at it); an id with the tuple is checked on the entry looked
// up; get expect finds the expectation of a tuple.
func TestGetByIDAndExpect(t *testing.T) {
	withID := func(f *engine.Flow, id int) *engine.Flow {
		f.ID = id
		f.Has |= engine.HasID
		return f
	}
	p := compileOne(t, "get {id: 1234}", nil)
	if p.Action != engine.ActList || p.Table != engine.TableConntrack || p.Limit != 1 || p.Match == nil {
		t.Fatalf("get by id: %+v", p)
	}
	for _, tt := range []struct {
		f    *engine.Flow
		want bool
	}{{withID(ssh(), 1234), true}, {withID(ssh(), 1235), false}, {ssh(), false}} {
		if got, _ := p.Match(tt.f); got != tt.want {
			t.Errorf("get {id: 1234} on id %d: %v", tt.f.ID, got)
		}
	}
	p = compileOne(t, "get {id: 7, zone: 4}", nil)
	if ok, _ := p.Match(withID(dns(), 7)); !ok {
		t.Error("get {id: 7, zone: 4} does not match the flow of zone 4")
	}
	if ok, _ := p.Match(withID(ssh(), 7)); ok {
		t.Error("get {id: 7, zone: 4} matches a flow of zone 0")
	}
	p = compileOne(t, `get {src: "192.0.2.1", dst: "198.51.100.7", proto: tcp, sport: 40000, dport: 22, id: 9}`, nil)
	if p.Action != engine.ActGet || p.Key == nil || p.Match == nil {
		t.Fatalf("get by tuple and id: %+v", p)
	}
	if ok, _ := p.Match(withID(ssh(), 9)); !ok {
		t.Error("tuple and id 9: the entry of id 9 does not match")
	}
	if ok, _ := p.Match(withID(ssh(), 8)); ok {
		t.Error("tuple and id 9: the entry of id 8 matches")
	}
	if p := compileOne(t, `get conntrack {src: "192.0.2.1", dst: "198.51.100.7", proto: tcp, sport: 40000, dport: 22}`, nil); p.Action != engine.ActGet || p.Match != nil {
		t.Errorf("get conntrack: %+v", p)
	}

	p = compileOne(t, `get expect {src: "192.0.2.1", dst: "198.51.100.7", proto: tcp, sport: 0, dport: 50000}`, nil)
	if p.Action != engine.ActList || p.Table != engine.TableExpect || p.Limit != 1 || p.MatchExpect == nil {
		t.Fatalf("get expect: %+v", p)
	}
	if ok, _ := p.MatchExpect(ftpExpect()); !ok {
		t.Error("get expect: the ftp expectation does not match")
	}
	p = compileOne(t, `get expect {src: "192.0.2.1", dst: "198.51.100.7", proto: tcp, sport: 0, dport: 50001}`, nil)
	if ok, _ := p.MatchExpect(ftpExpect()); ok {
		t.Error("get expect of port 50001: the ftp expectation matches")
	}
	e := ftpExpect()
	e.ID = 55
	p = compileOne(t, `get expect {id: 55}`, nil)
	if ok, _ := p.MatchExpect(e); !ok || p.Table != engine.TableExpect {
		t.Error("get expect {id: 55} does not match")
	}

	for _, tt := range []struct{ src, want string }{
		{"get dying {id: 1}", "1:5: `get` looks up conntrack entries or expectations, not the `dying` table"},
		{"get {id: 1, sport: 2}", "1:13: `sport` needs the whole tuple (src, dst, proto): with `id` alone write only `id` (and `zone`)"},
		{"get {id: -1}", "1:10: `id` must be a whole number from 0 to 4294967295, not -1"},
		{"get {id: 1} as nosuch", "1:16: unknown format `nosuch`"},
		{`get {src: "192.0.2.1", id: 1}`, "1:1: `get` needs `src`, `dst` and `proto`: `dst` is missing"},
	} {
		_, err := CompileProgram("", tt.src, &Options{Formats: []string{"text"}})
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %s", tt.src, err, tt.want)
		}
	}
}

// TestInsertFromReply: a record with the reply tuple alone inserts the
// entry whose original tuple is its inverse (conntrack -I -r -q).
func TestInsertFromReply(t *testing.T) {
	p := compileOne(t, `insert {proto: tcp, reply_src: "198.51.100.7", reply_dst: "192.0.2.1", reply_sport: 22, reply_dport: 40000, timeout: 60, state: "ESTABLISHED"}`, nil)
	if len(p.Create) != 1 {
		t.Fatalf("%+v", p.Create)
	}
	f := p.Create[0]
	if f.Src.String() != "192.0.2.1" || f.Dst.String() != "198.51.100.7" || f.Sport != 40000 || f.Dport != 22 ||
		f.ReplySrc.String() != "198.51.100.7" || f.ReplyDst.String() != "192.0.2.1" || f.ReplySport != 22 || f.ReplyDport != 40000 || f.Family != "ipv4" {
		t.Errorf("insert from the reply tuple: %+v", f)
	}
	p = compileOne(t, `insert {proto: 50, reply_src: "2001:db8::2", reply_dst: "2001:db8::1", timeout: 60}`, nil)
	if f := p.Create[0]; f.Src.String() != "2001:db8::1" || f.Dst.String() != "2001:db8::2" || f.Family != "ipv6" {
		t.Errorf("insert esp from the reply tuple: %+v", f)
	}
	for _, tt := range []struct{ src, want string }{
		{`insert {proto: tcp, reply_src: "198.51.100.7", reply_dst: "192.0.2.1", reply_sport: 22, timeout: 60}`, "1:8: `insert` needs `sport`"},
		{`insert {proto: tcp, reply_src: "198.51.100.7", timeout: 60}`, "1:8: `insert` needs `src`"},
		{`insert {proto: udp, reply_src: "198.51.100.7", reply_dst: "2001:db8::1", reply_sport: 1, reply_dport: 2, timeout: 60}`,
			"1:32: `dst` must be of the same family as `src` (ipv6)"},
	} {
		_, err := CompileScript(tt.src, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %s", tt.src, err, tt.want)
		}
	}
}
