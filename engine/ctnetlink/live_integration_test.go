//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctq/internal/netns"
	"ctq/internal/nstest"

	"ctq/engine"
)

// These tests run against the kernel in a network namespace of their own
// (root required; they fail, not skip, without it).

// mixedTable covers the protocols, families, zones, NAT and states that a
// decoded entry must match conntrack(8) on.
var mixedTable = []string{
	"-I -t 431999 -u SEEN_REPLY,ASSURED -m 42 -s 192.0.2.1 -d 198.51.100.7 -p tcp --sport 42002 --dport 443 --state ESTABLISHED",
	"-I -t 120 -s 192.0.2.2 -d 198.51.100.7 -p tcp --sport 42003 --dport 22 --state SYN_SENT",
	"-I -t 60 -u SEEN_REPLY -s 192.0.2.3 -d 198.51.100.8 -p tcp --sport 42004 --dport 80 --state TIME_WAIT",
	"-I -t 30 -u SEEN_REPLY -m 7 -s 192.0.2.1 -d 198.51.100.53 -p udp --sport 5353 --dport 53",
	"-I -t 30 -s 203.0.113.5 -d 203.0.113.6 -p udplite --sport 4000 --dport 4001",
	"-I -t 30 -s 192.0.2.1 -d 198.51.100.1 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 77",
	"-I -t 30 -s 2001:db8::10 -d 2001:db8::20 -p icmpv6 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 99",
	"-I -t 3599 -u SEEN_REPLY,ASSURED -s 2001:db8::1 -d 2001:db8::2 -p tcp --sport 1000 --dport 443 --state ESTABLISHED",
	"-I -t 50 -s 198.18.0.15 -d 198.18.0.16 -p sctp --sport 3000 --dport 3001 --state ESTABLISHED --orig-vtag 1 --reply-vtag 2",
	"-I -t 50 -s 198.18.0.11 -d 198.18.0.12 -p gre --srckey 5 --dstkey 6",
	"-I -t 50 -s 198.18.0.13 -d 198.18.0.14 -p 50",
	"-I -t 90 -w 11 -s 198.18.0.3 -d 198.18.0.4 -p udp --sport 53000 --dport 53",
	"-I -t 59 --orig-zone 5 -s 198.18.0.19 -d 198.18.0.20 -p tcp --sport 1 --dport 2 --state ESTABLISHED",
	"-I -t 59 --reply-zone 6 -s 198.18.0.21 -d 198.18.0.22 -p tcp --sport 1 --dport 2 --state CLOSE_WAIT",
	"-I -t 290 -s 198.18.0.7 -d 203.0.113.11 -r 192.0.2.80 -q 198.18.0.7 -p tcp --sport 2002 --dport 80" +
		" --reply-port-src 8080 --reply-port-dst 2002 --state ESTABLISHED",
	"-I -t 3599 -s 2001:db8::30 -d 2001:db8::40 -r 2001:db8::50 -q 2001:db8::30 -p tcp --sport 7 --dport 8" +
		" --reply-port-src 9 --reply-port-dst 7 --state ESTABLISHED",
}

