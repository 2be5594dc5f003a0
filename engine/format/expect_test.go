package format

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"

	"ctq/engine"
)

// writeExpects writes expectations with format name and returns the
// output.
func writeExpects(t *testing.T, name string, opts Options, exps ...engine.Expect) string {
	t.Helper()
	var out bytes.Buffer
	w, err := NewExpect(name, &out, opts)
	if err != nil {
		t.Fatal(err)
	}
	for i := range exps {
		if err := w.WriteExpect(&exps[i]); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestExpectGoldenListings compares whole listings with conntrack -L
// expect and -G expect as captured (expect2.txt, expect3.txt,
// expect4.txt).
func TestExpectGoldenListings(t *testing.T) {
	ftp := ftpExpect(50001, 43021, 298).build()
	proto195 := expect("ipv4", 195, "192.0.2.1", "192.0.2.1", 0, 0).
		mask("255.255.255.255", "255.255.255.255", 0, 0).
		master(6, "192.0.2.1", "192.0.2.1", 43021, 21).
		timeout(299).class(0).helper("ftp").flags(0).build()
	ftp4 := ftpExpect(50001, 43022, 298).build()
	get4 := "conntrack -G expect -s 192.0.2.1 -d 192.0.2.1 -p tcp --sport 0 --dport 50001 --reply-port-src 1 --reply-port-dst 1"
	tests := []struct {
		file, cmd, format string
		now               time.Time
		exp               engine.Expect
	}{
		{"expect2.txt", "conntrack -L expect", "text", time.Time{}, ftp},
		{"expect2.txt", "conntrack -L expect -o extended", "extended", time.Time{}, ftp},
		{"expect2.txt", "conntrack -L expect -o id", "id", time.Time{}, ftp},
		{"expect2.txt", "conntrack -L expect -o save", "save", time.Time{}, ftp},
		{"expect2.txt", "conntrack -L expect -o xml", "xml", time.Time{}, ftp},
		{"expect2.txt", "conntrack -L expect -o timestamp", "timestamp", at(1795390300, 731624), ftp},
		{"expect3.txt", "conntrack -L expect", "text", time.Time{}, proto195},
		{"expect4.txt", "conntrack -L expect", "text", time.Time{}, ftp4},
		{"expect4.txt", get4, "text", time.Time{}, ftp4},
	}
	for _, tt := range tests {
		t.Run(tt.file+" "+tt.cmd, func(t *testing.T) {
			opts := testOptions(nil)
			if !tt.now.IsZero() {
				opts.Now = func() time.Time { return tt.now }
			}
			want := captureOutput(t, tt.file, tt.cmd)
			if want == "" {
				t.Fatal("the capture has no output for this command")
			}
			if got := writeExpects(t, tt.format, opts, tt.exp); got != want {
				t.Errorf("output differs\n got: %q\nwant: %q", got, want)
			}
		})
	}
}

func TestAppendExpect(t *testing.T) {
	const tail = " mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=192.0.2.1 master-dst=192.0.2.1 sport=43021 dport=21"
	base := func() *eb { return ftpExpect(50001, 43021, 298) }
	tests := []struct {
		name string
		exp  engine.Expect
		ev   Event
		want string
	}{
		{"new event", base().timeout(300).build(), EventNew,
			"    [NEW] 300 proto=6 src=192.0.2.1 dst=192.0.2.1 sport=0 dport=50001" + tail + " class=0 helper=ftp"},
		{"destroy event", base().build(), EventDestroy,
			"[DESTROY] 298 proto=6 src=192.0.2.1 dst=192.0.2.1 sport=0 dport=50001" + tail + " class=0 helper=ftp"},
		{"update event", base().build(), EventUpdate,
			" [UPDATE] 298 proto=6 src=192.0.2.1 dst=192.0.2.1 sport=0 dport=50001" + tail + " class=0 helper=ftp"},
		{"all flags and a zone", base().zone(3).flags(7).class(1).helper("sip").build(), EventNone,
			"298 proto=6 src=192.0.2.1 dst=192.0.2.1 sport=0 dport=50001" + tail + " zone=3 PERMANENT,INACTIVE,USERSPACE class=1 helper=sip"},
		{"inactive only, no class, no helper", func() engine.Expect {
			e := base().flags(engine.ExpectInactive).build()
			e.Has &^= engine.HasExpClass | engine.HasExpHelper
			return e
		}(), EventNone,
			"298 proto=6 src=192.0.2.1 dst=192.0.2.1 sport=0 dport=50001" + tail + " INACTIVE"},
		{"userspace and permanent", base().flags(engine.ExpectUserspace | engine.ExpectPermanent).build(), EventNone,
			"298 proto=6 src=192.0.2.1 dst=192.0.2.1 sport=0 dport=50001" + tail + " PERMANENT,USERSPACE class=0 helper=ftp"},
		// An unnamed flag bit still gets conntrack's separating blank.
		{"unnamed flag", base().flags(8).build(), EventNone,
			"298 proto=6 src=192.0.2.1 dst=192.0.2.1 sport=0 dport=50001" + tail + "  class=0 helper=ftp"},
		{"unnamed flag at the end", func() engine.Expect {
			e := base().flags(8).build()
			e.Has &^= engine.HasExpClass | engine.HasExpHelper
			return e
		}(), EventNone,
			"298 proto=6 src=192.0.2.1 dst=192.0.2.1 sport=0 dport=50001" + tail + " "},
		{"flags attribute absent", func() engine.Expect {
			e := base().build()
			e.Flags = engine.ExpectPermanent
			e.Has &^= engine.HasExpFlags
			return e
		}(), EventNone,
			"298 proto=6 src=192.0.2.1 dst=192.0.2.1 sport=0 dport=50001" + tail + " class=0 helper=ftp"},
		{"no timeout, no master", expect("ipv4", 17, "198.18.5.2", "198.18.5.1", 0, 5000).
			mask("255.255.255.255", "255.255.255.255", 0, 65535).build(), EventNone,
			"proto=17 src=198.18.5.2 dst=198.18.5.1 sport=0 dport=5000 mask-src=255.255.255.255 mask-dst=255.255.255.255 sport=0 dport=65535 master-src=0.0.0.0 master-dst=0.0.0.0"},
		{"ipv6 sip", expect("ipv6", 17, "2001:db8::1", "2001:db8::2", 0, 5060).
			mask("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 0, 65535).
			master(17, "2001:db8::2", "2001:db8::1", 5060, 5060).timeout(60).class(2).helper("sip").flags(engine.ExpectPermanent).build(), EventNone,
			"60 proto=17 src=2001:db8::1 dst=2001:db8::2 sport=0 dport=5060 mask-src=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff mask-dst=ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff sport=0 dport=65535 master-src=2001:db8::2 master-dst=2001:db8::1 sport=5060 dport=5060 PERMANENT class=2 helper=sip"},
		{"gre of a pptp master", expect("ipv4", 47, "198.18.0.1", "198.18.0.2", 0x10, 0x20).
			mask("255.255.255.255", "255.255.255.255", 0xffff, 0xffff).
			master(6, "198.18.0.2", "198.18.0.1", 1723, 40000).timeout(5).helper("pptp").build(), EventNone,
			"5 proto=47 src=198.18.0.1 dst=198.18.0.2 srckey=0x10 dstkey=0x20 mask-src=255.255.255.255 mask-dst=255.255.255.255 srckey=0xffff dstkey=0xffff master-src=198.18.0.2 master-dst=198.18.0.1 sport=1723 dport=40000 helper=pptp"},
		{"icmp", expect("ipv4", 1, "198.18.0.1", "198.18.0.2", 77, 8<<8|3).
			mask("255.255.255.255", "255.255.255.255", 0xffff, 0xffff).
			master(1, "198.18.0.2", "198.18.0.1", 77, 0).build(), EventNone,
			"proto=1 src=198.18.0.1 dst=198.18.0.2 type=8 code=3 id=77 mask-src=255.255.255.255 mask-dst=255.255.255.255 type=255 code=255 id=65535 master-src=198.18.0.2 master-dst=198.18.0.1 type=0 code=0 id=77"},
		{"unknown family", func() engine.Expect {
			e := base().build()
			e.Family = ""
			return e
		}(), EventNone,
			"298 proto=6 sport=0 dport=50001 sport=0 dport=65535 sport=43021 dport=21 class=0 helper=ftp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(AppendExpect(nil, &tt.exp, tt.ev, nil)); got != tt.want {
				t.Errorf("\n got: %q\nwant: %q", got, tt.want)
			}
			// The line is appended to what the buffer holds.
			if got := string(AppendExpect([]byte("x"), &tt.exp, tt.ev, nil)); got != "x"+tt.want {
				t.Errorf("appended: %q", got)
			}
		})
	}
}

// TestEventGoldenExpectLines compares AppendExpect with every line of
// conntrack -E expect (evexp_x.out).
func TestEventGoldenExpectLines(t *testing.T) {
	want := strings.Split(strings.TrimSuffix(readCapture(t, "evexp_x.out"), "\n"), "\n")
	evs := expectScript(43121, nil)
	if len(evs) != len(want) {
		t.Fatalf("%d events for %d lines", len(evs), len(want))
	}
	for i, ev := range evs {
		if got := string(AppendExpect(nil, ev.Expect, EventOf(ev.Type), nil)); got != want[i] {
			t.Errorf("line %d\n got: %q\nwant: %q", i+1, got, want[i])
		}
	}
}

func TestAppendExpectXML(t *testing.T) {
	opts := testOptions(nil)
	opts.Now = func() time.Time { return time.Unix(1795390203, 0) }
	tests := []struct {
		name  string
		exp   engine.Expect
		ev    Event
		flags TextFlags
		want  []string // substrings
		not   []string
	}{
		{"captured layout", ftpExpect(50000, 43513, 300).build(), EventNew, 0, []string{
			`<flow type="new"><layer3 protonum="2" protoname="ipv4"><expected><src>192.0.2.1</src><dst>192.0.2.1</dst></expected><mask><src>255.255.255.255</src><dst>255.255.255.255</dst></mask><master><src>192.0.2.1</src><dst>192.0.2.1</dst></master></layer3><layer4 protonum="6" protoname="tcp"><expected><sport>0</sport><dport>50000</dport></expected><mask><sport>0</sport><dport>65535</dport></mask><master><sport>43513</sport><dport>21</dport></master></layer4><meta><helper-name>ftp</helper-name><timeout>300</timeout><class>0</class></meta></flow>`,
		}, nil},
		{"flags, zone and when", ftpExpect(50000, 43513, 300).zone(4).flags(7).build(), EventDestroy, FlagTime, []string{
			`<flow type="destroy">`,
			`<meta><helper-name>ftp</helper-name><timeout>300</timeout><class>0</class><zone>4</zone><when><hour>23</hour><min>30</min><sec>03</sec><wday>1</wday><day>22</day><month>11</month><year>2026</year></when><permanent/><inactive/><userspace/></meta></flow>`,
		}, nil},
		{"escaped helper", ftpExpect(1, 2, 3).helper(`a<b>&"c'`).build(), EventNone, 0, []string{
			`<flow><layer3`, `<helper-name>a&lt;b&gt;&amp;&quot;c&apos;</helper-name>`,
		}, nil},
		{"ipv6 gre", expect("ipv6", 47, "2001:db8::1", "2001:db8::2", 1, 2).
			mask("ffff::", "ffff::", 0xffff, 0xffff).master(6, "2001:db8::2", "2001:db8::1", 1723, 4000).build(), EventNone, 0, []string{
			`<layer3 protonum="10" protoname="ipv6"><expected><src>2001:db8::1</src><dst>2001:db8::2</dst></expected><mask><src>ffff::</src><dst>ffff::</dst></mask>`,
			`<layer4 protonum="47" protoname="gre"><expected><srckey>0x1</srckey><dstkey>0x2</dstkey></expected><mask><srckey>0xffff</srckey><dstkey>0xffff</dstkey></mask><master><sport>1723</sport><dport>4000</dport></master></layer4><meta></meta>`,
		}, []string{"<timeout>", "<class>", "<when>"}},
		{"unknown protocol and family", func() engine.Expect {
			e := expect("ipv4", 195, "192.0.2.1", "192.0.2.1", 0, 0).master(6, "192.0.2.1", "192.0.2.1", 1, 21).build()
			e.Family = "x"
			return e
		}(), EventNone, 0, []string{
			`<layer3 protonum="0" protoname="unknown"><expected><src></src><dst></dst></expected>`,
			`<layer4 protonum="195" protoname="unknown"><expected></expected><mask></mask><master><sport>1</sport><dport>21</dport></master></layer4>`,
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(AppendExpectXML(nil, &tt.exp, tt.ev, tt.flags, &opts))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in\n%s", w, got)
				}
			}
			for _, w := range tt.not {
				if strings.Contains(got, w) {
					t.Errorf("unexpected %q in\n%s", w, got)
				}
			}
			checkWellFormed(t, XMLExpectHeader+got+"\n"+XMLExpectFooter)
		})
	}
}

