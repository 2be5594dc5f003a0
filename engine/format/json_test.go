package format

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"ctq/engine"
)

// sameFlow compares two flows, the time fields with Equal.
func sameFlow(a, b engine.Flow) bool {
	if !a.Start.Equal(b.Start) || !a.Stop.Equal(b.Stop) {
		return false
	}
	a.Start, a.Stop, b.Start, b.Stop = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	return a == b
}

// jsonEdgeFlows are round-trip cases beyond allFlows.
var jsonEdgeFlows = []engine.Flow{
	{Family: "ipv4", Proto: "unknown", ProtoNum: 255},
	{Family: "ipv4", Proto: "tcp", ProtoNum: 6, State: "LISTEN", StateNum: 9, Has: engine.HasState},
	{Family: "ipv4", Proto: "icmp", ProtoNum: 1, Sport: 3, ReplyDport: 4, Age: -1500 * time.Millisecond},
	{Family: "ipv6", Proto: "udp", ProtoNum: 17, ICMPID: 5, Age: time.Duration(1<<63 - 1)},
	{Family: "ipv4", Proto: "sctp", ProtoNum: 132, OrigVtag: 4294967295, ReplyVtag: 0, Has: engine.HasVtags},
	{Family: "ipv4", Proto: "dccp", ProtoNum: 33, DCCPRole: 7, Has: engine.HasRole},
	{Family: "ipv4", Proto: "tcp", ProtoNum: 6, Mark: 1<<32 - 1, Secmark: 1<<32 - 1, Zone: 65535, Timeout: 1<<32 - 1, Has: engine.HasSecmark | engine.HasTimeout | engine.HasMark | engine.HasZone},
	{Family: "ipv4", Proto: "udp", ProtoNum: 17, Has: engine.HasLabels},
	{Family: "ipv4", Proto: "tcp", ProtoNum: 6, Start: time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)), Has: engine.HasStart},
}

func TestJSONRoundTrip(t *testing.T) {
	flows := append(append([]engine.Flow(nil), allFlows...), jsonEdgeFlows...)
	for _, labels := range []map[int]string{nil, labelMap} {
		opts := testOptions(labels)
		for i, f := range flows {
			line := AppendJSON(nil, &f, &opts)
			if !json.Valid(line) {
				t.Fatalf("flow %d: invalid JSON %s", i, line)
			}
			var got engine.Flow
			got.Mark = 99 // DecodeJSON must reset f
			if err := DecodeJSON(line, &got); err != nil {
				t.Fatalf("flow %d: %v\n%s", i, err, line)
			}
			if !sameFlow(f, got) {
				t.Errorf("flow %d does not round-trip\njson: %s\n got: %+v\nwant: %+v", i, line, got, f)
			}
		}
	}
}

func TestJSONTyped(t *testing.T) {
	f := v4tcp42002
	opts := testOptions(nil)
	var m map[string]any
	if err := json.Unmarshal(AppendJSON(nil, &f, &opts), &m); err != nil {
		t.Fatal(err)
	}
	checks := map[string]any{
		"family": "ipv4", "proto": "tcp", "protonum": 6.0, "src": "192.0.2.1", "sport": 42002.0,
		"reply_sport": 8080.0, "state": "ESTABLISHED", "mark": 0.0, "timeout": 431972.0,
		"packets": 12.0, "bytes": 1240.0, "start": "2026-11-22T23:25:33.917535910Z", "age": 27.08246409,
	}
	for k, want := range checks {
		if m[k] != want {
			t.Errorf("%s = %#v, want %#v", k, m[k], want)
		}
	}
	status, _ := m["status"].([]any)
	if len(status) != 5 || status[0] != "SEEN_REPLY" {
		t.Errorf("status = %#v", m["status"])
	}
	for _, absent := range []string{"icmp_type", "zone", "helper", "labels", "stop", "secmark"} {
		if _, ok := m[absent]; ok {
			t.Errorf("absent attribute %s is present", absent)
		}
	}
}

func TestJSONLabelNames(t *testing.T) {
	f := labelsTwo
	opts := testOptions(map[int]string{3: "vip"})
	line := string(AppendJSON(nil, &f, &opts))
	if !strings.Contains(line, `"labels":[2,"vip"],"label_bits":[2,3]`) {
		t.Errorf("labels: %s", line)
	}
}

