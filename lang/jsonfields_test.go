package lang

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"ctq/engine"
	"ctq/engine/format"
)

// jsonKeys are the keys the json format writes for flows that have every
// attribute: TCP (ports, counters, timestamps, named labels, a state number
// the name does not give), ICMP with a reply tuple, SCTP (vtags), DCCP
// (role).
func jsonKeys(t *testing.T) []string {
	all := engine.Attr(1<<32 - 1)
	tcp := flow(engine.ProtoTCP, "192.0.2.1", "192.0.2.2", 1, 2)
	tcp.SetState(3)
	tcp.StateNum = 42
	tcp.SetStatus(engine.StatusAssured)
	tcp.Labels.Set(1)
	tcp.SetCounters(1, 2, 3, 4)
	tcp.SetStart(time.Unix(1000, 0), time.Unix(1100, 0))
	tcp.Stop = time.Unix(1200, 0)
	tcp.Has |= all
	icmp := ping()
	icmp.ReplyICMPType = 0
	icmp.Has |= all
	sctp := sctpFlow()
	sctp.OrigVtag, sctp.ReplyVtag = 7, 8
	sctp.Has |= all
	dccp := flow(engine.ProtoDCCP, "192.0.2.1", "192.0.2.2", 1, 2)
	dccp.DCCPRole = 1
	dccp.Has |= all
	keys := map[string]bool{}
	for _, f := range []*engine.Flow{tcp, icmp, sctp, dccp} {
		line := format.AppendJSON(nil, f, &format.Options{LabelNames: map[int]string{1: "blue"}})
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		for k := range m {
			keys[k] = true
		}
	}
	var out []string
	for k := range keys {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestJSONKeysAreFields: every key of the json format is a field an
// expression can filter on, with the type the json value suggests.
func TestJSONKeysAreFields(t *testing.T) {
	keys := jsonKeys(t)
	for _, want := range []string{"reply_icmp_type", "reply_icmp_code", "reply_icmp_id", "state_num", "label_bits", "orig_vtag", "reply_vtag", "role"} {
		if !slices.Contains(keys, want) {
			t.Errorf("the json writer no longer writes %s: update this test", want)
		}
	}
	opts := &Options{LabelNames: map[int]string{1: "blue"}}
	for _, k := range keys {
		if !slices.Contains(Fields(), k) {
			t.Errorf("json key %s is not in Fields()", k)
		}
		if _, err := CompileScript("list where "+k+" == "+k, opts); err != nil {
			t.Errorf("json key %s: %v", k, err)
		}
	}
	// The csv columns too.
	for _, col := range strings.Split(string(format.AppendCSVHeader(nil)), ",") {
		if !slices.Contains(Fields(), col) {
			t.Errorf("csv column %s is not in Fields()", col)
		}
	}
	// Values as json prints them.
	for _, tt := range []struct {
		cond string
		f    *engine.Flow
		want bool
	}{
		{`role == "server"`, func() *engine.Flow {
			f := flow(engine.ProtoDCCP, "192.0.2.1", "192.0.2.2", 1, 2)
			f.DCCPRole = 1
			return f
		}(), true},
		{`role == "client"`, func() *engine.Flow { f := flow(engine.ProtoDCCP, "192.0.2.1", "192.0.2.2", 1, 2); return f }(), true},
		{`role == "client"`, ssh(), false}, // role 0, but no DCCP flow
		{`role != "client"`, ssh(), true},
		{`3 in label_bits`, ssh(), true},
		{`"blue" in label_bits`, ssh(), false},
		{`state_num == 3`, ssh(), true},
		{`reply_icmp_type == 0 and icmp_type == 8`, ping(), true},
		{`orig_vtag == 0`, ssh(), true},
	} {
		p := compileOne(t, "list where "+tt.cond, opts)
		if got, err := p.Match(tt.f); err != nil || got != tt.want {
			t.Errorf("%s: %v, %v; want %v", tt.cond, got, err, tt.want)
		}
	}
	if _, err := CompileScript(`list where role == "master"`, nil); err == nil {
		t.Error(`role == "master" compiled`)
	}
}

// TestProtocolNames: proto compares with the names of /etc/protocols too
// (as protonum: conntrack calls those protocols "unknown").
func TestProtocolNames(t *testing.T) {
	old := protocolsFile
	defer func() { protocolsFile, protocols.once, protocols.num = old, sync.Once{}, nil }()
	protocolsFile, protocols.once, protocols.num = "testdata/protocols", sync.Once{}, nil
	esp := flow(engine.ProtoTCP, "192.0.2.1", "192.0.2.2", 0, 0)
	esp.SetProto(50)
	for _, tt := range []struct {
		cond string
		want [2]bool // on esp, on ssh
	}{
		{"proto == esp", [2]bool{true, false}},
		{`proto == "esp"`, [2]bool{true, false}},
		{"esp == proto", [2]bool{true, false}},
		{"proto == IPSEC_ESP", [2]bool{true, false}},
		{"proto != esp", [2]bool{false, true}},
		{"proto == tcp", [2]bool{false, true}},
		{"proto == ah or proto == esp", [2]bool{true, false}},
		{"proto in [ah, esp]", [2]bool{true, false}},
		{"proto in [tcp, esp]", [2]bool{true, true}},
		{`proto in ["udp", "esp"]`, [2]bool{true, false}},
		{"proto in [tcp, udp]", [2]bool{false, true}},
		{"!(proto in [ah, esp])", [2]bool{false, true}},
	} {
		p := compileOne(t, "list where "+tt.cond, nil)
		for i, f := range []*engine.Flow{esp, ssh()} {
			if got, err := p.Match(f); err != nil || got != tt.want[i] {
				t.Errorf("%s on flow %d: %v, %v; want %v", tt.cond, i, got, err, tt.want[i])
			}
		}
	}
	p := compileOne(t, "list where proto == esp", nil)
	if p.Filter.Orig.Fields&engine.TupleProto == 0 || p.Filter.Orig.Proto != 50 || !p.Exact {
		t.Errorf("proto == esp: filter %+v exact %v, want protocol 50 pushed", p.Filter, p.Exact)
	}
	for _, src := range []string{
		`insert {proto: "esp", src: "192.0.2.1", dst: "192.0.2.2", timeout: 30}`,
		`insert {proto: esp, src: "192.0.2.1", dst: "192.0.2.2", timeout: 30}`,
		`insert {proto: IPSEC_ESP, src: "192.0.2.1", dst: "192.0.2.2", timeout: 30}`,
	} {
		p = compileOne(t, src, nil)
		if len(p.Create) != 1 || p.Create[0].ProtoNum != 50 {
			t.Errorf("%s: %+v", src, p.Create)
		}
	}
	if p = compileOne(t, `get {proto: esp, src: "192.0.2.1", dst: "192.0.2.2"}`, nil); p.Key.ProtoNum != 50 {
		t.Errorf("get proto esp: %+v", p.Key)
	}
	for _, tt := range []struct{ src, want string }{
		{"list where proto == espp", "1:21: unknown protocol `espp`"},
		{`list where proto == "espp"`, "1:21: unknown protocol \"espp\""},
		{`list where proto in [tcp, espp]`, "1:27: unknown protocol \"espp\""},
	} {
		_, err := CompileScript(tt.src, nil)
		if err == nil || len(err.Error()) < len(tt.want) || err.Error()[:len(tt.want)] != tt.want {
			t.Errorf("%s: %v, want %s", tt.src, err, tt.want)
		}
	}
}
