//go:build linux

package snapshot

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"ctq/engine"
	"ctq/internal/nstest"
)

// liveTable is a mixed table loaded into a fresh namespace: every protocol
// with a tracker, both families, zones, NAT and status flags.
var liveTable = []string{
	"-I -s 198.18.7.1 -d 198.18.7.2 -p tcp --sport 1001 --dport 80 --state ESTABLISHED -t 600 -u SEEN_REPLY,ASSURED",
	"-I -s 198.18.7.3 -d 198.18.7.4 -p udp --sport 53000 --dport 53 -t 600 -w 11 -m 7",
	"-I -s 198.18.7.5 -d 203.0.113.10 -p tcp --sport 2000 --dport 443 --state ESTABLISHED -t 600 --src-nat 198.51.100.77",
	"-I -s 198.18.7.6 -d 203.0.113.11 -p tcp --sport 2002 --dport 80 --state ESTABLISHED -t 600 --dst-nat 192.0.2.80:8080",
	"-I -s 198.18.7.7 -d 198.18.7.8 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 77 -t 600",
	"-I -s 2001:db8::10 -d 2001:db8::20 -p icmpv6 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 99 -t 600",
	"-I -s 2001:db8::10 -d 2001:db8::20 -p udp --sport 5000 --dport 5001 -t 600 -u SEEN_REPLY",
	"-I -s 2001:db8::30 -d 2001:db8::40 -p tcp --sport 7 --dport 8 --state ESTABLISHED -t 600 --dst-nat [2001:db8::50]:9",
	"-I -s 198.18.7.9 -d 198.18.7.10 -p gre --srckey 5 --dstkey 6 -t 600",
	"-I -s 198.18.7.11 -d 198.18.7.12 -p 50 -t 600",
	"-I -s 198.18.7.13 -d 198.18.7.14 -p sctp --sport 3000 --dport 3001 --state ESTABLISHED --orig-vtag 1 --reply-vtag 2 -t 600",
	"-I -s 198.18.7.15 -d 198.18.7.16 -p udplite --sport 4000 --dport 4001 -t 600",
	"-I -s 198.18.7.17 -d 198.18.7.18 -p tcp --sport 1 --dport 2 --state ESTABLISHED -t 600 --orig-zone 5",
	"-I -s 198.18.7.19 -d 198.18.7.20 -p tcp --sport 1 --dport 2 --state TIME_WAIT -t 600 -u FIXED_TIMEOUT",
}

// origKey identifies an entry by its original tuple and zones.
func origKey(f *engine.Flow) string {
	return fmt.Sprintf("%d %v %v %d %d %d %d %d %d %d", f.ProtoNum, f.Src, f.Dst, f.Sport, f.Dport,
		f.ICMPType, f.ICMPCode, f.ICMPID, f.Zone, f.OrigZone)
}

// TestLiveSaveAndExtendedAgree loads a table into a namespace, saves it with
// conntrack -L -o save and -o extended, and checks that both snapshots
// decode every field both formats carry the same way.
func TestLiveSaveAndExtendedAgree(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	ns := nstest.New(t)
	ns.Load(t, liveTable)
	dir := t.TempDir()
	paths := map[string]string{}
	for _, format := range []string{"save", "extended"} {
		out := ns.Run(t, "conntrack", "-L", "-o", format)
		paths[format] = filepath.Join(dir, "table."+format)
		if err := os.WriteFile(paths[format], []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	save := readAll(t, paths["save"], nil)
	ext := readAll(t, paths["extended"], nil)
	if len(save) != len(liveTable) || len(ext) != len(liveTable) {
		t.Fatalf("entries: save %d, extended %d, loaded %d", len(save), len(ext), len(liveTable))
	}
	byKey := map[string]*engine.Flow{}
	for i := range ext {
		byKey[origKey(&ext[i])] = &ext[i]
	}
	for i := range save {
		s := &save[i]
		e, ok := byKey[origKey(s)]
		if !ok {
			t.Errorf("save entry %s not in the extended listing", origKey(s))
			continue
		}
		if cs, ce := common(s), common(e); cs != ce {
			t.Errorf("entry %s:\nsave     %+v\nextended %+v", origKey(s), cs, ce)
		}
		if d := s.Timeout - e.Timeout; d < -2 || d > 2 {
			t.Errorf("entry %s: timeout %d in save, %d in extended", origKey(s), s.Timeout, e.Timeout)
		}
		if e.Has&(engine.HasMark|engine.HasUse|engine.HasCounters|engine.HasStart) != engine.HasMark|engine.HasUse|engine.HasCounters|engine.HasStart {
			t.Errorf("extended entry %s lacks mark, use, counters or delta-time: has %b", origKey(e), e.Has)
		}
	}

	// Spot checks of what was loaded.
	s, err := Open(paths["extended"], nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	key := engine.Flow{ProtoNum: engine.ProtoUDP, Src: ext[0].Src, Dst: ext[0].Dst}
	for i := range ext {
		if ext[i].Zone == 11 {
			key = ext[i]
		}
	}
	got, err := s.Get(context.Background(), &key)
	switch {
	case err != nil:
		t.Errorf("Get of the zone 11 entry: %v", err)
	case got.Mark != 7 || got.Dport != 53 || got.Zone != 11:
		t.Errorf("zone 11 entry: mark %d dport %d zone %d", got.Mark, got.Dport, got.Zone)
	}
	var snat, dnat, assured, fixed int
	for i := range save {
		f := &save[i]
		if f.SNAT {
			snat++
		}
		if f.DNAT {
			dnat++
		}
		if f.Assured {
			assured++
		}
		if f.Status&engine.StatusFixedTimeout != 0 {
			fixed++
		}
	}
	if snat != 1 || dnat != 2 || assured != 1 || fixed != 1 {
		t.Errorf("save snapshot: %d SNAT, %d DNAT, %d assured, %d fixed-timeout entries; want 1, 2, 1, 1", snat, dnat, assured, fixed)
	}
}