// checkWellFormed fails unless doc is a well-formed XML document.
func checkWellFormed(t *testing.T, doc string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		_, err := d.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("not well-formed: %v\n%s", err, doc)
		}
	}
}

func TestExpectXMLDocument(t *testing.T) {
	opts := testOptions(nil)
	if got := writeExpects(t, "xml", opts); got != "" {
		t.Errorf("zero expectations: %q, want nothing", got)
	}
	e := ftpExpect(50001, 43021, 298).build()
	got := writeExpects(t, "xml,timestamp", opts, e, e)
	if !strings.HasPrefix(got, XMLExpectHeader) || !strings.HasSuffix(got, "</flow>\n"+XMLExpectFooter) || strings.Count(got, "<when>") != 2 {
		t.Errorf("document:\n%s", got)
	}
	checkWellFormed(t, got)
}

func TestAppendExpectJSON(t *testing.T) {
	ftp := ftpExpect(50001, 43021, 298).build()
	want := `{"family":"ipv4","proto":"tcp","protonum":6,"src":"192.0.2.1","dst":"192.0.2.1","sport":0,"dport":50001,` +
		`"mask_src":"255.255.255.255","mask_dst":"255.255.255.255","mask_sport":0,"mask_dport":65535,` +
		`"master_proto":"tcp","master_protonum":6,"master_src":"192.0.2.1","master_dst":"192.0.2.1","master_sport":43021,"master_dport":21,` +
		`"timeout":298,"helper":"ftp","class":0,"flags":0,"permanent":false,"inactive":false,"userspace":false}`
	if got := string(AppendExpectJSON(nil, &ftp)); got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}

	full := ftpExpect(50001, 43021, 298).id(99).zone(7).flags(5).fn("nf_nat_follow_master").helper("a\"b\\\n").build()
	var m map[string]any
	if err := json.Unmarshal(AppendExpectJSON(nil, &full), &m); err != nil {
		t.Fatal(err)
	}
	for key, v := range map[string]any{"id": 99.0, "zone": 7.0, "flags": 5.0, "permanent": true, "inactive": false,
		"userspace": true, "fn": "nf_nat_follow_master", "helper": "a\"b\\\n"} {
		if m[key] != v {
			t.Errorf("%s = %#v, want %#v", key, m[key], v)
		}
	}

	// Absent attributes have no key; ICMP and unknown protocols have no
	// port keys unless the value is non-zero.
	bare := expect("ipv4", 195, "192.0.2.1", "192.0.2.2", 0, 0).build()
	want = `{"family":"ipv4","proto":"unknown","protonum":195,"src":"192.0.2.1","dst":"192.0.2.2"}`
	if got := string(AppendExpectJSON(nil, &bare)); got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
	icmp := expect("ipv4", 1, "192.0.2.1", "192.0.2.2", 7, 0).master(1, "192.0.2.2", "192.0.2.1", 0, 0).build()
	want = `{"family":"ipv4","proto":"icmp","protonum":1,"src":"192.0.2.1","dst":"192.0.2.2","sport":7,` +
		`"master_proto":"icmp","master_protonum":1,"master_src":"192.0.2.2","master_dst":"192.0.2.1"}`
	if got := string(AppendExpectJSON(nil, &icmp)); got != want {
		t.Errorf("\n got: %s\nwant: %s", got, want)
	}
}

