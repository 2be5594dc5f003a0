//go:build linux

package ctnetlink

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"ctq/internal/nstest"

	"ctq/engine"
)

// natTable holds entries conntrack(8) creates with NAT set up, and some
// without: source and destination NAT, both, with and without port (ICMP
// ID) translation, in both families.
var natTable = []string{
	"-I -t 300 -s 192.0.2.1 -d 198.51.100.7 -p tcp --sport 40000 --dport 443 --state ESTABLISHED --src-nat 203.0.113.5",
	"-I -t 300 -s 192.0.2.1 -d 198.51.100.7 -p tcp --sport 40001 --dport 443 --state ESTABLISHED --src-nat 203.0.113.5:61001",
	"-I -t 300 -s 192.0.2.2 -d 198.51.100.8 -p udp --sport 5000 --dport 53 --dst-nat 192.0.2.53",
	"-I -t 300 -u SEEN_REPLY,ASSURED -s 192.0.2.3 -d 198.51.100.9 -p tcp --sport 40002 --dport 80 --state ESTABLISHED --dst-nat 192.0.2.80:8080",
	"-I -t 300 -s 192.0.2.4 -d 198.51.100.10 -p tcp --sport 40003 --dport 80 --state ESTABLISHED --src-nat 203.0.113.6:61002 --dst-nat 192.0.2.81:8081",
	"-I -t 300 -s 192.0.2.5 -d 198.51.100.11 -p sctp --sport 3000 --dport 3001 --state ESTABLISHED --orig-vtag 1 --reply-vtag 2 --src-nat 203.0.113.7:3999",
	"-I -t 300 -s 192.0.2.6 -d 198.51.100.12 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 77 --src-nat 203.0.113.8",
	"-I -t 300 -s 192.0.2.7 -d 198.51.100.13 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 78 --src-nat 203.0.113.8:4242",
	"-I -t 300 -s 2001:db8::1 -d 2001:db8:1::7 -p tcp --sport 40000 --dport 443 --state ESTABLISHED --src-nat 2001:db8:2::5",
	"-I -t 300 -s 2001:db8::2 -d 2001:db8:1::8 -p udp --sport 5000 --dport 53 --dst-nat [2001:db8:3::53]:5353",
	"-I -t 300 -s 2001:db8::3 -d 2001:db8:1::9 -p tcp --sport 40001 --dport 80 --state ESTABLISHED --src-nat [2001:db8:2::6]:61003 --dst-nat [2001:db8:3::80]:8080",
	"-I -t 300 -s 2001:db8::4 -d 2001:db8:1::10 -p icmpv6 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 9 --dst-nat 2001:db8:3::10",
	// Without NAT, with a plain and with an explicit reply tuple.
	"-I -t 300 -s 192.0.2.8 -d 198.51.100.14 -p tcp --sport 40004 --dport 22 --state ESTABLISHED",
	"-I -t 300 -s 2001:db8::5 -d 2001:db8:1::11 -r 2001:db8:1::11 -q 2001:db8::5 -p udp --sport 7 --dport 8" +
		" --reply-port-src 8 --reply-port-dst 7",
}