func openLive(t *testing.T, cfg *LiveConfig) *Live {
	t.Helper()
	l, err := OpenLive(cfg)
	if err != nil {
		t.Fatalf("OpenLive: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// scanAll collects copies of the entries a scan yields.
func scanAll(t *testing.T, l *Live, table engine.Table, k *engine.KernelFilter) ([]engine.Flow, engine.ScanStats) {
	t.Helper()
	var out []engine.Flow
	st, err := l.Scan(context.Background(), table, k, func(f *engine.Flow) error {
		out = append(out, *f)
		return nil
	})
	if err != nil {
		t.Fatalf("Scan(%v, %+v): %v", table, k, err)
	}
	if st.Received != len(out) || st.Skipped != 0 || st.Interrupted {
		t.Fatalf("Scan(%v): stats %+v for %d entries", table, st, len(out))
	}
	return out, st
}

// ctLine is one line of `conntrack -L -o extended,id,ktimestamp`.
type ctLine struct {
	pos         []string          // l3name l3num l4name l4num timeout [state]
	orig, reply map[string]string // tuple keys
	meta        map[string]string // after the reply tuple
	flags       map[string]bool   // [UNREPLIED] [ASSURED]
	start       string            // [start=...]
}

// ctMetaKeys start the part of a line after the reply tuple (mark= is
// always there in a dump).
var ctMetaKeys = map[string]bool{"mark": true, "secmark": true, "secctx": true, "zone": true,
	"delta-time": true, "helper": true, "use": true, "labels": true}

func parseCTLine(t *testing.T, line string) ctLine {
	t.Helper()
	l := ctLine{orig: map[string]string{}, reply: map[string]string{}, meta: map[string]string{},
		flags: map[string]bool{}}
	if i := strings.Index(line, "[start="); i >= 0 {
		j := strings.IndexByte(line[i:], ']')
		l.start, line = line[i+len("[start="):i+j], line[:i]+line[i+j+1:]
	}
	section := []map[string]string{nil, l.orig, l.reply, l.meta}
	s := 0
	for _, tok := range strings.Fields(line) {
		if strings.HasPrefix(tok, "[") {
			l.flags[strings.Trim(tok, "[]")] = true
			continue
		}
		k, v, ok := strings.Cut(tok, "=")
		switch {
		case !ok:
			l.pos = append(l.pos, tok)
			continue
		case k == "src" && s < 2:
			s++
		case ctMetaKeys[k]:
			s = 3
		}
		if s == 0 {
			t.Fatalf("unexpected token %q in %q", tok, line)
		}
		section[s][k] = v
	}
	if len(l.pos) < 5 {
		t.Fatalf("short line %q", line)
	}
	return l
}

// tupleWant is what conntrack prints for one direction of f.
func tupleWant(f *engine.Flow, reply bool) map[string]string {
	src, dst, sport, dport := f.Src, f.Dst, f.Sport, f.Dport
	typ, code, id := f.ICMPType, f.ICMPCode, f.ICMPID
	zoneKey, zone, hasZone := "zone-orig", f.OrigZone, f.Has&engine.HasOrigZone != 0
	packets, bytes := f.OrigPackets, f.OrigBytes
	if reply {
		src, dst, sport, dport = f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport
		typ, code, id = f.ReplyICMPType, f.ReplyICMPCode, f.ReplyICMPID
		zoneKey, zone, hasZone = "zone-reply", f.ReplyZone, f.Has&engine.HasReplyZone != 0
		packets, bytes = f.ReplyPackets, f.ReplyBytes
	}
	m := map[string]string{"src": src.String(), "dst": dst.String()}
	switch {
	case f.ProtoNum == engine.ProtoGRE:
		m["srckey"], m["dstkey"] = fmt.Sprintf("0x%x", sport), fmt.Sprintf("0x%x", dport)
	case f.ProtoNum == engine.ProtoICMP || f.ProtoNum == engine.ProtoICMPv6:
		m["type"], m["code"], m["id"] = strconv.Itoa(typ), strconv.Itoa(code), strconv.Itoa(id)
	case engine.HasPorts(f.ProtoNum):
		m["sport"], m["dport"] = strconv.Itoa(sport), strconv.Itoa(dport)
	}
	if hasZone {
		m[zoneKey] = strconv.Itoa(zone)
	}
	if f.Has&engine.HasCounters != 0 {
		m["packets"], m["bytes"] = strconv.Itoa(packets), strconv.Itoa(bytes)
	}
	return m
}

// compareWithConntrack checks every field conntrack shows for f. drift is
// the time in seconds between the scan and conntrack's listing.
func compareWithConntrack(t *testing.T, l ctLine, f *engine.Flow, drift int) {
	t.Helper()
	name := fmt.Sprintf("id %d (%s %v)", f.ID, f.Proto, f.Src)
	wantPos := []string{f.Family, strconv.Itoa(f.L3Num()), f.Proto, strconv.Itoa(f.ProtoNum)}
	if !slices.Equal(l.pos[:4], wantPos) {
		t.Errorf("%s: head %v, conntrack %v", name, wantPos, l.pos[:4])
	}
	timeout, _ := strconv.Atoi(l.pos[4])
	if d := f.Timeout - timeout; f.Has&engine.HasTimeout == 0 || d < 0 || d > drift+1 {
		t.Errorf("%s: timeout %d, conntrack %d (drift %ds)", name, f.Timeout, timeout, drift)
	}
	state := ""
	if len(l.pos) > 5 {
		state = l.pos[5]
	}
	if f.State != state || len(l.pos) > 6 {
		t.Errorf("%s: state %q, conntrack %v", name, f.State, l.pos[4:])
	}
	if want := tupleWant(f, false); !maps.Equal(want, l.orig) {
		t.Errorf("%s: original tuple %v, conntrack %v", name, want, l.orig)
	}
	if want := tupleWant(f, true); f.Has&engine.HasReply == 0 || !maps.Equal(want, l.reply) {
		t.Errorf("%s: reply tuple %v, conntrack %v", name, want, l.reply)
	}
	wantFlags := map[string]bool{}
	if !f.SeenReply {
		wantFlags["UNREPLIED"] = true
	}
	if f.Assured {
		wantFlags["ASSURED"] = true
	}
	if !maps.Equal(wantFlags, l.flags) {
		t.Errorf("%s: flags %v, conntrack %v", name, wantFlags, l.flags)
	}
	wantMeta := map[string]string{"mark": strconv.Itoa(f.Mark), "use": strconv.Itoa(f.Use),
		"id": strconv.Itoa(f.ID), "delta-time": l.meta["delta-time"]}
	if f.Zone != 0 {
		wantMeta["zone"] = strconv.Itoa(f.Zone)
	}
	if f.Has&(engine.HasMark|engine.HasUse|engine.HasID) != engine.HasMark|engine.HasUse|engine.HasID || !maps.Equal(wantMeta, l.meta) {
		t.Errorf("%s: %v, conntrack %v", name, wantMeta, l.meta)
	}
	delta, _ := strconv.Atoi(l.meta["delta-time"])
	if d := delta - int(f.Age/time.Second); d < -1 || d > drift+1 {
		t.Errorf("%s: age %v, conntrack delta-time %d", name, f.Age, delta)
	}
	start, err := time.ParseInLocation("Mon Jan _2 15:04:05 2006", l.start, time.Local)
	if err != nil || f.Has&engine.HasStart == 0 || start.Unix() != f.Start.Unix() {
		t.Errorf("%s: start %v, conntrack %q (%v)", name, f.Start, l.start, err)
	}
}

func TestLiveScanMatchesConntrack(t *testing.T) {
	ns := nstest.New(t)
	ns.Load(t, mixedTable)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})

	scanned := time.Now()
	flows, _ := scanAll(t, l, engine.TableConntrack, nil)
	out := ns.Run(t, "conntrack", "-L", "-o", "extended,id,ktimestamp")
	drift := int(math.Ceil(time.Since(scanned).Seconds()))

	byID := map[int]*engine.Flow{}
	for i := range flows {
		byID[flows[i].ID] = &flows[i]
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(flows) != len(mixedTable) || len(lines) != len(mixedTable) || len(byID) != len(flows) {
		t.Fatalf("scanned %d entries (%d ids), conntrack listed %d, loaded %d",
			len(flows), len(byID), len(lines), len(mixedTable))
	}
	for _, line := range lines {
		c := parseCTLine(t, line)
		id, _ := strconv.Atoi(c.meta["id"])
		f := byID[id]
		if f == nil {
			t.Errorf("conntrack lists id %d that the scan did not return: %s", id, line)
			continue
		}
		compareWithConntrack(t, c, f, drift)
	}

	// Spot checks of what conntrack's text does not show.
	for _, f := range flows {
		switch {
		case f.ProtoNum == engine.ProtoSCTP:
			if f.OrigVtag != 1 || f.ReplyVtag != 2 || f.Has&engine.HasVtags == 0 {
				t.Errorf("sctp vtags %d/%d, want 1/2", f.OrigVtag, f.ReplyVtag)
			}
		case f.Src == netip.MustParseAddr("198.18.0.7"):
			if f.ReplySrc != netip.MustParseAddr("192.0.2.80") || f.ReplySport != 8080 {
				t.Errorf("NAT entry: reply %v:%d", f.ReplySrc, f.ReplySport)
			}
		}
	}
}

// pushdownTable has n entries mixing families, protocols, ports, marks,
// zones and statuses.
func pushdownTable(n int) []string {
	lines := make([]string, 0, n)
	for i := range n {
		v6 := i%5 == 0
		var b strings.Builder
		fmt.Fprintf(&b, "-I -t 600 -m %d", i%3)
		if i%2 == 0 {
			b.WriteString(" -u SEEN_REPLY")
		}
		switch {
		case i%7 == 0:
			b.WriteString(" -w 3")
		case i%11 == 0:
			b.WriteString(" --orig-zone 3")
		}
		if v6 {
			fmt.Fprintf(&b, " -s 2001:db8::1:%x -d 2001:db8::2:%x", i, i%3)
		} else {
			fmt.Fprintf(&b, " -s 198.18.%d.%d -d 203.0.113.%d", i/200, i%200+1, i%3+1)
		}
		dport := []int{22, 80, 443, 53}[i/4%4]
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, " -p tcp --sport %d --dport %d --state ESTABLISHED", 1024+i, dport)
		case 1:
			fmt.Fprintf(&b, " -p udp --sport %d --dport %d", 1024+i, dport)
		case 2:
			if v6 {
				fmt.Fprintf(&b, " -p icmpv6 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id %d", i)
			} else {
				fmt.Fprintf(&b, " -p icmp --icmp-type %d --icmp-code 0 --icmp-id %d", []int{8, 13}[i/4%2], i)
			}
		case 3:
			fmt.Fprintf(&b, " -p sctp --sport %d --dport %d --state ESTABLISHED --orig-vtag 1 --reply-vtag 2", 1024+i, dport)
		}
		lines = append(lines, b.String())
	}
	return lines
}