func TestDecodeJSONErrors(t *testing.T) {
	for _, in := range []string{
		``, `[]`, `{"src":"300.1.1.1"}`, `{"status":["NOPE"]}`, `{"labels":["web"]}`, `{"labels":[128]}`,
		`{"labels":[null]}`, `{"label_bits":[-1]}`, `{"start":"yesterday"}`, `{"age":"x"}`, `{"age":1e300}`,
		`{"role":"peer"}`, `{"role":true}`, `{"mark":"1"}`, `{"sport":1.5}`, `{} x`,
		`{"start":"9999-12-31T23:00:00-23:00"}`, `{"age":-9223372036.854775809}`,
	} {
		var f engine.Flow
		if err := DecodeJSON([]byte(in), &f); err == nil {
			t.Errorf("DecodeJSON(%s) accepted: %+v", in, f)
		}
	}
}

func FuzzDecodeJSON(f *testing.F) {
	opts := testOptions(labelMap)
	for i := range allFlows {
		f.Add(AppendJSON(nil, &allFlows[i], &opts))
	}
	for _, s := range []string{
		`{}`, `{"age":1e3}`, `{"age":-0.0000000001}`, `{"status":["BIT31","assured"]}`,
		`{"labels":[1,"x"],"label_bits":[4]}`, `{"state":"BOGUS","proto":"tcp","protonum":6}`,
		`{"reply_sport":5}`, `{"orig_vtag":1}`, `{"role":1}`, `{"start":"2026-01-01T00:00:00+14:00"}`,
		`{"helper":"\u0000\ud800"}`, `{"src":"fe80::1%eth0"}`,
		`{"family":"ipv4","proto":"tcp","sport":99999}`, `{"proto":"tcp","src":"192.0.2.1"}`, `{"family":"ipv6","protonum":50}`,
		`{"family":"ipv4","proto":"unknown","protonum":6}`, `{"family":"ipv4","proto":"udp","mark":4294967297,"zone":70000,"timeout":-5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		var a engine.Flow
		if err := DecodeJSON(line, &a); err != nil {
			return
		}
		enc := AppendJSON(nil, &a, nil)
		var b engine.Flow
		if err := DecodeJSON(enc, &b); err != nil {
			t.Fatalf("re-encoded flow does not decode: %v\n%s", err, enc)
		}
		if !sameFlow(a, b) {
			t.Fatalf("re-encoded flow differs\njson: %s\n  a: %+v\n  b: %+v", enc, a, b)
		}
		if enc2 := AppendJSON(nil, &b, nil); string(enc2) != string(enc) {
			t.Fatalf("encoding not stable\n%s\n%s", enc, enc2)
		}
	})
}

func TestJSONStringEscaping(t *testing.T) {
	for _, s := range []string{"plain", "q\"b\\s", "\x00\x01\x1f\t\n\r", "\xff\xfeok\xc3", "é€😀", "\u2028<&>"} {
		b := appendJSONString(nil, s)
		var got string
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: %v (%s)", s, err, b)
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if s == "\xff\xfeok\xc3" {
			want = "\uFFFD\uFFFDok\uFFFD" // one replacement a bad byte, as encoding/json
		}
		if got != want {
			t.Errorf("%q encodes as %s, decodes to %q", s, b, got)
		}
	}
}

// TestDecodeJSONValidation checks DecodeJSON's range and presence checks:
// every value in the range of its kernel attribute, an entry's family and
// protocol present and consistent; each error names the key.
func TestDecodeJSONValidation(t *testing.T) {
	const base = `"family":"ipv4","proto":"tcp","protonum":6,"src":"192.0.2.1","dst":"192.0.2.2"`
	bad := []struct{ in, want string }{
		{`{` + base + `,"sport":99999}`, "sport: 99999 out of range 0..65535"},
		{`{` + base + `,"dport":-1}`, "dport: -1 out of range 0..65535"},
		{`{` + base + `,"reply_sport":65536}`, "reply_sport: 65536 out of range"},
		{`{` + base + `,"mark":4294967297}`, "mark: 4294967297 out of range 0..4294967295"},
		{`{` + base + `,"secmark":-1}`, "secmark: -1 out of range"},
		{`{` + base + `,"timeout":-5}`, "timeout: -5 out of range 0..4294967295"},
		{`{` + base + `,"zone":70000}`, "zone: 70000 out of range 0..65535"},
		{`{` + base + `,"orig_zone":65536}`, "orig_zone: 65536 out of range"},
		{`{` + base + `,"icmp_type":256}`, "icmp_type: 256 out of range 0..255"},
		{`{` + base + `,"icmp_id":65536}`, "icmp_id: 65536 out of range"},
		{`{` + base + `,"id":4294967296}`, "id: 4294967296 out of range"},
		{`{` + base + `,"packets":-1}`, "packets: -1 out of range"},
		{`{` + base + `,"orig_vtag":4294967296}`, "orig_vtag: 4294967296 out of range"},
		{`{` + base + `,"state_num":256}`, "state_num: 256 out of range"},
		{`{"family":"ipv4","protonum":256}`, "protonum: 256 out of range 0..255"},
		{`{}`, "family: missing"},
		{`{"family":"","proto":"","protonum":0,"src":"","dst":""}`, "family: missing"},
		{`{"proto":"tcp","protonum":6}`, "family: missing"},
		{`{"family":"ipv4"}`, "proto: missing"},
		{`{"family":"ipv4","proto":"","protonum":null}`, "proto: missing"},
		{`{"family":"ipx","proto":"tcp"}`, `family: unknown family "ipx"`},
		{`{"family":"ipv6","proto":"tcp","src":"192.0.2.1"}`, "src: 192.0.2.1 is not an ipv6 address"},
		{`{"proto":"tcp","src":"192.0.2.1","dst":"2001:db8::1"}`, "dst: 2001:db8::1 is not an ipv4 address"},
		{`{"family":"ipv4","proto":"tcp","protonum":17}`, `proto: "tcp" does not agree with protonum 17`},
		{`{"family":"ipv4","proto":"unknown","protonum":6}`, `proto: "unknown" does not agree with protonum 6`},
		{`{"family":"ipv4","proto":"bogus","protonum":50}`, `proto: "bogus" does not agree with protonum 50`},
		{`{"family":"ipv4","proto":"unknown"}`, `proto: "unknown" needs protonum beside it`},
		{`{"family":"ipv6","proto":"tcp","src":"fe80::1%eth0"}`, `src: address "fe80::1%eth0" has a zone`},
	}
	for _, tt := range bad {
		var f engine.Flow
		err := DecodeJSON([]byte(tt.in), &f)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("DecodeJSON(%s) = %v, want an error with %q", tt.in, err, tt.want)
		}
	}
	good := []struct {
		in                  string
		family, proto       string
		protonum, sport, tm int
	}{
		{`{"proto":"tcp","src":"192.0.2.1","dst":"192.0.2.2","sport":65535}`, "ipv4", "tcp", 6, 65535, 0},
		{`{"family":"ipv6","protonum":17,"timeout":4294967295}`, "ipv6", "udp", 17, 0, 1<<32 - 1},
		{`{"family":"ipv4","proto":"TCP","protonum":6}`, "ipv4", "tcp", 6, 0, 0},
		{`{"family":"ipv4","proto":"unknown","protonum":50}`, "ipv4", "unknown", 50, 0, 0},
		{`{"family":"ipv4","protonum":50}`, "ipv4", "unknown", 50, 0, 0},
		{`{"proto":"icmpv6","dst":"2001:db8::1"}`, "ipv6", "icmpv6", 58, 0, 0},
	}
	for _, tt := range good {
		var f engine.Flow
		if err := DecodeJSON([]byte(tt.in), &f); err != nil {
			t.Errorf("DecodeJSON(%s): %v", tt.in, err)
			continue
		}
		if f.Family != tt.family || f.Proto != tt.proto || f.ProtoNum != tt.protonum || f.Sport != tt.sport || f.Timeout != tt.tm {
			t.Errorf("DecodeJSON(%s) = family %q proto %q/%d sport %d timeout %d", tt.in, f.Family, f.Proto, f.ProtoNum, f.Sport, f.Timeout)
		}
	}
}
