//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"

	"ctq/engine"
)

// These tests change the conntrack table of network namespaces of their
// own (root required; they fail, not skip, without it), with conntrack(8)
// as the oracle.

// deleteTable is mixedTable with more TCP entries to port 22 in every
// state, family and zone.
var deleteTable = append(slices.Clone(mixedTable),
	"-I -t 300 -u SEEN_REPLY,ASSURED -s 192.0.2.10 -d 198.51.100.22 -p tcp --sport 40000 --dport 22 --state ESTABLISHED",
	"-I -t 300 -s 192.0.2.11 -d 198.51.100.22 -p tcp --sport 40001 --dport 22 --state ESTABLISHED",
	"-I -t 300 -w 4 -s 192.0.2.12 -d 198.51.100.22 -p tcp --sport 40002 --dport 22 --state ESTABLISHED",
	"-I -t 300 --orig-zone 9 -s 192.0.2.13 -d 198.51.100.22 -p tcp --sport 40003 --dport 22 --state ESTABLISHED",
	"-I -t 300 -s 2001:db8::22 -d 2001:db8::23 -p tcp --sport 40004 --dport 22 --state ESTABLISHED",
	"-I -t 300 -s 192.0.2.14 -d 198.51.100.22 -p tcp --sport 40005 --dport 22 --state FIN_WAIT",
	"-I -t 300 -s 192.0.2.15 -d 198.51.100.22 -p udp --sport 40006 --dport 22",
	"-I -t 300 -s 192.0.2.16 -d 198.51.100.22 -p tcp --sport 22 --dport 40007 --state ESTABLISHED",
)

// ctTimeout and ctDelta are what differs between two namespaces loaded
// with the same lines: the seconds left and the seconds since creation.
var (
	ctTimeout = regexp.MustCompile(`^(\S+\s+\d+\s+)\d+ `)
	ctDelta   = regexp.MustCompile(` delta-time=\d+`)
)

// listMasked is `conntrack -L` in ns, timeouts and ages masked, sorted.
func listMasked(t *testing.T, ns *nstest.NS, args ...string) []string {
	t.Helper()
	out := strings.TrimSpace(ns.Run(t, "conntrack", append([]string{"-L"}, args...)...))
	if out == "" {
		return nil
	}
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		l = ctTimeout.ReplaceAllString(l, "${1}T ")
		lines[i] = ctDelta.ReplaceAllString(l, "")
	}
	slices.Sort(lines)
	return lines
}

// ctCount is `conntrack -C` in ns.
func ctCount(t *testing.T, ns *nstest.NS) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSpace(ns.Run(t, "conntrack", "-C")))
	if err != nil {
		t.Fatalf("conntrack -C: %v", err)
	}
	return n
}

// mutate runs one batch: queue is called with it, then it is closed.
func mutate(t *testing.T, l *Live, queue func(b engine.Batch) error) engine.BatchStats {
	t.Helper()
	b, err := l.NewBatch(context.Background())
	if err != nil {
		t.Fatalf("NewBatch: %v", err)
	}
	qerr := queue(b)
	st, err := b.Close()
	if qerr != nil || err != nil {
		t.Fatalf("batch: queue: %v, close: %v (%+v)", qerr, err, st)
	}
	return st
}

