package snapshot

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ctq/engine"
	"ctq/engine/format"
)

// fixedNow is the clock of the tests.
var fixedNow = time.Date(2026, 11, 22, 23, 26, 2, 0, time.UTC)

func testOptions() *Options {
	return &Options{Now: func() time.Time { return fixedNow }, Labels: map[int]string{1: "web", 2: "db", 5: "vip"}}
}

// readAll opens a snapshot and returns copies of all its entries.
func readAll(t *testing.T, path string, opts *Options) []engine.Flow {
	t.Helper()
	s, err := Open(path, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	defer s.Close()
	var out []engine.Flow
	st, err := s.Scan(context.Background(), engine.TableConntrack, nil, func(f *engine.Flow) error {
		out = append(out, *f)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%s): %v", path, err)
	}
	if st.Received != len(out) {
		t.Errorf("Scan(%s): Received = %d, yielded %d", path, st.Received, len(out))
	}
	return out
}

// commonFields are the fields both the save and the text format carry.
type commonFields struct {
	Family, Proto                          string
	ProtoNum                               int
	Src, Dst, ReplySrc, ReplyDst           netip.Addr
	Sport, Dport, ReplySport, ReplyDport   int
	ICMPType, ICMPCode, ICMPID             int
	ReplyICMPType, ReplyICMPCode, ReplyID  int
	State                                  string
	StateNum                               int
	Status                                 engine.Status
	Assured, SeenReply, Confirmed          bool
	SNAT, DNAT                             bool
	Zone, OrigZone, ReplyZone              int
	HasZone, HasOrigZone, HasReplyZone     bool
	HasTimeout, HasState, HasReply, HasSts bool
}

// textStatus are the status bits a text line can tell.
const textStatus = engine.StatusSeenReply | engine.StatusAssured | engine.StatusConfirmed |
	engine.StatusSrcNAT | engine.StatusDstNAT | engine.StatusSrcNATDone | engine.StatusDstNATDone |
	engine.StatusOffload | engine.StatusHWOffload

func common(f *engine.Flow) commonFields {
	return commonFields{
		f.Family, f.Proto, f.ProtoNum, f.Src, f.Dst, f.ReplySrc, f.ReplyDst,
		f.Sport, f.Dport, f.ReplySport, f.ReplyDport,
		f.ICMPType, f.ICMPCode, f.ICMPID, f.ReplyICMPType, f.ReplyICMPCode, f.ReplyICMPID,
		f.State, f.StateNum, f.Status & textStatus, f.Assured, f.SeenReply, f.Confirmed, f.SNAT, f.DNAT,
		f.Zone, f.OrigZone, f.ReplyZone,
		f.Has&engine.HasZone != 0, f.Has&engine.HasOrigZone != 0, f.Has&engine.HasReplyZone != 0,
		f.Has&engine.HasTimeout != 0, f.Has&engine.HasState != 0, f.Has&engine.HasReply != 0, f.Has&engine.HasStatus != 0,
	}
}

// TestFormatsAgree reads the same entries as conntrack printed them in the
// text, extended and save formats, and checks that every field the
// formats share decodes the same.
func TestFormatsAgree(t *testing.T) {
	text := readAll(t, "testdata/synth.txt", testOptions())
	ext := readAll(t, "testdata/synth.extended", testOptions())
	save := readAll(t, "testdata/synth.save", testOptions())
	if len(text) != 19 || len(ext) != len(text) || len(save) != len(text) {
		t.Fatalf("entries: text %d, extended %d, save %d; want 19 each", len(text), len(ext), len(save))
	}
	for i := range text {
		ct, ce, cs := common(&text[i]), common(&ext[i]), common(&save[i])
		if ct != ce {
			t.Errorf("entry %d: text %+v\nextended %+v", i, ct, ce)
		}
		if ct != cs {
			t.Errorf("entry %d: text %+v\nsave %+v", i, ct, cs)
		}
		if text[i].Has&engine.HasCounters == 0 || save[i].Has&engine.HasCounters != 0 {
			t.Errorf("entry %d: counters in text %v, in save %v", i, text[i].Has&engine.HasCounters != 0, save[i].Has&engine.HasCounters != 0)
		}
	}
}

// find returns the entry with the given original source and source port.
func find(t *testing.T, fs []engine.Flow, src string, sport int) engine.Flow {
	t.Helper()
	for _, f := range fs {
		if f.Src == netip.MustParseAddr(src) && f.Sport == sport {
			return f
		}
	}
	t.Fatalf("no entry from %s port %d", src, sport)
	return engine.Flow{}
}

func TestTextFields(t *testing.T) {
	fs := readAll(t, "testdata/synth.txt", testOptions())

	dnat := find(t, fs, "198.18.0.7", 2002)
	if !dnat.DNAT || dnat.SNAT || dnat.SeenReply || !dnat.Confirmed || dnat.Assured {
		t.Errorf("DNAT entry status %v", dnat.Status)
	}
	if dnat.Timeout != 266 || dnat.State != "ESTABLISHED" || dnat.ReplySrc != netip.MustParseAddr("192.0.2.80") || dnat.ReplySport != 8080 {
		t.Errorf("DNAT entry %+v", dnat)
	}
	if dnat.Age != 34*time.Second || !dnat.Start.Equal(fixedNow.Add(-34*time.Second)) || dnat.Has&engine.HasStart == 0 {
		t.Errorf("DNAT entry Start %v Age %v, want delta-time 34", dnat.Start, dnat.Age)
	}
	if dnat.Mark != 0 || dnat.Has&engine.HasMark == 0 || dnat.Use != 1 || dnat.Has&engine.HasUse == 0 {
		t.Errorf("DNAT entry mark %d use %d has %b", dnat.Mark, dnat.Use, dnat.Has)
	}

	snatPort := find(t, fs, "198.18.0.6", 2001)
	if !snatPort.SNAT || snatPort.DNAT || snatPort.ReplyDport != 61000 {
		t.Errorf("SNAT entry %v, reply dport %d", snatPort.Status, snatPort.ReplyDport)
	}

	assured := find(t, fs, "2001:db8::1", 42003)
	if assured.Family != "ipv6" || !assured.Assured || !assured.SeenReply || assured.SNAT || assured.DNAT ||
		assured.OrigPackets != 7 || assured.OrigBytes != 812 || assured.ReplyPackets != 5 || assured.ReplyBytes != 668 ||
		assured.Packets != 12 || assured.Bytes != 1480 {
		t.Errorf("assured entry %+v", assured)
	}

	zone := find(t, fs, "198.18.0.3", 53000)
	if zone.Zone != 11 || zone.Has&engine.HasZone == 0 || zone.Has&(engine.HasOrigZone|engine.HasReplyZone) != 0 {
		t.Errorf("zone entry zone %d has %b", zone.Zone, zone.Has)
	}
	if oz := find(t, fs, "198.18.0.19", 1); oz.OrigZone != 5 || oz.Has&engine.HasOrigZone == 0 || oz.Has&engine.HasZone != 0 {
		t.Errorf("orig-zone entry %d has %b", oz.OrigZone, oz.Has)
	}
	if rz := find(t, fs, "198.18.0.25", 1); rz.ReplyZone != 6 || rz.Has&engine.HasReplyZone == 0 {
		t.Errorf("reply-zone entry %d has %b", rz.ReplyZone, rz.Has)
	}

	gre := find(t, fs, "198.18.0.11", 5)
	if gre.Proto != "gre" || gre.Dport != 6 || gre.ReplySport != 6 || gre.ReplyDport != 5 || gre.SNAT || gre.DNAT {
		t.Errorf("gre entry %+v", gre)
	}
	icmp6 := find(t, fs, "2001:db8::10", 0)
	if icmp6.Proto != "icmpv6" || icmp6.ICMPType != 128 || icmp6.ReplyICMPType != 129 || icmp6.ICMPID != 99 || icmp6.ReplyICMPID != 99 {
		t.Errorf("icmpv6 entry %+v", icmp6)
	}
	unknown := find(t, fs, "198.18.0.13", 0)
	if unknown.Proto != "unknown" || unknown.ProtoNum != 50 || unknown.Timeout != 19 || unknown.State != "" {
		t.Errorf("unknown-protocol entry %+v", unknown)
	}
	if sctp := find(t, fs, "198.18.0.15", 3000); sctp.State != "ESTABLISHED" || sctp.StateNum != 4 {
		t.Errorf("sctp entry state %q/%d", sctp.State, sctp.StateNum)
	}
}

func TestTextOptionalAttributes(t *testing.T) {
	fs := readAll(t, "testdata/extras.txt", testOptions())
	if len(fs) != 4 {
		t.Fatalf("%d entries, want 4", len(fs))
	}
	ts := fs[0]
	start := time.Date(2026, 11, 22, 23, 25, 33, 0, time.Local)
	if ts.ID != 2416446559 || ts.Has&engine.HasID == 0 || !ts.Start.Equal(start) || ts.Age != 29*time.Second ||
		ts.Family != "ipv4" || ts.ICMPType != 8 || ts.ReplyICMPType != 0 {
		t.Errorf("ktimestamp,id entry: id %d start %v age %v %+v", ts.ID, ts.Start, ts.Age, ts)
	}
	if helper := fs[1]; helper.Helper != "ftp" || helper.Has&engine.HasHelper == 0 {
		t.Errorf("helper entry helper %q", helper.Helper)
	}
	if lb := fs[2]; lb.Has&engine.HasLabels == 0 || !lb.Labels.Has(1) || !lb.Labels.Has(5) || len(lb.Labels.Bits()) != 2 {
		t.Errorf("labels entry %v", lb.Labels.Bits())
	}
	all := fs[3]
	stop := time.Date(2026, 11, 2, 3, 4, 12, 0, time.Local)
	switch {
	case all.Family != "ipv6" || all.Status != engine.StatusConfirmed|engine.StatusSeenReply|engine.StatusHWOffload || !all.Offload:
		t.Errorf("status %v", all.Status)
	case all.Mark != 4294967295 || all.Secmark != 12 || all.Secctx != "system_u:object_r:ssh_t:s0" || all.Zone != 9:
		t.Errorf("mark %d secmark %d secctx %q zone %d", all.Mark, all.Secmark, all.Secctx, all.Zone)
	case all.OrigZone != 3 || all.ReplyZone != 4 || all.Use != 2 || all.ID != 7:
		t.Errorf("zones %d %d use %d id %d", all.OrigZone, all.ReplyZone, all.Use, all.ID)
	case !all.Stop.Equal(stop) || all.Has&engine.HasStop == 0 || all.Age != 7*time.Second:
		t.Errorf("stop %v age %v", all.Stop, all.Age)
	case all.Has&(engine.HasCounters|engine.HasLabels) != 0:
		t.Errorf("has %b: no counters or labels expected", all.Has)
	}
}

func TestGet(t *testing.T) {
	s, err := Open("testdata/synth.save", testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	key := engine.Flow{ProtoNum: 17, Src: netip.MustParseAddr("198.18.0.3"), Dst: netip.MustParseAddr("198.18.0.4"),
		Sport: 53000, Dport: 53, Zone: 11}
	f, err := s.Get(ctx, &key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if f.Timeout != 63 || f.Zone != 11 || f.ReplyDport != 53000 {
		t.Errorf("Get returned %+v", f)
	}
	key.Zone = 0
	if _, err := s.Get(ctx, &key); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Get in zone 0: %v, want ErrNotFound", err)
	}
	icmp := engine.Flow{ProtoNum: 58, Src: netip.MustParseAddr("2001:db8::10"), Dst: netip.MustParseAddr("2001:db8::20"),
		ICMPType: 128, ICMPID: 99}
	if f, err := s.Get(ctx, &icmp); err != nil || f.Timeout != 29 {
		t.Errorf("Get icmpv6: %v, %+v", err, f)
	}
	icmp.ICMPID = 98
	if _, err := s.Get(ctx, &icmp); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Get icmpv6 other id: %v, want ErrNotFound", err)
	}
}

func TestScanTwice(t *testing.T) {
	s, err := Open("testdata/synth.extended", testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < 2; i++ {
		n := 0
		st, err := s.Scan(context.Background(), engine.TableConntrack, nil, func(*engine.Flow) error { n++; return nil })
		if err != nil || n != 19 || st.Received != 19 {
			t.Errorf("scan %d: %d entries, stats %+v, %v", i+1, n, st, err)
		}
	}
}

func TestStdinOnce(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("testdata/synth.save")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.Write(data)
		w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	t.Cleanup(func() { os.Stdin = old; r.Close() })
	s, err := Open("-", testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	if _, err := s.Scan(context.Background(), engine.TableConntrack, nil, func(*engine.Flow) error { n++; return nil }); err != nil || n != 19 {
		t.Fatalf("first scan: %d entries, %v", n, err)
	}
	_, err = s.Scan(context.Background(), engine.TableConntrack, nil, func(*engine.Flow) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "stdin: it can be read only once") {
		t.Errorf("second scan: %v, want a read-only-once error", err)
	}
}

// writeFile writes a test file and returns its path.
func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadLines(t *testing.T) {
	const saveOK = "-A -t 5 -u UNSET -s 198.18.0.1 -d 198.18.0.2 -p udp --sport 1 --dport 2\n"
	const textOK = "udp      17 5 src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=2 dport=1 mark=0 use=1\n"
	tests := []struct {
		name, data string
		openErr    bool
		// want is the error's text after the file name; a %d in it is the
		// column of the first "at" in the file's last line.
		want string
		at   string
	}{
		{"bad.save", "# saved\n\n" + saveOK + "-A -t 5 -s 198.18.0.1 -d 198.18.0.2 -p tcp --sport 99999 --dport 2\n",
			false, ":4:%d: invalid port `99999'", "99999"},
		{"flush.save", saveOK + "-F\n", false, ":2:1: a -F line holds no entry", ""},
		{"filter.save", saveOK + "  -D -p udp --dport 53\n", false, ":2:3: the line holds no entry", ""},
		{"mixed.save", saveOK + textOK, false, ":2:1: a conntrack text line in a file of conntrack save lines", ""},
		{"bad.txt", textOK + "udp      17 5 src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2 src=198.18.0.2 dst=198.18.0.1 sport=2 dport=1 mark=x\n",
			false, ":2:%d: invalid mark `x'", "mark=x"},
		{"label.txt", "tcp      6 5 ESTABLISHED src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2 src=198.18.0.2 dst=198.18.0.1 sport=2 dport=1 labels=web,nosuch\n",
			false, ":1:%d: unknown label `nosuch'", "labels="},
		{"events.txt", "    [NEW] tcp      6 120 SYN_SENT src=192.0.2.1\n", true, ":1:5: conntrack event lines", ""},
		{"list.xml", "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n", true, ":1:1: XML is not supported", ""},
		{"junk.txt", "# comment\nhello world\n", true, ":2:1: unrecognised line `hello'", ""},
		{"bad.json", "{\"proto\":\"tcp\",}\n", false, ":1:1: decode json flow", ""},
		{"esc.txt", "# comment\n\x1b[2J\x1b]0;x\x07 world\n", true, ":2:1: unrecognised line `\\x1b[2J\\x1b]0;x\\x07'", ""},
		{"escmark.txt", textOK + "udp      17 5 src=198.18.0.1 dst=198.18.0.2 sport=1 dport=2 src=198.18.0.2 dst=198.18.0.1 sport=2 dport=1 mark=\x1b[31m\n",
			false, ":2:107: invalid mark `\\x1b[31m'", ""},
		{"bad2.json", "{\"src\":\"300.1.1.1\"}\n", false, ":1:1: decode json flow: src", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := writeFile(t, tc.name, tc.data)
			s, err := Open(p, &Options{Labels: map[int]string{1: "web"}})
			if err == nil {
				defer s.Close()
				if tc.openErr {
					t.Fatalf("Open succeeded")
				}
				_, err = s.Scan(context.Background(), engine.TableConntrack, nil, func(*engine.Flow) error { return nil })
			}
			want := tc.want
			if tc.at != "" {
				lines := strings.Split(strings.TrimSuffix(tc.data, "\n"), "\n")
				want = fmt.Sprintf(want, strings.Index(lines[len(lines)-1], tc.at)+1)
			}
			var le *LineError
			if !errors.As(err, &le) || !strings.HasPrefix(err.Error(), p+want) {
				t.Errorf("error %v, want %s%s...", err, p, want)
			}
		})
	}
}

func TestSummaryAndEmpty(t *testing.T) {
	p := writeFile(t, "empty.txt", "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n\n# nothing\n")
	if fs := readAll(t, p, nil); len(fs) != 0 {
		t.Errorf("%d entries in an empty listing", len(fs))
	}
	p = writeFile(t, "crlf.save", "-A -t 5 -u UNSET -s 198.18.0.1 -d 198.18.0.2 -p udp --sport 1 --dport 2\r\n")
	if fs := readAll(t, p, nil); len(fs) != 1 || fs[0].Dport != 2 {
		t.Errorf("CRLF file: %+v", fs)
	}
}

func TestOtherTables(t *testing.T) {
	s, err := Open("testdata/synth.save", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Scan(context.Background(), engine.TableExpect, nil, func(*engine.Flow) error { return nil }); err == nil {
		t.Error("Scan of the expect table succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Scan(ctx, engine.TableConntrack, nil, func(*engine.Flow) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("Scan with a cancelled context: %v", err)
	}
	stop := errors.New("stop")
	n := 0
	if _, err := s.Scan(context.Background(), engine.TableConntrack, nil, func(*engine.Flow) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("yield error: %v after %d entries", err, n)
	}
}

func TestOpenMissing(t *testing.T) {
	if _, err := Open(filepath.Join(t.TempDir(), "nope.save"), nil); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open of a missing file: %v", err)
	}
}

func TestKernelFilter(t *testing.T) {
	s, err := Open("testdata/synth.txt", testOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tests := []struct {
		name   string
		filter engine.KernelFilter
		want   int
	}{
		{"none", engine.KernelFilter{}, 19},
		{"ipv6", engine.KernelFilter{Family: engine.FamilyIPv6}, 4},
		{"mark 7", engine.KernelFilter{Mark: 7, MarkMask: 0xffffffff}, 1},
		{"mark bit 4", engine.KernelFilter{Mark: 16, MarkMask: 16}, 1},
		{"assured", engine.KernelFilter{Status: engine.StatusAssured, StatusMask: engine.StatusAssured}, 3},
		{"unreplied", engine.KernelFilter{Status: 0, StatusMask: engine.StatusSeenReply}, 16},
		{"zone 11", engine.KernelFilter{Zone: 11, ZoneSet: true}, 1},
		{"orig src", engine.KernelFilter{Orig: engine.TupleFilter{Fields: engine.TupleSrc, Src: netip.MustParseAddr("198.18.0.1")}}, 2},
		{"orig tcp dport 80", engine.KernelFilter{Orig: engine.TupleFilter{
			Fields: engine.TupleProto | engine.TupleDport, Proto: 6, Dport: 80}}, 3},
		{"reply sport 8080", engine.KernelFilter{Reply: engine.TupleFilter{Fields: engine.TupleSport, Sport: 8080}}, 2},
		{"reply icmpv6 type", engine.KernelFilter{Reply: engine.TupleFilter{Fields: engine.TupleICMPv6Type, ICMPType: 129}}, 1},
		{"tuple zone ignored", engine.KernelFilter{Orig: engine.TupleFilter{Fields: engine.TupleZone, Zone: 42}}, 19},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := 0
			st, err := s.Scan(context.Background(), engine.TableConntrack, &tc.filter, func(*engine.Flow) error { n++; return nil })
			if err != nil {
				t.Fatal(err)
			}
			if n != tc.want || st.Received != n {
				t.Errorf("%d entries (Received %d), want %d", n, st.Received, tc.want)
			}
			want := tc.filter
			want.Orig.Fields &^= engine.TupleZone
			if st.Pushed != want {
				t.Errorf("Pushed = %+v, want %+v", st.Pushed, want)
			}
		})
	}
}

// TestJSONRoundTrip writes the text entries as ctq JSON lines and reads
// them back.
func TestJSONRoundTrip(t *testing.T) {
	text := readAll(t, "testdata/synth.txt", testOptions())
	var buf []byte
	for i := range text {
		buf = format.AppendJSON(buf, &text[i], &format.Options{Now: func() time.Time { return fixedNow }})
		buf = append(buf, '\n')
	}
	p := writeFile(t, "table.json", "# ctq json\n"+string(buf))
	back := readAll(t, p, testOptions())
	if len(back) != len(text) {
		t.Fatalf("%d entries back, want %d", len(back), len(text))
	}
	for i := range text {
		if common(&back[i]) != common(&text[i]) || back[i].Mark != text[i].Mark || back[i].Packets != text[i].Packets ||
			!back[i].Start.Equal(text[i].Start) {
			t.Errorf("entry %d: json %+v\ntext %+v", i, back[i], text[i])
		}
	}
}

func TestLongLine(t *testing.T) {
	data := textSeeds[0] + "\n" + strings.Repeat("x", maxLine+1) + "\n"
	s := newStream("big", strings.NewReader(data), testOptions())
	n := 0
	_, err := s.Scan(context.Background(), engine.TableConntrack, nil, func(*engine.Flow) error { n++; return nil })
	var le *LineError
	if !errors.As(err, &le) || le.Line != 2 || !strings.Contains(le.Msg, "line longer than") || n != 1 {
		t.Errorf("%d entries, error %v; want 1 entry and a too-long line 2", n, err)
	}
}