func TestExpectCSV(t *testing.T) {
	odd := ftpExpect(50001, 43021, 298).helper("a,b").flags(engine.ExpectUserspace).build()
	bare := expect("ipv4", 195, "192.0.2.1", "192.0.2.2", 0, 0).build()
	got := writeExpects(t, "csv", testOptions(nil), odd, bare)
	want := "family,proto,protonum,src,dst,sport,dport,mask_src,mask_dst,mask_sport,mask_dport,master_proto,master_protonum,master_src,master_dst,master_sport,master_dport,timeout,id,zone,helper,class,flags,permanent,inactive,userspace,fn\n" +
		`ipv4,tcp,6,192.0.2.1,192.0.2.1,0,50001,255.255.255.255,255.255.255.255,0,65535,tcp,6,192.0.2.1,192.0.2.1,43021,21,298,,,"a,b",0,4,false,false,true,` + "\n" +
		"ipv4,unknown,195,192.0.2.1,192.0.2.2,,,,,,,,,,,,,,,,,,,,,,\n"
	if got != want {
		t.Errorf("\n got: %q\nwant: %q", got, want)
	}
	if got := writeExpects(t, "csv", testOptions(nil)); got != string(AppendExpectCSVHeader(nil))+"\n" {
		t.Errorf("zero expectations: %q, want the header alone", got)
	}
}

