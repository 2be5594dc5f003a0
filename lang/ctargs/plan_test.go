package ctargs

import (
	"net/netip"
	"strings"
	"testing"

	"ctq/engine"
	"ctq/engine/format"
)

// labelEnv is testEnv with a label map: a=1, b=3, vip=70.
func labelEnv() *Env {
	e := testEnv()
	e.LabelMap = func() (map[string]int, error) { return map[string]int{"a": 1, "b": 3, "vip": 70}, nil }
	return e
}

// flow builds an entry: "proto src:sport>dst:dport reply rsrc:rsport>rdst:rdport".
func flow(proto int, src string, sport int, dst string, dport int) *engine.Flow {
	f := &engine.Flow{}
	f.SetProto(proto)
	f.Src, f.Dst = netip.MustParseAddr(src), netip.MustParseAddr(dst)
	f.Sport, f.Dport = sport, dport
	f.ReplySrc, f.ReplyDst = f.Dst, f.Src
	f.ReplySport, f.ReplyDport = dport, sport
	if f.Src.Is4() {
		f.SetFamily(engine.FamilyIPv4)
	} else {
		f.SetFamily(engine.FamilyIPv6)
	}
	f.SetStatus(engine.StatusConfirmed | engine.StatusSeenReply | engine.StatusAssured)
	f.Mark, f.Timeout, f.ID = 0, 100, 7
	f.Has |= engine.HasMark | engine.HasTimeout | engine.HasID | engine.HasReply
	return f
}

func mustParse(t *testing.T, line string, env *Env) *Command {
	t.Helper()
	c, err := Parse(strings.Fields(line), env)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return c
}

