package snapshot

import (
	"context"
	"errors"
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"ctq/engine"
)

// textSeeds are text lines of every shape the parser knows.
var textSeeds = []string{
	"tcp      6 431972 ESTABLISHED src=192.0.2.1 dst=192.0.2.1 sport=42002 dport=80 packets=7 bytes=672 src=192.0.2.1 dst=192.0.2.1 sport=8080 dport=42002 packets=5 bytes=568 [ASSURED] mark=0 delta-time=28 use=1",
	"icmpv6   58 50 src=2001:db8::10 dst=2001:db8::20 type=128 code=0 id=99 packets=0 bytes=0 [UNREPLIED] src=2001:db8::20 dst=2001:db8::10 type=129 code=0 id=99 packets=0 bytes=0 mark=0 delta-time=10 use=1",
	"tcp      6 59 ESTABLISHED src=198.18.0.19 dst=198.18.0.20 sport=1 dport=2 zone-orig=5 packets=0 bytes=0 [UNREPLIED] src=198.18.0.20 dst=198.18.0.19 sport=2 dport=1 packets=0 bytes=0 mark=0 delta-time=0 use=1",
	"gre      47 50 src=198.18.0.11 dst=198.18.0.12 srckey=0x5 dstkey=0x6 packets=0 bytes=0 [UNREPLIED] src=198.18.0.12 dst=198.18.0.11 srckey=0x6 dstkey=0x5 packets=0 bytes=0 mark=0 delta-time=10 use=1",
	"unknown  50 50 src=198.18.0.13 dst=198.18.0.14 packets=0 bytes=0 [UNREPLIED] src=198.18.0.14 dst=198.18.0.13 packets=0 bytes=0 mark=0 zone=3 delta-time=10 use=1",
	"ipv4     2 udp      17 1 src=192.0.2.1 dst=192.0.2.1 sport=42005 dport=5001 packets=2 bytes=156 src=192.0.2.1 dst=192.0.2.1 sport=5001 dport=42005 packets=2 bytes=156 mark=42 delta-time=29 [start=Sun Nov 22 23:25:33 2026] use=1 id=4187866889",
	"ipv6     10 udp      17 7 src=2001:db8::5 dst=2001:db8::6 sport=1 dport=2 src=2001:db8::6 dst=2001:db8::5 sport=2 dport=1 zone-reply=4 [HW_OFFLOAD] mark=1 secmark=12 secctx=x [stop=Sun Nov  2 03:04:12 2026] helper=ftp labels=web",
}

// FuzzTextLine checks that the text-line decoder never panics, reports
// errors at a column of the line, and only accepts consistent entries.
func FuzzTextLine(f *testing.F) {
	for _, s := range textSeeds {
		f.Add(s)
	}
	labelBit := func(name string) (int, error) {
		if name == "web" {
			return 1, nil
		}
		return 0, errors.New("unknown label")
	}
	f.Fuzz(func(t *testing.T, line string) {
		var fl engine.Flow
		err := decodeText(line, &fl, fixedNow, labelBit)
		if err != nil {
			var pe *posError
			if !errors.As(err, &pe) || pe.col < 1 || pe.col > len(line)+1 {
				t.Fatalf("decodeText(%q): error %v without a column in the line", line, err)
			}
			return
		}
		checkFlow(t, line, &fl)
	})
}

// checkFlow checks the invariants of a decoded entry.
func checkFlow(t *testing.T, line string, f *engine.Flow) {
	t.Helper()
	if f.Family != "ipv4" && f.Family != "ipv6" {
		t.Fatalf("%q: family %q", line, f.Family)
	}
	for _, a := range []struct{ ok, v4 bool }{
		{f.Src.IsValid(), f.Src.Is4()}, {f.Dst.IsValid(), f.Dst.Is4()},
		{f.ReplySrc.IsValid(), f.ReplySrc.Is4()}, {f.ReplyDst.IsValid(), f.ReplyDst.Is4()},
	} {
		if !a.ok || a.v4 != (f.Family == "ipv4") {
			t.Fatalf("%q: addresses do not match family %s", line, f.Family)
		}
	}
	if f.Proto != engine.ProtoName(f.ProtoNum) || f.ProtoNum < 0 || f.ProtoNum > 255 {
		t.Fatalf("%q: protocol %q/%d", line, f.Proto, f.ProtoNum)
	}
	for _, v := range []int{f.Sport, f.Dport, f.ReplySport, f.ReplyDport, f.ICMPID, f.ReplyICMPID, f.Zone, f.OrigZone, f.ReplyZone} {
		if v < 0 || v > math.MaxUint16 {
			t.Fatalf("%q: 16-bit value %d out of range", line, v)
		}
	}
	if f.Has&engine.HasStatus == 0 || !f.Confirmed || f.Has&engine.HasReply == 0 {
		t.Fatalf("%q: status %v has %b", line, f.Status, f.Has)
	}
	if f.Has&engine.HasCounters != 0 && (f.Packets != f.OrigPackets+f.ReplyPackets || f.Packets < 0) {
		t.Fatalf("%q: counters %d = %d + %d", line, f.Packets, f.OrigPackets, f.ReplyPackets)
	}
}

