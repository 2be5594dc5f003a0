package repl

import (
	"context"
	"fmt"
	"strings"

	"ctq/engine"
	"ctq/lang"
)

// explain prints how a statement would run: the kernel filter it asks
// for and the part the source applied, the userspace predicate, whether a
// delete can be one filtered flush, and how many entries the kernel
// returns against how many match (one counting scan; nothing is changed).
func (s *Session) explain(ctx context.Context, ps *lang.PlanStep) error {
	p, err := ps.Plan(s.vars)
	if err != nil {
		return err
	}
	if p.Table == engine.TableExpect {
		return fmt.Errorf("explain: the expect table is always read whole (only the family reaches the kernel); explain works on conntrack, dying and unconfirmed")
	}
	src, err := s.source()
	if err != nil {
		return err
	}
	returned, matching := 0, 0
	filter := p.ScanFilter()
	stats, err := src.Scan(ctx, p.Table, &filter, func(f *engine.Flow) error {
		returned++
		if p.Match != nil {
			ok, err := p.Match(f)
			if err != nil || !ok {
				return err
			}
		}
		matching++
		return nil
	})
	if err != nil {
		return fmt.Errorf("explain: %w", err)
	}
	s.warn(stats)
	var b strings.Builder
	row := func(label, value string) { fmt.Fprintf(&b, "%-18s %s\n", label+":", value) }
	row("statement", ps.Keyword+" "+p.Table.String())
	row("kernel filter", describeFilter(&p.Filter))
	applied := describeFilter(&stats.Pushed)
	if sup, ok := src.(interface{ Support() engine.FilterSupport }); ok && !p.Filter.Empty() {
		applied += " (kernel " + sup.Support().Kernel + ")"
	}
	row("kernel applies", applied)
	if filter.Ordered && p.Filter.Family == engine.FamilyUnspec && p.Filter.Orig.Fields|p.Filter.Reply.Fields != 0 &&
		stats.Pushed.Orig.Fields|stats.Pushed.Reply.Fields == 0 {
		row("note", "a list keeps conntrack -L's order, one dump of both families, and the kernel's tuple filter needs a family: add `family == ipv4` (or ipv6) to send it")
	}
	switch {
	case p.Match == nil:
		row("userspace check", "none: every entry")
	case p.Exact:
		row("userspace check", ps.Cond+" (the kernel filter is the whole condition)")
	default:
		row("userspace check", ps.Cond)
	}
	if p.Action == engine.ActDelete {
		if p.Exact {
			row("delete", "one kernel-side filtered flush where the kernel applies the whole filter, else entry by entry")
		} else {
			row("delete", "entry by entry (part of the condition is evaluated in userspace)")
		}
	}
	if p.Action == engine.ActGroup {
		row("grouping", "in userspace, one accumulator a group")
	}
	if p.Zero {
		row("zero", "the kernel zeroes the counters of every entry its dump reads (explain zeroes nothing)")
	}
	if p.Echo {
		row("print", "each entry the kernel "+map[engine.Action]string{engine.ActDelete: "deleted", engine.ActUpdate: "updated"}[p.Action]+", as "+ps.Format)
	}
	row("kernel returns", entries(returned))
	row("matching", entries(matching))
	if _, err := fmt.Fprint(s.cfg.Stdout, b.String()); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// describeFilter renders a kernel filter: "family ipv4, proto tcp, dport
// 22", or "none".
func describeFilter(k *engine.KernelFilter) string {
	if k.Empty() {
		return "none"
	}
	var parts []string
	if k.Family != engine.FamilyUnspec {
		parts = append(parts, "family "+engine.FamilyName(k.Family))
	}
	if k.MarkMask != 0 {
		parts = append(parts, fmt.Sprintf("mark 0x%x/0x%x", k.Mark, k.MarkMask))
	}
	if k.StatusMask != 0 {
		parts = append(parts, fmt.Sprintf("status %s of %s", k.Status, k.StatusMask))
	}
	if k.ZoneSet {
		parts = append(parts, fmt.Sprintf("zone %d", k.Zone))
	}
	parts = append(parts, describeTuple("", &k.Orig)...)
	parts = append(parts, describeTuple("reply_", &k.Reply)...)
	return strings.Join(parts, ", ")
}

// describeTuple lists the fields of one direction's tuple filter.
func describeTuple(prefix string, t *engine.TupleFilter) []string {
	var out []string
	has := func(f engine.TupleFields) bool { return t.Fields&f != 0 }
	add := func(name string, v any) { out = append(out, fmt.Sprintf("%s%s %v", prefix, name, v)) }
	if has(engine.TupleProto) {
		if name := engine.ProtoName(int(t.Proto)); name != "unknown" {
			add("proto", name)
		} else {
			add("proto", t.Proto)
		}
	}
	if has(engine.TupleSrc) {
		add("src", t.Src)
	}
	if has(engine.TupleDst) {
		add("dst", t.Dst)
	}
	if has(engine.TupleSport) {
		add("sport", t.Sport)
	}
	if has(engine.TupleDport) {
		add("dport", t.Dport)
	}
	if has(engine.TupleICMPType | engine.TupleICMPv6Type) {
		add("icmp_type", t.ICMPType)
	}
	if has(engine.TupleICMPCode | engine.TupleICMPv6Code) {
		add("icmp_code", t.ICMPCode)
	}
	if has(engine.TupleICMPID | engine.TupleICMPv6ID) {
		add("icmp_id", t.ICMPID)
	}
	if has(engine.TupleZone) {
		add("zone", t.Zone)
	}
	return out
}