// kernelMatch is the kernel's reading of a pushed filter: exact fields,
// and a zone compared in either direction.
func kernelMatch(k *engine.KernelFilter, f *engine.Flow) bool {
	if k.Family != engine.FamilyUnspec && f.L3Num() != k.Family ||
		k.MarkMask != 0 && uint32(f.Mark)&k.MarkMask != k.Mark ||
		k.StatusMask != 0 && f.Status&k.StatusMask != k.Status {
		return false
	}
	if z := int(k.Zone); k.ZoneSet && f.Zone != z && f.OrigZone != z && f.ReplyZone != z {
		return false
	}
	return tupleMatch(&k.Orig, f.Src, f.Dst, f.ProtoNum, f.Sport, f.Dport, f.ICMPType, f.ICMPCode, f.ICMPID) &&
		tupleMatch(&k.Reply, f.ReplySrc, f.ReplyDst, f.ProtoNum, f.ReplySport, f.ReplyDport,
			f.ReplyICMPType, f.ReplyICMPCode, f.ReplyICMPID)
}

func tupleMatch(t *engine.TupleFilter, src, dst netip.Addr, proto, sport, dport, typ, code, id int) bool {
	fl := t.Fields
	has := func(a, b engine.TupleFields) bool { return fl&(a|b) != 0 }
	return (fl&engine.TupleSrc == 0 || src == t.Src) &&
		(fl&engine.TupleDst == 0 || dst == t.Dst) &&
		(fl&engine.TupleProto == 0 || proto == int(t.Proto)) &&
		(fl&engine.TupleSport == 0 || sport == int(t.Sport)) &&
		(fl&engine.TupleDport == 0 || dport == int(t.Dport)) &&
		(!has(engine.TupleICMPType, engine.TupleICMPv6Type) || typ == int(t.ICMPType)) &&
		(!has(engine.TupleICMPCode, engine.TupleICMPv6Code) || code == int(t.ICMPCode)) &&
		(!has(engine.TupleICMPID, engine.TupleICMPv6ID) || id == int(t.ICMPID))
}