func TestExpectTable(t *testing.T) {
	got := writeExpects(t, "table", testOptions(nil), ftpExpect(50001, 43021, 298).build(),
		expect("ipv6", 17, "2001:db8::1", "2001:db8::2", 0, 5060).flags(engine.ExpectPermanent|engine.ExpectInactive).build())
	want := "PROTO  SRC              DST                 MASK-SRC           MASK-DST               MASTER-SRC       MASTER-DST    TIMEOUT  ZONE  CLASS  HELPER  FLAGS\n" +
		"tcp    192.0.2.1:0      192.0.2.1:50001     255.255.255.255:0  255.255.255.255:65535  192.0.2.1:43021  192.0.2.1:21      298     -      0  ftp     -\n" +
		"udp    [2001:db8::1]:0  [2001:db8::2]:5060  -                  -                      -                -                   -     -      -  -       PERMANENT,INACTIVE\n"
	if got != want {
		t.Errorf("\n got:\n%s\nwant:\n%s", got, want)
	}
}

func TestNewExpectNames(t *testing.T) {
	for _, name := range append(Names(), "extended,id", "text,timestamp", "xml,timestamp") {
		if _, err := NewExpect(name, &bytes.Buffer{}, Options{}); err != nil {
			t.Errorf("NewExpect(%q): %v", name, err)
		}
	}
	for _, name := range []string{"", "yaml", "save,id"} {
		if _, err := NewExpect(name, &bytes.Buffer{}, Options{}); err == nil {
			t.Errorf("NewExpect(%q) accepted", name)
		}
	}
}