func match(t *testing.T, c *Command, f *engine.Flow) bool {
	t.Helper()
	ok, err := c.Plan.Match(f)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func TestMatch(t *testing.T) {
	tcp := flow(engine.ProtoTCP, "192.0.2.5", 40000, "198.51.100.1", 80)
	udp := flow(engine.ProtoUDP, "192.0.2.5", 40000, "198.51.100.1", 80)
	v6 := flow(engine.ProtoTCP, "2001:db8::5", 40000, "2001:db8::1", 80)
	marked := flow(engine.ProtoTCP, "10.5.0.9", 1, "10.0.0.1", 2)
	marked.Mark = 0x21
	unreplied := flow(engine.ProtoUDP, "10.5.1.9", 1, "10.0.0.1", 2)
	unreplied.SetStatus(engine.StatusConfirmed)
	unreplied.Zone, unreplied.Has = 5, unreplied.Has|engine.HasZone
	labelled := flow(engine.ProtoTCP, "192.0.2.9", 1, "192.0.2.10", 2)
	labelled.Labels.Set(1)
	labelled.Labels.Set(3)
	labelled.Has |= engine.HasLabels
	labelled.Secmark = 5
	// Port-only DNAT (80 -> 8080) and SNAT to 192.0.2.2.
	dpat := flow(engine.ProtoTCP, "192.0.2.1", 42002, "192.0.2.1", 80)
	dpat.ReplySport = 8080
	dpat.SetStatus(dpat.Status | engine.StatusDstNAT | engine.StatusDstNATDone)
	snat := flow(engine.ProtoUDP, "192.0.2.1", 41004, "198.51.100.1", 5353)
	snat.ReplyDst = netip.MustParseAddr("192.0.2.2")
	snat.SetStatus(snat.Status | engine.StatusSrcNAT | engine.StatusSrcNATDone)
	dnat6 := flow(engine.ProtoTCP, "2001:db8::5", 1, "2001:db8::1", 80)
	dnat6.ReplySrc = netip.MustParseAddr("2001:db8::99")
	dnat6.SetStatus(dnat6.Status | engine.StatusDstNAT | engine.StatusDstNATDone)
	all := []*engine.Flow{tcp, udp, v6, marked, unreplied, labelled, dpat, snat, dnat6}
	names := []string{"tcp", "udp", "v6", "marked", "unreplied", "labelled", "dpat", "snat", "dnat6"}
	for _, tc := range []struct {
		line string
		want string // names of the matching entries
	}{
		{"-L", "tcp udp v6 marked unreplied labelled dpat snat dnat6"},
		{"-L -f ipv6", "v6 dnat6"},
		{"-L -s 192.0.2.0/24", "tcp udp labelled dpat snat"},
		{"-L -s 192.0.2.5", "tcp udp"},
		{"-L -s 10.9.0.1 --mask-src 255.0.255.0", "marked"},
		{"-L -d 2001:db8::/64", "v6 dnat6"},
		{"-L -s 0.0.0.0/0", "tcp udp marked unreplied labelled dpat snat"},
		{"-L -p tcp --dport 80", "tcp v6 dpat dnat6"},
		{"-L -p udp --sport 40000", "udp"},
		{"-L -r 198.51.100.1", "tcp udp snat"},
		{"-L -p tcp --reply-port-src 8080", "dpat"},
		{"-L -w 0", "tcp udp v6 marked labelled dpat snat dnat6"},
		{"-L -w 5", "unreplied"},
		{"-L --orig-zone 0", "tcp udp v6 marked unreplied labelled dpat snat dnat6"},
		{"-L -m 0x20/0x20", "marked"},
		{"-L -m 0x21 -u ASSURED", "marked"},
		{"-L -u ASSURED -m 0x21", "marked"},
		{"-L -u UNREPLIED", "unreplied"},
		{"-L -u SEEN_REPLY,ASSURED", "tcp udp v6 marked labelled dpat snat dnat6"},
		{"-L -u ASSURED,!SEEN_REPLY", ""},
		{"-D -u !ASSURED", "unreplied"},
		{"-D -u UNREPLIED", "unreplied"},
		{"-D -t 100 -p udp", "udp unreplied snat"},
		{"-D -i 7 -s 10.5.0.9", "marked"},
		{"-L -l a,b", "labelled"},
		{"-L -l b -l a", "labelled"},
		{"-L -l vip", ""},
		{"-L -c 5", "labelled"},
		{"-L -n", "snat"},
		{"-L -n 192.0.2.2", "snat"},
		{"-L -n 192.0.2.3", ""},
		{"-L -g", "dpat dnat6"},
		{"-L -g 192.0.2.1", ""},
		{"-L -g 192.0.2.1:8080", ""},
		{"-L -g :8080", "dpat"},
		{"-L -j", "dpat snat dnat6"},
		{"-L -j 192.0.2.2 -p udp", "snat"},
		{"-L -g 2001:db8::99", "dnat6"},
		{"-L -g 2001:db8::98", ""},
		{"-L -n -g", ""},
		{"-E -p tcp", "tcp v6 marked labelled dpat dnat6"},
		{"-U -s 192.0.2.5", "tcp udp"},
		{"-U -p udp", "udp unreplied snat"},
		{"-U -q 192.0.2.2", "snat"},
		{"-U -m 5 -u ASSURED", "tcp udp v6 marked unreplied labelled dpat snat dnat6"},
	} {
		env := labelEnv()
		c, err := Parse(strings.Fields(tc.line), env)
		if err != nil {
			// -g :8080 is refused by conntrack (no address).
			if tc.line == "-L -g :8080" {
				continue
			}
			t.Fatalf("%s: %v", tc.line, err)
		}
		var got []string
		for i, f := range all {
			if match(t, c, f) {
				got = append(got, names[i])
			}
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("%s: matches %q, want %q", tc.line, strings.Join(got, " "), tc.want)
		}
	}
}

func TestKernelFilter(t *testing.T) {
	c := mustParse(t, "-L -m 0x20/0x20 -u ASSURED,!SEEN_REPLY -s 192.0.2.1 -p tcp --dport 80", testEnv())
	k := c.Plan.Filter
	if k.Family != engine.FamilyIPv4 || k.Mark != 0x20 || k.MarkMask != 0x20 ||
		k.Status != engine.StatusAssured || k.StatusMask != engine.StatusAssured|engine.StatusSeenReply ||
		k.Orig.Fields != engine.TupleSrc|engine.TupleProto|engine.TupleDport || k.Orig.Dport != 80 {
		t.Errorf("filter %+v", k)
	}
	c = mustParse(t, "-L -s 192.0.2.0/24", testEnv())
	if c.Plan.Filter.Orig.Fields != 0 || c.Plan.Filter.Family != engine.FamilyIPv4 {
		t.Errorf("CIDR pushed: %+v", c.Plan.Filter)
	}
	c = mustParse(t, "-U -m 1 -u ASSURED", testEnv())
	if !c.Plan.Filter.Empty() {
		t.Errorf("-U setters pushed: %+v", c.Plan.Filter)
	}
}

func TestChange(t *testing.T) {
	f := flow(engine.ProtoTCP, "192.0.2.5", 1, "192.0.2.6", 2)
	f.Mark = 5
	f.SetState(3)
	c := mustParse(t, "-U -m 0x30/0xf0", testEnv())
	if c.Plan.Action != engine.ActUpdate || !c.Plan.Echo {
		t.Fatalf("plan %+v", c.Plan)
	}
	ch, _ := c.Plan.Change(f)
	if !ch.SetMark || ch.Mark != 0x35 || ch.SetTimeout || ch.SetStatus != 0 {
		t.Errorf("change %+v", ch)
	}
	f.Mark = 0x35
	if ch, _ = c.Plan.Change(f); !ch.Empty() {
		t.Errorf("unchanged entry: %+v", ch)
	}
	c = mustParse(t, "-U -u ASSURED,FIXED_TIMEOUT -t 50 -p tcp --state TIME_WAIT", testEnv())
	ch, _ = c.Plan.Change(f)
	if ch.SetStatus != engine.StatusFixedTimeout || !ch.SetTimeout || ch.Timeout != 50 || !ch.SetState || ch.StateNum != 7 || ch.SetMark {
		t.Errorf("change %+v", ch)
	}
	f.Labels.Set(1)
	f.Labels.Set(70)
	f.Has |= engine.HasLabels
	c = mustParse(t, "-U --label-del", labelEnv())
	ch, _ = c.Plan.Change(f)
	if ch.DelLabels != f.Labels || !ch.AddLabels.Empty() {
		t.Errorf("--label-del: %+v", ch)
	}
	c = mustParse(t, "-U --label-del vip,b", labelEnv())
	ch, _ = c.Plan.Change(f)
	if got := ch.DelLabels.Bits(); len(got) != 1 || got[0] != 70 {
		t.Errorf("--label-del vip,b: %v", got)
	}
	c = mustParse(t, "-U --label-add a,b", labelEnv())
	ch, _ = c.Plan.Change(f)
	if got := ch.AddLabels.Bits(); len(got) != 1 || got[0] != 3 {
		t.Errorf("--label-add a,b: %v", got)
	}
	// -u after -m: 1.4.7 used the status bits as the mark value.
	c = mustParse(t, "-U -m 1 -u ASSURED", testEnv())
	f.Mark = 0
	if ch, _ = c.Plan.Change(f); !ch.SetMark || ch.Mark != 1 {
		t.Errorf("-m 1 -u ASSURED: %+v", ch)
	}
}

func TestCreate(t *testing.T) {
	c := mustParse(t, "-I -s 198.18.0.5 -d 203.0.113.10 -p tcp --sport 1 --dport 2 --state ESTABLISHED -t 100 --src-nat 198.51.100.77:999 -m 5/3 -u ASSURED -w 4 --label-add b", labelEnv())
	if c.Op != OpCreate || c.Plan.Action != engine.ActInsert || c.Plan.IfAbsent || len(c.Plan.Create) != 1 {
		t.Fatalf("%+v", c.Plan)
	}
	f := c.Plan.Create[0]
	if f.Family != "ipv4" || f.ProtoNum != 6 || f.Src.String() != "198.18.0.5" || f.Sport != 1 || f.Dport != 2 ||
		f.ReplySrc.String() != "203.0.113.10" || f.ReplyDst.String() != "198.51.100.77" || f.ReplySport != 2 || f.ReplyDport != 999 ||
		f.Has&engine.HasReply == 0 || f.Timeout != 100 || f.StateNum != 3 || f.Mark != 5 || f.Status != engine.StatusAssured ||
		f.Zone != 4 || !f.Labels.Has(3) {
		t.Errorf("created %+v", f)
	}
	c = mustParse(t, "-A -r 1.1.1.1 -q 2.2.2.2 -p udp -t 10 --reply-port-src 5 --reply-port-dst 6", testEnv())
	f = c.Plan.Create[0]
	if c.Op != OpAdd || !c.Plan.IfAbsent || f.Src.String() != "2.2.2.2" || f.Dst.String() != "1.1.1.1" || f.Sport != 6 || f.Dport != 5 {
		t.Errorf("-A by reply tuple: %+v", f)
	}
	c = mustParse(t, "-I -s 1.1.1.1 -d 2.2.2.2 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 9 -t 10", testEnv())
	f = c.Plan.Create[0]
	if f.ICMPType != 8 || f.ReplyICMPType != 0 || f.ICMPID != 9 || f.Has&engine.HasReply != 0 {
		t.Errorf("icmp: %+v", f)
	}
	c = mustParse(t, "-I -s 2001:db8::1 -d 2001:db8::2 -p 50 -t 10", testEnv())
	if f = c.Plan.Create[0]; f.ProtoNum != 50 || f.Family != "ipv6" {
		t.Errorf("esp: %+v", f)
	}
}

func TestPlans(t *testing.T) {
	env := testEnv()
	c := mustParse(t, "-L -z -o xml,extended,id,ktimestamp", env)
	if c.Op != OpList || !c.Plan.Zero || c.Plan.Limit != -1 || c.Output.Spec.Kind != format.KindXML ||
		c.Output.Spec.Flags != format.FlagExtended|format.FlagID|format.FlagKTimestamp || c.Family != 0 {
		t.Errorf("-L -z: %+v", c)
	}
	if c = mustParse(t, "-L -o save", env); c.Output.Spec.Kind != format.KindSave {
		t.Errorf("-o save: %+v", c.Output)
	}
	if c = mustParse(t, "-D -p udp", env); c.Plan.Action != engine.ActDelete || !c.Plan.Echo {
		t.Errorf("-D: %+v", c.Plan)
	}
	if c = mustParse(t, "-F -f ipv6", env); c.Plan.Action != engine.ActFlush || c.Plan.Filter.Family != engine.FamilyIPv6 {
		t.Errorf("-F -f ipv6: %+v", c.Plan)
	}
	if c = mustParse(t, "-F expect", env); c.Plan.Action != engine.ActFlush || c.Plan.Table != engine.TableExpect {
		t.Errorf("-F expect: %+v", c.Plan)
	}
	if c = mustParse(t, "-E -e NEW,DESTROY -b 2000", env); c.Plan.Events != engine.EventNew|engine.EventDestroy || c.NoEvents || c.EventBuffer != 2000 {
		t.Errorf("-E: %+v", c)
	}
	if c = mustParse(t, "-E -e D", env); !c.NoEvents || len(c.Warnings) != 1 {
		t.Errorf("-E -e D: %+v", c)
	}
	if c = mustParse(t, "-L dying -p tcp", env); c.Table != engine.TableDying || c.Plan.Table != engine.TableDying {
		t.Errorf("-L dying: %+v", c)
	}
	c = mustParse(t, "-G -s 1.1.1.1 -d 2.2.2.2 -p tcp --sport 1 --dport 2", env)
	if k := c.Plan.Key; c.Plan.Action != engine.ActGet || k == nil || k.Src.String() != "1.1.1.1" || k.Dport != 2 || k.ProtoNum != 6 {
		t.Errorf("-G: %+v", c.Plan)
	}
	c = mustParse(t, "-C", env)
	if c.Op != OpCount || c.Plan.Action != engine.ActCount {
		t.Errorf("-C: %+v", c)
	}
	if c = mustParse(t, "-S", env); c.Op != OpStats {
		t.Errorf("-S: %+v", c)
	}
	c = mustParse(t, "-I expect -s 1.1.1.1 -d 2.2.2.2 -p tcp --sport 1 --dport 21 -t 30 --tuple-src 1.1.1.1 --tuple-dst 2.2.2.2 --mask-src 255.255.255.255 --mask-dst 255.255.255.255 --tuple-port-src 0 --tuple-port-dst 50010 --mask-port-src 0 --mask-port-dst 65535", env)
	if e := c.Plan.CreateExpect; c.Table != engine.TableExpect || len(e) != 1 || e[0].ProtoNum != 6 || e[0].Dport != 50010 || e[0].MasterDport != 21 || e[0].MaskDport != 65535 || e[0].Timeout != 30 {
		t.Errorf("-I expect: %+v", c.Plan.CreateExpect)
	}
	c = mustParse(t, "-D expect -s 1.1.1.1 -d 2.2.2.2 -p udp --sport 0 --dport 5000 --reply-port-src 1 --reply-port-dst 2", env)
	e := engine.Expect{Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2"), ProtoNum: 17, Dport: 5000}
	if ok, _ := c.Plan.MatchExpect(&e); !ok || c.Plan.Action != engine.ActDelete {
		t.Errorf("-D expect: %+v", c.Plan)
	}
	e.Dport = 5001
	if ok, _ := c.Plan.MatchExpect(&e); ok {
		t.Error("-D expect matches another port")
	}
	c = mustParse(t, "-L expect -f ipv6", env)
	e.Family = "ipv4"
	if ok, _ := c.Plan.MatchExpect(&e); ok || c.Plan.Action != engine.ActList {
		t.Errorf("-L expect -f ipv6: %+v", c.Plan)
	}
	// Labels: the map is loaded by any label option.
	c = mustParse(t, "-L -o labels", labelEnv())
	if !c.Output.Labels || c.Output.LabelNames[70] != "vip" {
		t.Errorf("-o labels: %+v", c.Output)
	}
	if c = mustParse(t, "-L -l a", labelEnv()); c.Output.Labels || c.Output.LabelNames[1] != "a" {
		t.Errorf("-l a: %+v", c.Output)
	}
	if c = mustParse(t, "-L -o labels", testEnv()); c.Output.LabelNames != nil || len(c.Warnings) != 1 || c.Warnings[0] != "nfct_labelmap_new: No such file or directory" {
		t.Errorf("-o labels without the file: %+v", c)
	}
}

func TestDifferencesErrors(t *testing.T) {
	// Where 1.4.7 crashes, ctq reports an error.
	for _, tc := range []struct{ line, msg string }{
		{"-L --id", "option `--id' requires an argument"},
		{"-D --id 5", "option `--id' requires an argument"},
		{"-L -p sctp --state x", "unknown SCTP state `x'"},
		{"-L -p sctp --state HEARTBEAT_SENT", "unknown SCTP state `HEARTBEAT_SENT'"},
	} {
		_, err := Parse(strings.Fields(tc.line), testEnv())
		if e, ok := err.(*Error); !ok || e.Msg != tc.msg || e.Code != 2 {
			t.Errorf("%s: %v", tc.line, err)
		}
	}
	if len(Differences) < 10 {
		t.Errorf("%d differences", len(Differences))
	}
	for _, d := range Differences {
		if d.Command == "" || d.Conntrack == "" || d.Ctq == "" {
			t.Errorf("incomplete %+v", d)
		}
	}
}