func TestLivePushdown(t *testing.T) {
	const n = 2000
	ns := nstest.New(t)
	ns.Load(t, pushdownTable(n))
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	noPush := openLive(t, &LiveConfig{NetNS: ns.Name(), NoPushdown: true})

	if got, want := l.Support(), supportFromRelease(kernelRelease()); got != want {
		t.Errorf("Support() = %+v, by version %+v", got, want)
	}
	const (
		num   = engine.TupleProto
		sport = engine.TupleSport
		dport = engine.TupleDport
		src   = engine.TupleSrc
	)
	v4src := netip.MustParseAddr("198.18.0.7")
	v6src := netip.MustParseAddr("2001:db8::1:5")
	tests := []struct {
		name   string
		filter engine.KernelFilter
		want   func(f *engine.Flow) bool // the predicate the filter stands for
		pushed engine.KernelFilter
	}{{
		name:   "tcp dport 22",
		filter: engine.KernelFilter{Orig: engine.TupleFilter{Fields: num | dport, Proto: 6, Dport: 22}},
		want:   func(f *engine.Flow) bool { return f.ProtoNum == 6 && f.Dport == 22 },
		pushed: engine.KernelFilter{Orig: engine.TupleFilter{Fields: num | dport, Proto: 6, Dport: 22}},
	}, {
		name:   "mark 2",
		filter: engine.KernelFilter{Mark: 2, MarkMask: math.MaxUint32},
		want:   func(f *engine.Flow) bool { return f.Mark == 2 },
		pushed: engine.KernelFilter{Mark: 2, MarkMask: math.MaxUint32},
	}, {
		name:   "seen reply",
		filter: engine.KernelFilter{Status: engine.StatusSeenReply, StatusMask: engine.StatusSeenReply},
		want:   func(f *engine.Flow) bool { return f.SeenReply },
		pushed: engine.KernelFilter{Status: engine.StatusSeenReply, StatusMask: engine.StatusSeenReply},
	}, {
		name:   "unreplied",
		filter: engine.KernelFilter{StatusMask: engine.StatusSeenReply},
		want:   func(f *engine.Flow) bool { return !f.SeenReply },
		pushed: engine.KernelFilter{StatusMask: engine.StatusSeenReply},
	}, {
		name:   "zone 3",
		filter: engine.KernelFilter{Zone: 3, ZoneSet: true},
		want:   func(f *engine.Flow) bool { return f.Zone == 3 },
		pushed: engine.KernelFilter{Zone: 3, ZoneSet: true},
	}, {
		name:   "ipv6",
		filter: engine.KernelFilter{Family: engine.FamilyIPv6},
		want:   func(f *engine.Flow) bool { return f.Family == "ipv6" },
		pushed: engine.KernelFilter{Family: engine.FamilyIPv6},
	}, {
		name:   "ipv4 source",
		filter: engine.KernelFilter{Orig: engine.TupleFilter{Fields: src, Src: v4src}},
		want:   func(f *engine.Flow) bool { return f.Src == v4src },
		pushed: engine.KernelFilter{Orig: engine.TupleFilter{Fields: src, Src: v4src}},
	}, {
		name:   "ipv6 source (not pushed)",
		filter: engine.KernelFilter{Orig: engine.TupleFilter{Fields: src, Src: v6src}},
		want:   func(f *engine.Flow) bool { return f.Src == v6src },
	}, {
		name: "ipv4 udp dport 53 mark 1",
		filter: engine.KernelFilter{Family: engine.FamilyIPv4, Mark: 1, MarkMask: math.MaxUint32,
			Orig: engine.TupleFilter{Fields: num | dport, Proto: 17, Dport: 53}},
		want: func(f *engine.Flow) bool {
			return f.Family == "ipv4" && f.Mark == 1 && f.ProtoNum == 17 && f.Dport == 53
		},
		pushed: engine.KernelFilter{Family: engine.FamilyIPv4, Mark: 1, MarkMask: math.MaxUint32,
			Orig: engine.TupleFilter{Fields: num | dport, Proto: 17, Dport: 53}},
	}, {
		name:   "reply sport 80",
		filter: engine.KernelFilter{Reply: engine.TupleFilter{Fields: num | sport, Proto: 6, Sport: 80}},
		want:   func(f *engine.Flow) bool { return f.ProtoNum == 6 && f.ReplySport == 80 },
		pushed: engine.KernelFilter{Reply: engine.TupleFilter{Fields: num | sport, Proto: 6, Sport: 80}},
	}, {
		name: "icmp echo request",
		filter: engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{
			Fields: num | engine.TupleICMPType, Proto: 1, ICMPType: 8}},
		want: func(f *engine.Flow) bool { return f.Family == "ipv4" && f.ProtoNum == 1 && f.ICMPType == 8 },
		pushed: engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{
			Fields: num | engine.TupleICMPType, Proto: 1, ICMPType: 8}},
	}, {
		name:   "sctp dport 22 (protocol only)",
		filter: engine.KernelFilter{Orig: engine.TupleFilter{Fields: num | dport, Proto: 132, Dport: 22}},
		want:   func(f *engine.Flow) bool { return f.ProtoNum == 132 && f.Dport == 22 },
		pushed: engine.KernelFilter{Orig: engine.TupleFilter{Fields: num, Proto: 132}},
	}}

	all, st := scanAll(t, noPush, engine.TableConntrack, &tests[8].filter)
	if len(all) != n || !st.Pushed.Empty() {
		t.Fatalf("NoPushdown scan: %d entries (want %d), pushed %+v", len(all), n, st.Pushed)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, st := scanAll(t, l, engine.TableConntrack, &tt.filter)
			if st.Pushed != tt.pushed {
				t.Errorf("Pushed = %+v\n want %+v", st.Pushed, tt.pushed)
			}
			want := map[int]bool{}
			for i := range all {
				if tt.want(&all[i]) {
					want[all[i].ID] = true
				}
			}
			matched := map[int]bool{}
			for i := range got {
				f := &got[i]
				if !kernelMatch(&st.Pushed, f) {
					t.Errorf("the kernel returned an entry outside the pushed filter: %+v", f)
				}
				if tt.want(f) {
					matched[f.ID] = true
				}
			}
			if !maps.Equal(matched, want) {
				t.Errorf("with pushdown %d entries match, without %d", len(matched), len(want))
			}
			if len(want) == 0 || (!st.Pushed.Empty() && len(got) >= n) {
				t.Errorf("test table does not exercise the filter: %d returned, %d match", len(got), len(want))
			}
		})
	}
}