func TestExpectWriteErrors(t *testing.T) {
	for _, name := range Names() {
		w, err := NewExpect(name, failWriter{}, testOptions(nil))
		if err != nil {
			t.Fatal(err)
		}
		e := ftpExpect(50001, 43021, 298).build()
		for i := 0; i < 2000 && err == nil; i++ {
			err = w.WriteExpect(&e)
		}
		if err == nil {
			err = w.Flush()
		}
		if err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: error %v, want the writer's error", name, err)
		}
	}
}

// FuzzExpectOutput checks that any strings and numbers give a valid json
// object, a well-formed xml element and a csv row of the right width.
func FuzzExpectOutput(f *testing.F) {
	f.Add("ftp", "", 298, 7, 50001)
	f.Add("a<b>&\"c'\x00\xff", "fn,\n\"x\"", -1, 255, 70000)
	f.Add("\x1b[2J\u009b\x9b\x7f", "\x1b]0;x\x07", 1, 0, 21)
	f.Fuzz(func(t *testing.T, helper, fn string, timeout, flags, port int) {
		e := ftpExpect(port, port+1, timeout).helper(helper).fn(fn).flags(flags).build()
		if b := AppendExpectJSON(nil, &e); !json.Valid(b) {
			t.Fatalf("invalid json: %s", b)
		}
		checkWellFormed(t, XMLExpectHeader+string(AppendExpectXML(nil, &e, EventNew, FlagTime, nil))+XMLExpectFooter)
		row, _ := AppendExpectCSV(nil, nil, &e)
		if n := countCSVFields(t, row); n != len(expectCSVColumns) {
			t.Fatalf("%d csv fields, want %d: %q", n, len(expectCSVColumns), row)
		}
		// csv keeps CR, LF and tab in quoted fields.
		csvRow := bytes.ReplaceAll(row, []byte("\r"), nil)
		for _, out := range [][]byte{csvRow, AppendExpect(nil, &e, EventNew, nil), AppendExpectJSON(nil, &e)} {
			if c := rawControl(string(out)); c != "" {
				t.Fatalf("raw control character (%q) in %q", c, out)
			}
		}
	})
}

// countCSVFields counts the fields of one csv record.
func countCSVFields(t *testing.T, row []byte) int {
	t.Helper()
	n, quoted := 1, false
	for _, c := range row {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			n++
		}
	}
	if quoted {
		t.Fatalf("unterminated quote: %q", row)
	}
	return n
}