// TestCreateNATMatchesConntrack reads entries conntrack(8) created with
// NAT in one namespace and creates them with a batch in another, as a
// failover does: both tables must list alike, and the entries must carry
// the same status, the NAT bits (IPS_SRC_NAT, IPS_DST_NAT and their DONE
// bits) included.
func TestCreateNATMatchesConntrack(t *testing.T) {
	src, dst := nstest.New(t), nstest.New(t)
	for _, line := range natTable {
		src.Run(t, "conntrack", strings.Fields(line)...)
	}
	from := openLive(t, &LiveConfig{NetNS: src.Name()})
	to := openLive(t, &LiveConfig{NetNS: dst.Name()})
	flows, _ := scanAll(t, from, engine.TableConntrack, nil)
	if len(flows) != len(natTable) {
		t.Fatalf("%d entries from %d conntrack lines", len(flows), len(natTable))
	}
	nat := 0
	for i := range flows {
		if flows[i].Status&(engine.StatusSrcNAT|engine.StatusDstNAT) != 0 {
			nat++
		}
	}
	if nat != len(natTable)-2 {
		t.Fatalf("conntrack set up NAT on %d entries, want %d", nat, len(natTable)-2)
	}
	st := mutate(t, to, func(b engine.Batch) error {
		for i := range flows {
			if err := b.Create(&flows[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if !statsEqual(st, engine.BatchStats{Done: len(flows)}) {
		t.Fatalf("create: %+v, want %d done", st, len(flows))
	}
	for _, args := range [][]string{nil, {"--src-nat"}, {"--dst-nat"}, {"--any-nat"}} {
		want, got := listMasked(t, src, args...), listMasked(t, dst, args...)
		if !slices.Equal(got, want) {
			t.Errorf("conntrack -L %s:\n got %s\nwant %s", strings.Join(args, " "),
				strings.Join(got, "\n     "), strings.Join(want, "\n     "))
		}
	}
	created, _ := scanAll(t, to, engine.TableConntrack, nil)
	status := map[string]engine.Status{}
	for i := range created {
		status[tupleKey(&created[i])] = created[i].Status
	}
	for i := range flows {
		f := &flows[i]
		k := tupleKey(f)
		got, ok := status[k]
		switch {
		case !ok:
			t.Errorf("%s: not created", k)
		case got != f.Status:
			t.Errorf("%s: status %#x (%v), want %#x (%v)", k, uint32(got), got, uint32(f.Status), f.Status)
		}
	}
}

// TestCreateNATStatus creates translated entries that ctq builds itself
// (as a sync node receives them) and checks the NAT bits the kernel sets:
// the translation of a port alone or an ICMP ID alone is NAT as well.
func TestCreateNATStatus(t *testing.T) {
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	base := tcpFlow()
	base.Timeout, base.Has = 120, engine.HasTimeout|engine.HasReply
	base.SetState(3)
	inverse := func(f engine.Flow) engine.Flow {
		f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport = f.Dst, f.Src, f.Dport, f.Sport
		return f
	}
	const (
		snat = engine.StatusSrcNAT | engine.StatusSrcNATDone | engine.StatusDstNATDone
		dnat = engine.StatusDstNAT | engine.StatusSrcNATDone | engine.StatusDstNATDone
	)
	tests := []struct {
		name   string
		change func(f *engine.Flow)
		want   engine.Status
	}{
		{"no nat", func(f *engine.Flow) {}, 0},
		{"source port only", func(f *engine.Flow) { f.ReplyDport = 61000 }, snat},
		{"destination port only", func(f *engine.Flow) { f.ReplySport = 8443 }, dnat},
		{"both", func(f *engine.Flow) {
			f.ReplySrc, f.ReplyDst = netip.MustParseAddr("192.0.2.99"), netip.MustParseAddr("203.0.113.99")
		}, snat | dnat},
		{"icmp id", func(f *engine.Flow) {
			f.SetProto(engine.ProtoICMP)
			f.Has &^= engine.HasState
			f.State, f.StateNum = "", 0
			f.Sport, f.Dport, f.ReplySport, f.ReplyDport = 0, 0, 0, 0
			f.ICMPType, f.ICMPID, f.ReplyICMPID = 8, 5, 6
		}, snat},
	}
	flows := make([]engine.Flow, len(tests))
	for i, tt := range tests {
		f := inverse(base)
		f.Sport += i
		f.ReplyDport += i
		tt.change(&f)
		flows[i] = f
	}
	st := mutate(t, l, func(b engine.Batch) error {
		for i := range flows {
			if err := b.Create(&flows[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if !statsEqual(st, engine.BatchStats{Done: len(flows)}) {
		t.Fatalf("create: %+v", st)
	}
	all, _ := scanAll(t, l, engine.TableConntrack, nil)
	byKey := map[string]*engine.Flow{}
	for i := range all {
		byKey[tupleKey(&all[i])] = &all[i]
	}
	const natBits = engine.StatusSrcNAT | engine.StatusDstNAT | engine.StatusSrcNATDone | engine.StatusDstNATDone
	for i, tt := range tests {
		want := &flows[i]
		got := byKey[tupleKey(want)]
		if got == nil {
			t.Errorf("%s: not created", tt.name)
			continue
		}
		if got.Status&natBits != tt.want {
			t.Errorf("%s: NAT status %#x, want %#x", tt.name, uint32(got.Status&natBits), uint32(tt.want))
		}
		gotReply := fmt.Sprint(got.ReplySrc, got.ReplyDst, got.ReplySport, got.ReplyDport, got.ReplyICMPID)
		wantReply := fmt.Sprint(want.ReplySrc, want.ReplyDst, want.ReplySport, want.ReplyDport, want.ReplyICMPID)
		if gotReply != wantReply {
			t.Errorf("%s: reply tuple %s, want %s", tt.name, gotReply, wantReply)
		}
	}
}

// tupleKey names an entry by its original tuple and zone, not its ID.
func tupleKey(f *engine.Flow) string {
	k := keyOf(f)
	k.hasID = false
	return k.String()
}
