package format

import (
	"bytes"
	"errors"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctq/engine"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// odd flows exercise what the captures do not: odd states, unnamed status
// bits, strings with special characters, DCCP, a missing reply tuple.
var (
	dccpOpen = flow("ipv4", 33, "198.18.0.56", "198.18.0.57", 1, 2).reply("198.18.0.57", "198.18.0.56", 2, 1).
			timeout(59).state(4).role(0).status(sr|as).secmark(12).mark(3).started(ago(5), 0).use(1).id(1).build()
	oddStrings = flow("ipv6", 6, "2001:db8::1", "2001:db8::2", 80, 443).reply("2001:db8::2", "2001:db8::1", 443, 80).
			timeout(10).state(42).status(engine.Status(1<<20)|sr).helper("a,b\"c<d>&'e\n").secctx("system_u:object_r:x, y").
			mark(1).labels(0, 5, 127).started(ago(3), 123456789).stopped(ago(1), 5).use(2).id(7).build()
	noReply = flow("ipv4", 17, "198.18.0.1", "198.18.0.2", 1, 2).timeout(5).status(0).build()
)

// allFlows are the flows of the golden files and of the round-trip tests.
var allFlows = []engine.Flow{
	v4udp42005, v4icmp4660, v4tcp42002, v4udp41004, v6tcp, v6icmp, v6udpMark, snat5, dnat7, explicit8,
	zone11, origZone5, replyZone6, unknown50, gre11, sctp15, udplite17, timeWait36, assured1, v6dnat,
	labelsWeb, labelsTwo, labelsNoName, helperFTP, synSent2, markMax, dccpNoState, noAcct, evDestroy,
	evDestroy6, dccpOpen, oddStrings, noReply,
}

func testOptions(labels map[int]string) Options {
	return Options{Now: func() time.Time { return now0 }, LabelNames: labels, Location: time.UTC}
}

// writeAll writes flows with format name and returns the output.
func writeAll(t *testing.T, name string, opts Options, flows []engine.Flow) string {
	t.Helper()
	var out bytes.Buffer
	w, err := New(name, &out, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range flows {
		if err := w.Write(&flows[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestGoldenFiles(t *testing.T) {
	for _, name := range []string{"json", "csv", "table", "text", "extended,id,ktimestamp", "save", "xml,ktimestamp"} {
		t.Run(name, func(t *testing.T) {
			got := writeAll(t, name, testOptions(labelMap), allFlows)
			path := filepath.Join("testdata", "flows."+strings.ReplaceAll(name, ",", "_")+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("output differs from %s (run go test -update after checking the diff)\ngot:\n%s", path, got)
			}
		})
	}
}

func TestNewNames(t *testing.T) {
	for _, name := range Names() {
		if _, err := New(name, &bytes.Buffer{}, Options{}); err != nil {
			t.Errorf("New(%q): %v", name, err)
		}
	}
	for _, name := range []string{"EXTENDED", "extended,id", "id,extended,ktimestamp,labels", "xml,id", "text,timestamp"} {
		if _, err := New(name, &bytes.Buffer{}, Options{}); err != nil {
			t.Errorf("New(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "yaml", "xml,save", "save,id", "json,csv", "extended,,id"} {
		_, err := New(name, &bytes.Buffer{}, Options{})
		if err == nil {
			t.Errorf("New(%q) accepted", name)
		}
	}
	_, err := New("yaml", &bytes.Buffer{}, Options{})
	if err == nil || !strings.Contains(err.Error(), "json") || !strings.Contains(err.Error(), "table") {
		t.Errorf("error for an unknown name does not list the valid names: %v", err)
	}
}

func TestXMLDocument(t *testing.T) {
	opts := testOptions(nil)
	if got := writeAll(t, "xml", opts, nil); got != "" {
		t.Errorf("zero flows: got %q, want nothing", got)
	}
	got := writeAll(t, "xml", opts, []engine.Flow{v6tcp, v6icmp})
	if strings.Count(got, XMLHeader) != 1 || !strings.HasPrefix(got, XMLHeader) {
		t.Errorf("header not printed exactly once at the start:\n%s", got)
	}
	if strings.Count(got, XMLFooter) != 1 || !strings.HasSuffix(got, XMLFooter) {
		t.Errorf("footer not printed exactly once at the end:\n%s", got)
	}
	if n := strings.Count(got, "\n"); n != 5 {
		t.Errorf("got %d lines, want 5 (2 header, 2 flows, 1 footer)", n)
	}

	// The footer comes with Flush, not before; a Write after Flush starts a
	// new document.
	var out bytes.Buffer
	w, err := New("xml", &out, opts)
	if err != nil {
		t.Fatal(err)
	}
	f := v6tcp
	if err := w.Write(&f); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), XMLFooter) {
		t.Error("footer written before Flush")
	}
	for i := 0; i < 2; i++ {
		if err := w.Write(&f); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if got := out.String(); strings.Count(got, XMLHeader) != 2 || strings.Count(got, XMLFooter) != 2 {
		t.Errorf("two documents expected:\n%s", got)
	}
}

func TestXMLFixes(t *testing.T) {
	opts := testOptions(map[int]string{0: "a&b", 5: "<x>"})
	tests := []struct {
		name string
		flow engine.Flow
		want []string
	}{
		{"escaped strings", oddStrings, []string{
			"<helper>a,b&quot;c&lt;d&gt;&amp;&apos;e&#10;</helper>",
			"<secctx>system_u:object_r:x, y</secctx>",
			"<labels><label>a&amp;b</label><label>&lt;x&gt;</label></labels>",
			"<state>NONE</state>",
		}},
		{"dccp state", dccpOpen, []string{"<state>OPEN</state>"}},
		{"secctx alone opens meta", flow("ipv4", 17, "198.18.0.1", "198.18.0.2", 1, 2).secctx("s").build(), []string{
			`<meta direction="independent"><secctx>s</secctx></meta>`,
		}},
		{"missing reply tuple", noReply, []string{
			`<meta direction="reply"><layer3 protonum="0" protoname="unknown"><src></src><dst></dst></layer3><layer4 protonum="0" protoname="unknown"></layer4></meta>`,
		}},
		{"control characters", flow("ipv4", 17, "198.18.0.1", "198.18.0.2", 1, 2).helper("a\x01b\xffc").build(), []string{
			"<helper>a\uFFFDb\uFFFDc</helper>",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendXML(nil, &tt.flow, EventNone, 0, &opts))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
		})
	}
}

func TestTextEdges(t *testing.T) {
	future := flow("ipv4", 17, "198.18.0.1", "198.18.0.2", 1, 2).reply("198.18.0.2", "198.18.0.1", 2, 1).
		started(now0.Unix()+5, 0).build()
	unknownFamily := engine.Flow{Family: "unknown", ProtoNum: 6, Proto: "tcp", Sport: 1, Dport: 2}
	tests := []struct {
		name  string
		flow  engine.Flow
		flags TextFlags
		want  string
	}{
		{"no reply tuple", noReply, 0,
			"udp      17 5 src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2 [UNREPLIED]"},
		{"negative delta wraps like %llu", future, 0,
			"udp      17 src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2 src=198.18.0.2 dst=198.18.0.1 sport=2 dport=1 delta-time=18446744073709551611"},
		{"unknown family", unknownFamily, FlagExtended,
			"unknown  0 tcp      6 sport=1 dport=2"},
		{"secmark secctx offload", flow("ipv4", 6, "198.18.0.1", "198.18.0.2", 1, 2).
			status(sr | as | engine.StatusOffload).secmark(9).secctx("ctx").build(), 0,
			"tcp      6 src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2 [OFFLOAD] secmark=9 secctx=ctx"},
		{"hw offload wins", flow("ipv4", 6, "198.18.0.1", "198.18.0.2", 1, 2).
			status(sr | as | engine.StatusOffload | engine.StatusHWOffload).build(), 0,
			"tcp      6 src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2 [HW_OFFLOAD]"},
		{"state out of range", flow("ipv4", 6, "198.18.0.1", "198.18.0.2", 1, 2).state(77).build(), 0,
			"tcp      6 NONE src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2"},
	}
	opts := testOptions(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendText(nil, &tt.flow, EventNone, tt.flags, &opts)); got != tt.want {
				t.Errorf("\n got: %q\nwant: %q", got, tt.want)
			}
		})
	}
}

func TestAppendAddrMatchesInetNtop(t *testing.T) {
	// Expected strings from glibc's inet_ntop.
	tests := []struct{ in, want string }{
		{"::c000:201", "::192.0.2.1"},
		{"::1", "::1"},
		{"::", "::"},
		{"::ffff:c000:201", "::ffff:192.0.2.1"},
		{"2001:db8:0:1::1", "2001:db8:0:1::1"},
		{"2001:db8::1:0:0:1", "2001:db8::1:0:0:1"},
		{"2001:0:0:1:0:0:0:1", "2001:0:0:1::1"},
		{"0:0:1::", "0:0:1::"},
		{"1:0:0:0:1:0:0:0", "1::1:0:0:0"},
		{"::0.0.1.0", "::100"},
		{"::ffff:0:0", "::ffff:0.0.0.0"},
		{"fe80::1%eth0", "fe80::1"},
	}
	for _, tt := range tests {
		if got := string(appendAddr(nil, netip.MustParseAddr(tt.in), engine.FamilyIPv6)); got != tt.want {
			t.Errorf("appendAddr(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := string(appendAddr(nil, netip.MustParseAddr("::ffff:192.0.2.1"), engine.FamilyIPv4)); got != "192.0.2.1" {
		t.Errorf("mapped IPv4 = %q", got)
	}
	if got := string(appendAddr(nil, netip.Addr{}, engine.FamilyIPv4)); got != "0.0.0.0" {
		t.Errorf("missing IPv4 = %q", got)
	}
}

func TestSaveEdges(t *testing.T) {
	f := dccpOpen
	b, err := AppendSave([]byte("x "), &f, EventNone)
	if err != nil {
		t.Fatal(err)
	}
	want := "x -t 59 -u SEEN_REPLY,ASSURED -c 12 -s 198.18.0.56 -d 198.18.0.57 -r 198.18.0.57 -q 198.18.0.56 -p dccp --sport 1 --dport 2 --reply-port-src 2 --reply-port-dst 1 --state OPEN --role client"
	if string(b) != want {
		t.Errorf("\n got: %q\nwant: %q", b, want)
	}
	bad := engine.Flow{Family: "unknown", ProtoNum: 6}
	if _, err := AppendSave(nil, &bad, EventNew); !errors.Is(err, ErrSaveFamily) {
		t.Errorf("unknown family: err = %v, want ErrSaveFamily", err)
	}
	var out bytes.Buffer
	w, _ := New("save", &out, Options{})
	if err := w.Write(&bad); !errors.Is(err, ErrSaveFamily) {
		t.Errorf("writer: err = %v, want ErrSaveFamily", err)
	}
}

func TestAppendEventTime(t *testing.T) {
	tests := []struct {
		t    time.Time
		want string
	}{
		{time.Unix(1795390188, 132295000), "[1795390188.132295]\t"},
		{time.Unix(1795390190, 5000), "[1795390190.000005]\t"},
		{time.Unix(12, 0), "[00000012.000000]\t"},
	}
	for _, tt := range tests {
		if got := string(AppendEventTime(nil, tt.t)); got != tt.want {
			t.Errorf("AppendEventTime(%v) = %q, want %q", tt.t, got, tt.want)
		}
	}
}

func TestCSVQuoting(t *testing.T) {
	got := writeAll(t, "csv", testOptions(nil), []engine.Flow{oddStrings})
	lines := strings.SplitN(got, "\n", 2)
	if lines[0] != string(AppendCSVHeader(nil)) {
		t.Errorf("header = %q", lines[0])
	}
	for _, w := range []string{`,"a,b""c<d>&'e` + "\n" + `",`, `,"system_u:object_r:x, y",`, `,0|5|127,`, `,SEEN_REPLY|CONFIRMED,`} {
		if !strings.Contains(lines[1], w) {
			t.Errorf("row lacks %q:\n%s", w, lines[1])
		}
	}
	if got := writeAll(t, "csv", testOptions(nil), nil); got != string(AppendCSVHeader(nil))+"\n" {
		t.Errorf("zero flows: %q, want the header alone", got)
	}
}

func TestTableStreaming(t *testing.T) {
	if got := writeAll(t, "table", testOptions(nil), nil); !strings.HasPrefix(got, "PROTO") || strings.Count(got, "\n") != 1 {
		t.Errorf("zero flows: %q, want the header alone", got)
	}
	// tableBuffered narrow rows size the columns; a wider row after them
	// streams with those widths and pushes its own later cells right.
	flows := make([]engine.Flow, tableBuffered+1)
	for i := range flows {
		flows[i] = noReply
	}
	wide := flow("ipv6", 17, "2001:db8::1234:5678", "2001:db8::2", 1, 2).timeout(5).status(0).build()
	flows[tableBuffered] = wide
	lines := strings.Split(strings.TrimSuffix(writeAll(t, "table", testOptions(nil), flows), "\n"), "\n")
	if len(lines) != tableBuffered+2 {
		t.Fatalf("got %d lines, want %d", len(lines), tableBuffered+2)
	}
	dst := strings.Index(lines[0], "DST")
	if strings.Index(lines[1], "198.18.0.2:2") != dst {
		t.Errorf("buffered rows not aligned with the header:\n%s\n%s", lines[0], lines[1])
	}
	if strings.Index(lines[len(lines)-1], "2001:db8::2") <= dst {
		t.Errorf("wide streamed row should push DST right:\n%s\n%s", lines[0], lines[len(lines)-1])
	}
	for i, l := range lines {
		if strings.HasSuffix(l, " ") {
			t.Fatalf("line %d has trailing blanks: %q", i, l)
		}
	}
}

func TestNextLabel(t *testing.T) {
	var l engine.Labels
	want := []int{0, 31, 32, 63, 64, 100, 127}
	for _, n := range want {
		l.Set(n)
	}
	var got []int
	for n := nextLabel(&l, 0); n >= 0; n = nextLabel(&l, n+1) {
		got = append(got, n)
	}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v, want %v", got, want)
		}
	}
	if n := nextLabel(&engine.Labels{}, 0); n != -1 {
		t.Errorf("empty labels: %d", n)
	}
}

// failWriter fails every write.
type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestWriteErrors(t *testing.T) {
	for _, name := range Names() {
		w, err := New(name, failWriter{}, testOptions(nil))
		if err != nil {
			t.Fatal(err)
		}
		f := v4tcp42002
		for i := 0; i < 2000 && err == nil; i++ {
			err = w.Write(&f)
		}
		if err == nil {
			err = w.Flush()
		}
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: error %v, want the writer's error", name, err)
		}
	}
}