// deleteAll deletes flows in one batch.
func deleteAll(t *testing.T, l *Live, flows []engine.Flow) engine.BatchStats {
	t.Helper()
	return mutate(t, l, func(b engine.Batch) error {
		for i := range flows {
			if err := b.Delete(&flows[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestBatchDeleteMatchesConntrack(t *testing.T) {
	a, b := nstest.New(t), nstest.New(t)
	a.Load(t, deleteTable)
	b.Load(t, deleteTable)
	l := openLive(t, &LiveConfig{NetNS: a.Name()})

	var doomed []engine.Flow
	all, _ := scanAll(t, l, engine.TableConntrack, nil)
	for _, f := range all {
		if f.ProtoNum == engine.ProtoTCP && f.Dport == 22 && f.State == "ESTABLISHED" {
			doomed = append(doomed, f)
		}
	}
	if len(doomed) != 5 {
		t.Fatalf("%d entries selected, want 5", len(doomed))
	}
	st := deleteAll(t, l, doomed)
	if want := (engine.BatchStats{Done: len(doomed)}); !statsEqual(st, want) {
		t.Errorf("delete: %+v, want %+v", st, want)
	}
	b.Run(t, "conntrack", "-D", "-p", "tcp", "--dport", "22", "--state", "ESTABLISHED")
	got, want := listMasked(t, a), listMasked(t, b)
	if !slices.Equal(got, want) || len(got) != len(deleteTable)-len(doomed) {
		t.Errorf("after the deletes ctq's namespace holds\n%s\nconntrack's\n%s",
			strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A second delete of the same entries finds them gone.
	if st := deleteAll(t, l, doomed); !statsEqual(st, engine.BatchStats{Gone: len(doomed)}) {
		t.Errorf("second delete: %+v, want %d gone", st, len(doomed))
	}

	// A delete with the ID of an entry that was read leaves alone the
	// entry that took its tuple since.
	old := all[slices.IndexFunc(all, func(f engine.Flow) bool { return f.Src == netip.MustParseAddr("192.0.2.3") })]
	deleteAll(t, l, []engine.Flow{old})
	// The kernel's ID is a keyed hash of the entry's address and tuple: an
	// entry allocated where the old one was, with the same tuple, gets the
	// same ID. Entries made in between make that unlikely; if it happens
	// anyway the two are indistinguishable and the check is skipped.
	a.Load(t, []string{
		"-I -t 60 -u SEEN_REPLY -s 192.0.2.250 -d 198.51.100.8 -p udp --sport 1 --dport 2",
		"-I -t 60 -u SEEN_REPLY -s 192.0.2.251 -d 198.51.100.8 -p udp --sport 1 --dport 2",
		"-I -t 60 -u SEEN_REPLY -s 192.0.2.3 -d 198.51.100.8 -p tcp --sport 42004 --dport 80 --state TIME_WAIT",
	})
	renewed, err := l.Get(context.Background(), &old)
	if err != nil {
		t.Fatalf("get the re-created entry: %v", err)
	}
	if renewed.ID == old.ID {
		t.Logf("the re-created entry got the old ID %d (same slab slot): stale-ID check skipped", old.ID)
	} else if st := deleteAll(t, l, []engine.Flow{old}); !statsEqual(st, engine.BatchStats{Gone: 1}) {
		t.Errorf("delete with a stale id: %+v, want 1 gone", st)
	}
	a.Run(t, "conntrack", "-G", "-s", "192.0.2.3", "-d", "198.51.100.8", "-p", "tcp", "--sport", "42004", "--dport", "80")
	// Without the ID, the tuple alone decides.
	noID := old
	noID.Has &^= engine.HasID
	if st := deleteAll(t, l, []engine.Flow{noID}); !statsEqual(st, engine.BatchStats{Done: 1}) {
		t.Errorf("delete without an id: %+v, want 1 done", st)
	}
}

// statsEqual compares the counts of two BatchStats.
func statsEqual(a, b engine.BatchStats) bool {
	return a.Done == b.Done && a.Gone == b.Gone && a.Failed == b.Failed && a.Unknown == b.Unknown &&
		len(a.Errors) == len(b.Errors)
}

// updateTable has TCP entries to ports 7950..8150.
func updateTable() []string {
	var lines []string
	for p := 7950; p <= 8150; p += 2 {
		lines = append(lines, fmt.Sprintf("-I -t 600 -s 192.0.2.%d -d 198.51.100.80 -p tcp --sport %d --dport %d --state ESTABLISHED",
			p%250+1, 30000+p, p))
	}
	return lines
}

func TestBatchUpdate(t *testing.T) {
	ns := nstest.New(t)
	// A rule that sets ct labels makes the kernel give new entries room
	// for labels (bit numbers: no connlabel.conf is needed).
	ns.Run(t, "nft", "add table inet lbl; add chain inet lbl out { type filter hook output priority 20; }; add rule inet lbl out udp dport 5001 ct label set 1")
	lines := updateTable()
	ns.Load(t, lines)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	all, _ := scanAll(t, l, engine.TableConntrack, nil)

	t.Run("mark", func(t *testing.T) {
		want := map[string]bool{}
		st := mutate(t, l, func(b engine.Batch) error {
			for i := range all {
				if f := &all[i]; f.Dport >= 8000 && f.Dport <= 8100 {
					want[strconv.Itoa(f.Dport)] = true
					if err := b.Update(f, engine.Change{SetMark: true, Mark: 7}); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if !statsEqual(st, engine.BatchStats{Done: 51}) || len(want) != 51 {
			t.Errorf("update: %+v for %d entries", st, len(want))
		}
		got := map[string]bool{}
		for _, line := range listMasked(t, ns, "-m", "7", "-o", "extended") {
			got[parseCTLine(t, line).orig["dport"]] = true
		}
		if !maps.Equal(got, want) {
			t.Errorf("conntrack -L -m 7 lists dports %v, want %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
	})

	f := all[0]
	get := func(t *testing.T) ctLine {
		t.Helper()
		out := ns.Run(t, "conntrack", "-G", "-o", "extended", "-s", f.Src.String(), "-d", f.Dst.String(), "-p", "tcp",
			"--sport", strconv.Itoa(f.Sport), "--dport", strconv.Itoa(f.Dport))
		return parseCTLine(t, strings.TrimSpace(out))
	}
	t.Run("timeout and status", func(t *testing.T) {
		st := mutate(t, l, func(b engine.Batch) error {
			return b.Update(&f, engine.Change{SetTimeout: true, Timeout: 12345, SetStatus: engine.StatusAssured | engine.StatusSeenReply})
		})
		if !statsEqual(st, engine.BatchStats{Done: 1}) {
			t.Errorf("update: %+v", st)
		}
		c := get(t)
		if timeout, _ := strconv.Atoi(c.pos[4]); timeout < 12340 || timeout > 12345 {
			t.Errorf("timeout %s after setting 12345", c.pos[4])
		}
		if !c.flags["ASSURED"] || c.flags["UNREPLIED"] {
			t.Errorf("flags %v after setting ASSURED and SEEN_REPLY", c.flags)
		}
		// EXPECTED cannot be set.
		b, err := l.NewBatch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Update(&f, engine.Change{SetStatus: engine.StatusExpected}); err != nil {
			t.Fatal(err)
		}
		st, err = b.Close()
		if err != nil || !statsEqual(st, engine.BatchStats{Failed: 1, Errors: make([]error, 1)}) ||
			!errors.Is(st.Errors[0], unix.EBUSY) || !strings.Contains(st.Errors[0].Error(), f.Src.String()) {
			t.Errorf("setting EXPECTED: %+v, %v", st, err)
		}
	})

	t.Run("labels", func(t *testing.T) {
		var add, del engine.Labels
		add.Set(3)
		add.Set(70)
		mutate(t, l, func(b engine.Batch) error { return b.Update(&f, engine.Change{AddLabels: add}) })
		del.Set(3)
		add = engine.Labels{}
		add.Set(5)
		mutate(t, l, func(b engine.Batch) error { return b.Update(&f, engine.Change{AddLabels: add, DelLabels: del}) })
		got, err := l.Get(context.Background(), &f)
		if err != nil {
			t.Fatal(err)
		}
		if bits := got.Labels.Bits(); !slices.Equal(bits, []int{5, 70}) {
			t.Errorf("labels %v, want [5 70]", bits)
		}
		// conntrack shows label names from connlabel.conf: give it one in a
		// private overlay of /etc (ip netns exec runs in a mount namespace
		// of its own), leaving the host's /etc alone.
		dir := t.TempDir()
		conf := filepath.Join(dir, "up", "xtables", "connlabel.conf")
		if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(filepath.Join(dir, "work"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(conf, []byte("3 three\n5 five\n70 seventy\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		out := ns.Run(t, "sh", "-c", fmt.Sprintf("mount -t overlay overlay -o lowerdir=/etc,upperdir=%s/up,workdir=%s/work /etc && conntrack -L -o labels -p tcp --dport %d",
			dir, dir, f.Dport))
		if !strings.HasSuffix(strings.TrimSpace(out), " labels=five,seventy") {
			t.Errorf("conntrack -L -o labels: %q", out)
		}
	})

	t.Run("gone", func(t *testing.T) {
		missing := f
		missing.Sport++
		st := mutate(t, l, func(b engine.Batch) error { return b.Update(&missing, engine.Change{SetMark: true, Mark: 1}) })
		if !statsEqual(st, engine.BatchStats{Gone: 1}) {
			t.Errorf("update of a missing entry: %+v", st)
		}
	})
}

// createFlows covers the protocols, families, zones, marks, states and
// NAT that a create must carry. DCCP is left out: a kernel without its
// tracker (CONFIG_NF_CT_PROTO_DCCP, unset on the 6.18 test kernel) keeps
// DCCP entries without ports or state; TestEncodeRequests covers its
// encoding.
func createFlows() []engine.Flow {
	a := netip.MustParseAddr
	tcp := func(src, dst string, sport, dport int) engine.Flow {
		f := engine.Flow{Family: "ipv4", Src: a(src), Dst: a(dst), Sport: sport, Dport: dport, Timeout: 300, Has: engine.HasTimeout}
		if f.Src.Is6() {
			f.Family = "ipv6"
		}
		f.SetProto(engine.ProtoTCP)
		f.SetState(3) // ESTABLISHED
		return f
	}
	proto := func(p int, f engine.Flow) engine.Flow {
		f.Has &^= engine.HasState
		f.State, f.StateNum = "", 0
		f.SetProto(p)
		return f
	}
	var flows []engine.Flow
	f := tcp("192.0.2.1", "198.51.100.7", 42002, 443)
	f.Mark = 3
	f.SetStatus(engine.StatusSeenReply | engine.StatusAssured)
	flows = append(flows, f)
	flows = append(flows, proto(engine.ProtoUDP, tcp("192.0.2.1", "198.51.100.53", 5353, 53)))
	flows = append(flows, proto(engine.ProtoUDPLite, tcp("203.0.113.5", "203.0.113.6", 4000, 4001)))
	f = proto(engine.ProtoICMP, tcp("192.0.2.1", "198.51.100.1", 0, 0))
	f.ICMPType, f.ICMPID = 8, 77
	flows = append(flows, f)
	f = proto(engine.ProtoICMPv6, tcp("2001:db8::10", "2001:db8::20", 0, 0))
	f.ICMPType, f.ICMPID = 128, 99
	flows = append(flows, f)
	f = tcp("198.18.0.15", "198.18.0.16", 3000, 3001)
	f.SetProto(engine.ProtoSCTP)
	f.SetState(4) // ESTABLISHED
	f.OrigVtag, f.ReplyVtag = 1, 2
	flows = append(flows, f)
	flows = append(flows, proto(engine.ProtoGRE, tcp("198.18.0.11", "198.18.0.12", 5, 6)))
	flows = append(flows, tcp("2001:db8::1", "2001:db8::2", 1000, 443))
	f = proto(engine.ProtoUDP, tcp("198.18.0.3", "198.18.0.4", 53000, 53))
	f.Zone = 11
	flows = append(flows, f)
	f = tcp("198.18.0.19", "198.18.0.20", 1, 2)
	f.OrigZone = 5
	flows = append(flows, f)
	f = tcp("198.18.0.21", "198.18.0.22", 1, 2)
	f.ReplyZone = 6
	f.SetState(5) // CLOSE_WAIT
	flows = append(flows, f)
	// A destination NAT: the reply comes from the translated address.
	f = tcp("198.18.0.7", "203.0.113.11", 2002, 80)
	f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport = a("192.0.2.80"), a("198.18.0.7"), 8080, 2002
	f.Has |= engine.HasReply
	flows = append(flows, f)
	f = tcp("2001:db8::30", "2001:db8::40", 7, 8)
	f.ReplySrc, f.ReplyDst, f.ReplySport, f.ReplyDport = a("2001:db8::50"), a("2001:db8::30"), 9, 7
	f.Has |= engine.HasReply
	flows = append(flows, f)
	flows = append(flows, proto(50, tcp("198.18.0.13", "198.18.0.14", 0, 0)))
	// An FTP control connection with its helper.
	f = tcp("192.0.2.21", "192.0.2.22", 43000, 21)
	f.Helper = "ftp"
	flows = append(flows, f)
	return flows
}

// getArgs are the conntrack arguments that look f up: -G, or a listing
// filtered by zone and tuple (-G takes no zone).
func getArgs(f *engine.Flow) []string {
	args := []string{"-G", "-o", "extended", "-s", f.Src.String(), "-d", f.Dst.String(), "-p", strconv.Itoa(f.ProtoNum)}
	switch f.ProtoNum {
	case engine.ProtoICMP:
		args = append(args, "--icmp-type", strconv.Itoa(f.ICMPType), "--icmp-code", strconv.Itoa(f.ICMPCode),
			"--icmp-id", strconv.Itoa(f.ICMPID))
	case engine.ProtoICMPv6:
		args = append(args, "--icmpv6-type", strconv.Itoa(f.ICMPType), "--icmpv6-code", strconv.Itoa(f.ICMPCode),
			"--icmpv6-id", strconv.Itoa(f.ICMPID))
	case engine.ProtoGRE:
		args = append(args, "--srckey", strconv.Itoa(f.Sport), "--dstkey", strconv.Itoa(f.Dport))
	case engine.ProtoTCP, engine.ProtoUDP, engine.ProtoUDPLite, engine.ProtoSCTP:
		args = append(args, "--sport", strconv.Itoa(f.Sport), "--dport", strconv.Itoa(f.Dport))
	}
	if f.ProtoNum != 50 {
		args[8] = f.Proto
	}
	switch {
	case f.Zone != 0:
		args[0] = "-L"
		args = append(args, "-w", strconv.Itoa(f.Zone))
	case f.OrigZone != 0:
		args[0] = "-L"
		args = append(args, "--orig-zone", strconv.Itoa(f.OrigZone))
	}
	return args
}

func TestBatchCreate(t *testing.T) {
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	flows := createFlows()
	st := mutate(t, l, func(b engine.Batch) error {
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
	all, _ := scanAll(t, l, engine.TableConntrack, nil)
	if len(all) != len(flows) {
		t.Fatalf("%d entries after %d creates", len(all), len(flows))
	}
	for i := range flows {
		f := &flows[i]
		out := strings.TrimSpace(ns.Run(t, "conntrack", getArgs(f)...))
		c := parseCTLine(t, out)
		name := fmt.Sprintf("%s %v -> %v", f.Proto, f.Src, f.Dst)
		if c.orig["src"] != f.Src.String() || c.orig["dst"] != f.Dst.String() {
			t.Errorf("%s: conntrack -G found %q", name, out)
		}
		wantReply := f.Src.String()
		if f.Has&engine.HasReply != 0 {
			wantReply = f.ReplySrc.String()
			if c.reply["sport"] != strconv.Itoa(f.ReplySport) {
				t.Errorf("%s: reply sport %s, want %d", name, c.reply["sport"], f.ReplySport)
			}
		}
		if c.reply["dst"] != wantReply && c.reply["src"] != wantReply {
			t.Errorf("%s: reply tuple %v", name, c.reply)
		}
		if state := strings.Join(c.pos[5:], " "); state != f.State {
			t.Errorf("%s: state %q, want %q", name, state, f.State)
		}
		if c.meta["mark"] != strconv.Itoa(f.Mark) {
			t.Errorf("%s: mark %s, want %d", name, c.meta["mark"], f.Mark)
		}
		wantZone := ""
		if f.Zone != 0 {
			wantZone = strconv.Itoa(f.Zone)
		}
		if c.meta["zone"] != wantZone || c.orig["zone-orig"] != zoneText(f.OrigZone) || c.reply["zone-reply"] != zoneText(f.ReplyZone) {
			t.Errorf("%s: zones %q %q %q, want %d %d %d", name, c.meta["zone"], c.orig["zone-orig"],
				c.reply["zone-reply"], f.Zone, f.OrigZone, f.ReplyZone)
		}
		if c.meta["helper"] != f.Helper {
			t.Errorf("%s: helper %q, want %q", name, c.meta["helper"], f.Helper)
		}
		if f.Assured != c.flags["ASSURED"] || f.SeenReply == c.flags["UNREPLIED"] {
			t.Errorf("%s: flags %v, status %v", name, c.flags, f.Status)
		}
		if f.ProtoNum == engine.ProtoICMP && (c.reply["type"] != "0" || c.reply["id"] != "77") {
			t.Errorf("%s: reply %v, want an echo reply", name, c.reply)
		}
	}
	for _, f := range all {
		if f.ProtoNum == engine.ProtoSCTP && (f.OrigVtag != 1 || f.ReplyVtag != 2) {
			t.Errorf("sctp vtags %d/%d, want 1/2", f.OrigVtag, f.ReplyVtag)
		}
	}

	// The same entry again fails with EEXIST, named in the error.
	b, err := l.NewBatch(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Create(&flows[0]); err != nil {
		t.Fatal(err)
	}
	noTimeout := flows[1]
	noTimeout.Timeout, noTimeout.Has = 0, 0
	if err := b.Create(&noTimeout); !errors.Is(err, errNoTimeout) || !errors.Is(err, ErrUnencodable) {
		t.Errorf("Create without a timeout = %v", err)
	}
	st, err = b.Close()
	if err != nil || !statsEqual(st, engine.BatchStats{Failed: 1, Errors: make([]error, 1)}) ||
		!errors.Is(st.Errors[0], unix.EEXIST) ||
		st.Errors[0].Error() != "create tcp 192.0.2.1:42002 -> 198.51.100.7:443: an entry with this tuple exists already (EEXIST)" {
		t.Errorf("create of an existing entry: %+v, %v", st, err)
	}

	// Many creates in one batch.
	const n = 5000
	many := make([]engine.Flow, n)
	for i := range many {
		f := &many[i]
		f.Src = netip.AddrFrom4([4]byte{198, 19, byte(i >> 8), byte(i)})
		f.Dst = netip.MustParseAddr("203.0.113.99")
		f.SetProto(engine.ProtoUDP)
		f.Sport, f.Dport, f.Timeout, f.Mark = 1024+i, 53, 600, i
	}
	st = mutate(t, l, func(b engine.Batch) error {
		for i := range many {
			if err := b.Create(&many[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if !statsEqual(st, engine.BatchStats{Done: n}) || ctCount(t, ns) != n+len(flows) {
		t.Errorf("%d creates: %+v, conntrack -C %d", n, st, ctCount(t, ns))
	}

	// BatchConfig.Failed names the refused requests by their number, over
	// several sendmsgs: every third one exists already.
	var failed []int
	b, err = l.OpenBatch(context.Background(), BatchConfig{Failed: func(req int, err error) {
		if !errors.Is(err, unix.EEXIST) {
			t.Errorf("request %d: %v, want EEXIST", req, err)
		}
		failed = append(failed, req)
	}})
	if err != nil {
		t.Fatal(err)
	}
	var want []int
	for i := range 3000 {
		f := many[i]
		if i%3 == 0 {
			want = append(want, i)
		} else {
			f.Src = netip.AddrFrom4([4]byte{198, 19, byte(200 + i>>8), byte(i)})
		}
		if err := b.Create(&f); err != nil {
			t.Fatal(err)
		}
	}
	st, err = b.Close()
	if err != nil || st.Done != 2000 || st.Failed != 1000 || !slices.Equal(failed, want) {
		t.Errorf("creates with Failed: %+v, %v; %d reported (%v...)", st.Done, err, len(failed), failed[:min(len(failed), 5)])
	}
}

// zoneText is how conntrack prints a directional zone ("" for none).
func zoneText(z int) string {
	if z == 0 {
		return ""
	}
	return strconv.Itoa(z)
}

func TestFlush(t *testing.T) {
	ns := nstest.New(t)
	ns.Load(t, mixedTable)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	ctx := context.Background()
	v4 := len(listMasked(t, ns, "-f", "ipv4"))
	if v4 == 0 || v4 == len(mixedTable) {
		t.Fatalf("%d of %d entries are IPv4", v4, len(mixedTable))
	}

	// One family: the kernel flushes only that family from 5.3 on, and
	// Flush refuses on older kernels (which would flush both).
	err := l.Flush(ctx, engine.TableConntrack, engine.FamilyIPv6)
	switch {
	case kernelAtLeast(minFlushFamily) && err != nil:
		t.Fatalf("Flush(ipv6): %v", err)
	case !kernelAtLeast(minFlushFamily) && err == nil:
		t.Fatal("Flush(ipv6) succeeded on a kernel that flushes every family")
	}
	if got := ctCount(t, ns); err == nil && got != v4 || err != nil && got != len(mixedTable) {
		t.Errorf("after Flush(ipv6) (%v): %d entries, want %d IPv4 ones", err, got, v4)
	}
	t.Logf("kernel %s, Flush(ipv6): %v; %d IPv4 entries left", kernelRelease(), err, ctCount(t, ns))

	if err := l.Flush(ctx, engine.TableConntrack, engine.FamilyUnspec); err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if n := ctCount(t, ns); n != 0 {
		t.Errorf("%d entries after Flush", n)
	}
	if err := l.Flush(ctx, engine.TableDying, engine.FamilyUnspec); err == nil {
		t.Error("Flush(dying) succeeded")
	}
	if err := l.Flush(ctx, engine.TableConntrack, 7); err == nil {
		t.Error("Flush(family 7) succeeded")
	}
}

func TestFlushFilter(t *testing.T) {
	ns := nstest.New(t)
	ns.Load(t, pushdownTable(2000))
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	ctx := context.Background()
	supported := kernelAtLeast(minFlushFilter)
	if got, err := l.flushFilterSupported(ctx); got != supported || err != nil {
		t.Fatalf("flushFilterSupported = %v, %v on kernel %s", got, err, kernelRelease())
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
		exact  bool                      // the kernel can apply all of it
	}{{
		name:   "zone 3 (not exact)",
		filter: engine.KernelFilter{Zone: 3, ZoneSet: true},
		want:   func(f *engine.Flow) bool { return f.Zone == 3 },
	}, {
		name:   "ipv6 source (not exact)",
		filter: engine.KernelFilter{Family: engine.FamilyIPv6, Orig: engine.TupleFilter{Fields: src, Src: v6src}},
		want:   func(f *engine.Flow) bool { return f.Src == v6src },
	}, {
		name:   "sctp dport 22 (not exact)",
		filter: engine.KernelFilter{Orig: engine.TupleFilter{Fields: num | dport, Proto: 132, Dport: 22}},
		want:   func(f *engine.Flow) bool { return f.ProtoNum == 132 && f.Dport == 22 },
	}, {
		name:   "sport without protocol (not exact)",
		filter: engine.KernelFilter{Orig: engine.TupleFilter{Fields: sport, Sport: 1028}},
		want:   func(f *engine.Flow) bool { return f.Sport == 1028 },
	}, {
		name:   "ipv4 source",
		filter: engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{Fields: src, Src: v4src}},
		want:   func(f *engine.Flow) bool { return f.Src == v4src },
		exact:  true,
	}, {
		name:   "tcp dport 22, both families",
		filter: engine.KernelFilter{Orig: engine.TupleFilter{Fields: num | dport, Proto: 6, Dport: 22}},
		want:   func(f *engine.Flow) bool { return f.ProtoNum == 6 && f.Dport == 22 },
		exact:  true,
	}, {
		name: "ipv4 udp dport 53 mark 1",
		filter: engine.KernelFilter{Family: engine.FamilyIPv4, Mark: 1, MarkMask: 0xffffffff,
			Orig: engine.TupleFilter{Fields: num | dport, Proto: 17, Dport: 53}},
		want: func(f *engine.Flow) bool {
			return f.Family == "ipv4" && f.Mark == 1 && f.ProtoNum == 17 && f.Dport == 53
		},
		exact: true,
	}, {
		name: "icmp echo request",
		filter: engine.KernelFilter{Family: engine.FamilyIPv4, Orig: engine.TupleFilter{
			Fields: num | engine.TupleICMPType, Proto: 1, ICMPType: 8}},
		want:  func(f *engine.Flow) bool { return f.Family == "ipv4" && f.ProtoNum == 1 && f.ICMPType == 8 },
		exact: true,
	}, {
		name: "icmpv6 id, given with the ICMP flag",
		filter: engine.KernelFilter{Family: engine.FamilyIPv6, Orig: engine.TupleFilter{
			Fields: num | engine.TupleICMPID, Proto: 58, ICMPID: 10}},
		want:  func(f *engine.Flow) bool { return f.ProtoNum == 58 && f.ICMPID == 10 },
		exact: true,
	}, {
		name:   "reply sport 80",
		filter: engine.KernelFilter{Reply: engine.TupleFilter{Fields: num | sport, Proto: 6, Sport: 80}},
		want:   func(f *engine.Flow) bool { return f.ProtoNum == 6 && f.ReplySport == 80 },
		exact:  true,
	}, {
		name:   "unreplied",
		filter: engine.KernelFilter{StatusMask: engine.StatusSeenReply},
		want:   func(f *engine.Flow) bool { return !f.SeenReply },
		exact:  true,
	}, {
		name:   "everything",
		filter: engine.KernelFilter{},
		want:   func(f *engine.Flow) bool { return true },
		exact:  true,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := scanAll(t, l, engine.TableConntrack, nil)
			want := map[int]bool{}
			matched := 0
			for i := range before {
				if f := &before[i]; !tt.want(f) {
					want[f.ID] = true
				} else {
					matched++
				}
			}
			if matched == 0 {
				t.Fatalf("the table does not exercise the filter")
			}
			ok, err := l.FlushFilter(ctx, &tt.filter)
			if err != nil {
				t.Fatal(err)
			}
			if exact := tt.exact && (supported || tt.filter.Empty()); ok != exact {
				t.Errorf("FlushFilter = %v, want %v", ok, exact)
			}
			if !ok {
				want = map[int]bool{}
				for _, f := range before {
					want[f.ID] = true
				}
			}
			after, _ := scanAll(t, l, engine.TableConntrack, nil)
			got := map[int]bool{}
			for _, f := range after {
				got[f.ID] = true
			}
			if !maps.Equal(got, want) {
				t.Errorf("%d entries left of %d (%d matched), want %d left", len(got), len(before), matched, len(want))
			}
		})
	}
}

// TestBatchOverflow makes a batch's answers overflow a small receive
// buffer: outcomes are then Unknown, reported, and the batch goes on.
func TestBatchOverflow(t *testing.T) {
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	b, err := l.newBatch(context.Background(), 4096)
	if err != nil {
		t.Fatal(err)
	}
	const n = 500
	b.maxRequests = n // more error answers than the buffer holds
	missing := createFlows()[0]
	for i := range n {
		missing.Sport = 1024 + i
		if err := b.Delete(&missing); err != nil {
			t.Fatal(err)
		}
	}
	created := createFlows()[:3]
	for i := range created {
		if err := b.Create(&created[i]); err != nil {
			t.Fatal(err)
		}
	}
	st, err := b.Close()
	if err != nil {
		t.Fatal(err)
	}
	if st.Gone+st.Unknown != n || st.Unknown == 0 || st.Done != len(created) || st.Failed != 0 ||
		len(st.Errors) != 1 || !strings.Contains(st.Errors[0].Error(), "ENOBUFS") {
		t.Errorf("stats %+v", st)
	}
	t.Logf("%d answers read, %d lost: %v", st.Gone, st.Unknown, st.Errors)
	if got := ctCount(t, ns); got != len(created) {
		t.Errorf("%d entries, want %d", got, len(created))
	}
}

// BenchmarkLiveMutations measures creates, scan-and-delete of every entry
// with a Batch, and `conntrack -D` on the same table, in entries/s.
func BenchmarkLiveMutations(b *testing.B) {
	ns := nstest.New(b)
	l, err := OpenLive(&LiveConfig{NetNS: ns.Name()})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	ctx := context.Background()
	create := func(b *testing.B, flows []engine.Flow) {
		bt, err := l.NewBatch(ctx)
		if err != nil {
			b.Fatal(err)
		}
		for i := range flows {
			if err := bt.Create(&flows[i]); err != nil {
				b.Fatal(err)
			}
		}
		if st, err := bt.Close(); err != nil || st.Done != len(flows) {
			b.Fatalf("create: %+v, %v", st, err)
		}
	}
	for _, n := range []int{10_000, 50_000} {
		flows := make([]engine.Flow, n)
		for i := range flows {
			f := &flows[i]
			f.Src = netip.AddrFrom4([4]byte{198, 18, byte(i >> 8), byte(i)})
			f.Dst = netip.MustParseAddr("203.0.113.1")
			f.SetProto(engine.ProtoTCP)
			f.SetState(3)
			f.Sport, f.Dport, f.Timeout = 1024+i%50000, 443, 600
		}
		rate := func(b *testing.B) {
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "entries/s")
		}
		b.Run(fmt.Sprintf("create-%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				if err := l.Flush(ctx, engine.TableConntrack, engine.FamilyUnspec); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				create(b, flows)
			}
			rate(b)
		})
		b.Run(fmt.Sprintf("scan-delete-%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				if err := l.Flush(ctx, engine.TableConntrack, engine.FamilyUnspec); err != nil {
					b.Fatal(err)
				}
				create(b, flows)
				b.StartTimer()
				bt, err := l.NewBatch(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := l.Scan(ctx, engine.TableConntrack, nil, bt.Delete); err != nil {
					b.Fatal(err)
				}
				if st, err := bt.Close(); err != nil || st.Done != n {
					b.Fatalf("delete: %+v, %v", st, err)
				}
			}
			rate(b)
		})
		for _, echo := range []bool{false, true} {
			name := "exec-delete"
			if echo {
				name += "-echo"
			}
			b.Run(fmt.Sprintf("%s-%d", name, n), func(b *testing.B) {
				for b.Loop() {
					b.StopTimer()
					if err := l.Flush(ctx, engine.TableConntrack, engine.FamilyUnspec); err != nil {
						b.Fatal(err)
					}
					create(b, flows)
					var out countWriter
					b.StartTimer()
					res, err := engine.Exec(ctx, l, &engine.Plan{Action: engine.ActDelete, Limit: -1, Echo: echo}, engine.FlowsTo(&out), nil)
					if err != nil || res.Count != n || (echo && int(out) != n) {
						b.Fatalf("delete: %+v, %v, %d echoed", res, err, out)
					}
				}
				rate(b)
			})
		}
		b.Run(fmt.Sprintf("conntrack-D-%d", n), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				if err := l.Flush(ctx, engine.TableConntrack, engine.FamilyUnspec); err != nil {
					b.Fatal(err)
				}
				create(b, flows)
				b.StartTimer()
				ns.Run(b, "sh", "-c", "conntrack -D -p tcp >/dev/null 2>&1")
			}
			rate(b)
		})
	}
}

// countWriter counts the flows written to it.
type countWriter int

func (c *countWriter) Write(*engine.Flow) error { *c++; return nil }
func (c *countWriter) Flush() error             { return nil }