func TestLiveGet(t *testing.T) {
	ns := nstest.New(t)
	ns.Load(t, mixedTable)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	flows, _ := scanAll(t, l, engine.TableConntrack, nil)
	ctx := context.Background()
	for _, f := range flows {
		key := engine.Flow{Family: f.Family, ProtoNum: f.ProtoNum, Src: f.Src, Dst: f.Dst, Sport: f.Sport,
			Dport: f.Dport, ICMPType: f.ICMPType, ICMPCode: f.ICMPCode, ICMPID: f.ICMPID,
			Zone: f.Zone, OrigZone: f.OrigZone}
		got, err := l.Get(ctx, &key)
		if err != nil {
			t.Errorf("Get(%s %v→%v zone %d/%d): %v", f.Proto, f.Src, f.Dst, f.Zone, f.OrigZone, err)
			continue
		}
		if got.ID != f.ID || got.ReplySrc != f.ReplySrc || got.Use < 1 {
			t.Errorf("Get(%s %v→%v) = id %d reply %v, want id %d reply %v",
				f.Proto, f.Src, f.Dst, got.ID, got.ReplySrc, f.ID, f.ReplySrc)
		}
		// The same tuple in another zone, or with another port, is not there.
		missing := key
		missing.Zone, missing.OrigZone = f.Zone+f.OrigZone+1, 0
		if _, err := l.Get(ctx, &missing); !errors.Is(err, engine.ErrNotFound) {
			t.Errorf("Get(%s %v→%v in zone %d) = %v, want ErrNotFound", f.Proto, f.Src, f.Dst, missing.Zone, err)
		}
	}
	key := engine.Flow{ProtoNum: 6, Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.7"),
		Sport: 42002, Dport: 444}
	if _, err := l.Get(ctx, &key); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("Get(missing) = %v, want ErrNotFound", err)
	}
	if _, err := l.Get(ctx, &engine.Flow{}); err == nil {
		t.Error("Get(empty key) succeeded")
	}
}