// FuzzSnapshot feeds whole small files through Scan (read as a stream,
// the way standard input is read): no panic, every error is a *LineError,
// and every entry yielded satisfies checkFlow.
func FuzzSnapshot(f *testing.F) {
	f.Add(strings.Join(textSeeds, "\n"))
	f.Add("conntrack v1.4.7 (conntrack-tools): 2 flow entries have been shown.\n# c\n\n" + textSeeds[0] + "\r\n" + textSeeds[5])
	f.Add("-A -t 5 -u SEEN_REPLY -s 198.18.0.1 -d 198.18.0.2 -p udp --sport 1 --dport 2\n-D -t 1 -u UNSET -s 2001:db8::1 -d 2001:db8::2 -p icmpv6 --icmpv6-type 128 --icmpv6-code 0\n")
	f.Add(`{"family":"ipv4","proto":"udp","protonum":17,"src":"198.18.0.1","dst":"198.18.0.2","sport":1,"dport":2}` + "\n")
	f.Add("-A -t 5 -s 198.18.0.1 -d 198.18.0.2 -p tcp --sport 1 --dport 2\n" + textSeeds[1])
	f.Add(`{"family":"ipv4","proto":"tcp","sport":99999}` + "\n" + `{"proto":"udp","src":"2001:db8::1","mark":4294967297}` + "\n{}\n")
	f.Add(`{"protonum":6,"dst":"192.0.2.1","zone":65535,"timeout":4294967295}` + "\n")
	f.Fuzz(func(t *testing.T, data string) {
		s := newStream("fuzz", strings.NewReader(data), &Options{Now: func() time.Time { return fixedNow }, Labels: map[int]string{1: "web"}})
		_, err := s.Scan(context.Background(), engine.TableConntrack, nil, func(fl *engine.Flow) error {
			if s.format != formatJSON {
				checkFlow(t, data, fl)
			} else {
				checkJSONFlow(t, data, fl)
			}
			return nil
		})
		var le *LineError
		if err != nil && !errors.As(err, &le) {
			t.Fatalf("Scan: %v is not a *LineError", err)
		}
	})
}

// checkJSONFlow checks the invariants of an entry read from ctq JSON, which
// may leave out what the text and save formats always have (addresses,
// status, the reply tuple).
func checkJSONFlow(t *testing.T, data string, f *engine.Flow) {
	t.Helper()
	if f.Family != "ipv4" && f.Family != "ipv6" {
		t.Fatalf("%q: family %q", data, f.Family)
	}
	for _, a := range []netip.Addr{f.Src, f.Dst, f.ReplySrc, f.ReplyDst} {
		if a.IsValid() && a.Is4() != (f.Family == "ipv4") {
			t.Fatalf("%q: address %v does not match family %s", data, a, f.Family)
		}
	}
	if f.Proto != engine.ProtoName(f.ProtoNum) || f.ProtoNum < 0 || f.ProtoNum > 255 {
		t.Fatalf("%q: protocol %q/%d", data, f.Proto, f.ProtoNum)
	}
	for _, v := range []int{f.Sport, f.Dport, f.ReplySport, f.ReplyDport, f.ICMPID, f.ReplyICMPID, f.Zone, f.OrigZone, f.ReplyZone} {
		if v < 0 || v > math.MaxUint16 {
			t.Fatalf("%q: 16-bit value %d out of range", data, v)
		}
	}
	for _, v := range []int{f.Mark, f.Secmark, f.Timeout, f.ID, f.Use, f.OrigVtag, f.ReplyVtag} {
		if v < 0 || v > math.MaxUint32 {
			t.Fatalf("%q: 32-bit value %d out of range", data, v)
		}
	}
}