func TestLiveCount(t *testing.T) {
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNSPath: filepath.Join(netns.Dir, ns.Name())})
	ctx := context.Background()
	if n, err := l.Count(ctx); err != nil || n != 0 {
		t.Fatalf("Count(empty) = %d, %v", n, err)
	}
	ns.Load(t, mixedTable)
	n, err := l.Count(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c, err := strconv.Atoi(strings.TrimSpace(ns.Run(t, "conntrack", "-C")))
	if err != nil || n != c || n != len(mixedTable) {
		t.Errorf("Count = %d, conntrack -C = %d (%v), loaded %d", n, c, err, len(mixedTable))
	}
}

func TestLiveCancel(t *testing.T) {
	ns := nstest.New(t)
	ns.Load(t, mixedTable)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls := 0
	count := func(*engine.Flow) error { calls++; return nil }
	if _, err := l.Scan(ctx, engine.TableConntrack, nil, count); !errors.Is(err, context.Canceled) || calls != 0 {
		t.Errorf("Scan(cancelled) = %v after %d entries", err, calls)
	}

	// Cancelled while entries are arriving: no entry after the cancel.
	ctx, cancel = context.WithCancel(context.Background())
	calls = 0
	_, err := l.Scan(ctx, engine.TableConntrack, nil, func(*engine.Flow) error { calls++; cancel(); return nil })
	if !errors.Is(err, context.Canceled) || calls != 1 || !strings.HasPrefix(err.Error(), "dump conntrack: ") {
		t.Errorf("Scan cancelled in yield = %v after %d entries", err, calls)
	}

	// A callback error stops the scan and comes back as is.
	stop := errors.New("enough")
	calls = 0
	st, err := l.Scan(context.Background(), engine.TableConntrack, nil, func(*engine.Flow) error { calls++; return stop })
	if err != stop || calls != 1 || st.Received != 1 {
		t.Errorf("Scan stopped by yield = %v after %d entries (%+v)", err, calls, st)
	}

	// The source is still usable afterwards.
	if flows, _ := scanAll(t, l, engine.TableConntrack, nil); len(flows) != len(mixedTable) {
		t.Errorf("scan after interruptions: %d entries, want %d", len(flows), len(mixedTable))
	}

	// An expired context stops a request.
	ctx, cancel = context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := l.Count(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Count(expired) = %v", err)
	}

	// Close interrupts a scan in flight.
	calls = 0
	_, err = l.Scan(context.Background(), engine.TableConntrack, nil, func(*engine.Flow) error { calls++; l.Close(); return nil })
	if !errors.Is(err, errClosed) || calls != 1 {
		t.Errorf("Scan closed in yield = %v after %d entries", err, calls)
	}
	if _, err := l.Count(context.Background()); !errors.Is(err, errClosed) {
		t.Errorf("Count after Close = %v", err)
	}
}

func TestLiveOtherTables(t *testing.T) {
	ns := nstest.New(t)
	ns.Load(t, mixedTable)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	for _, table := range []engine.Table{engine.TableDying, engine.TableUnconfirmed} {
		scanAll(t, l, table, nil)
		_, st := scanAll(t, l, table, &engine.KernelFilter{Family: engine.FamilyIPv4, MarkMask: 1})
		if want := (engine.KernelFilter{Family: engine.FamilyIPv4}); st.Pushed != want {
			t.Errorf("%v: pushed %+v, want %+v", table, st.Pushed, want)
		}
	}
	if _, err := l.Scan(context.Background(), engine.TableExpect, nil, func(*engine.Flow) error { return nil }); !errors.Is(err, errExpectLater) {
		t.Errorf("Scan(expect) = %v", err)
	}
}

// BenchmarkLiveScan dumps a table of 100k TCP entries per iteration, whole
// and with a pushed filter that matches nothing (tcp dport 22, one dump per
// family).
func BenchmarkLiveScan(b *testing.B) {
	const n = 100_000
	ns := nstest.New(b)
	lines := make([]string, n)
	for i := range lines {
		lines[i] = fmt.Sprintf("-I -t 600 -u SEEN_REPLY,ASSURED -s 198.18.%d.%d -d 198.19.%d.1 -p tcp --sport %d --dport 443 --state ESTABLISHED",
			i/250%256, i%250+1, i/250/256, 1024+i%60000)
	}
	ns.Load(b, lines)
	l, err := OpenLive(&LiveConfig{NetNS: ns.Name()})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	for _, bc := range []struct {
		name   string
		filter *engine.KernelFilter
		want   int
	}{
		{"all", nil, n},
		{"tcp-dport-22", &engine.KernelFilter{Orig: engine.TupleFilter{
			Fields: engine.TupleProto | engine.TupleDport, Proto: 6, Dport: 22}}, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				st, err := l.Scan(context.Background(), engine.TableConntrack, bc.filter, func(*engine.Flow) error { return nil })
				if err != nil || st.Received != bc.want {
					b.Fatalf("scan: %v, %+v", err, st)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/entry")
		})
	}
}
