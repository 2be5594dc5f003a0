//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"fmt"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"ctq/engine"
)

// Kernel versions of the flushes, as major*1000+minor.
const (
	// minFlushFamily: a flush with nfgenmsg version 1 deletes the entries
	// of nfgen_family only ("netfilter: ctnetlink: Support L3
	// protocol-filter on flush", 5.3). Older kernels ignore the version
	// and flush every family.
	minFlushFamily = 5_003
	// minFlushFilter: a flush applies CTA_FILTER (a partial tuple) and the
	// mark, status and family filters ("netfilter: ctnetlink: support
	// CTA_FILTER for flush", 6.12). 5.8 to 6.11 refuse CTA_FILTER in a
	// flush (EOPNOTSUPP); older kernels ignore it and flush more than
	// asked.
	minFlushFilter = 6_012
)

// kernelAtLeast reports whether the running kernel's release is at least
// version (major*1000+minor); an unparsable release is not.
func kernelAtLeast(version int) bool {
	major, minor, ok := parseRelease(kernelRelease())
	return ok && major*1000+minor >= version
}

// Flush empties table: TableConntrack (IPCTNL_MSG_CT_DELETE without a
// tuple) or TableExpect. With AF_INET or AF_INET6 only that family's
// entries go: for the conntrack table the kernel does it (nfgenmsg version
// 1, kernel 5.3+; older kernels flush every family, so Flush refuses);
// for the expect table, whose flush ignores the family, Flush dumps that
// family's expectations and deletes them one by one (by tuple and ID).
func (l *Live) Flush(ctx context.Context, table engine.Table, family int) error {
	if family != engine.FamilyUnspec && family != engine.FamilyIPv4 && family != engine.FamilyIPv6 {
		return fmt.Errorf("flush %v: unknown address family %d", table, family)
	}
	switch table {
	case engine.TableConntrack:
		return l.flushConntrack(ctx, family)
	case engine.TableExpect:
		return l.flushExpect(ctx, family)
	}
	return fmt.Errorf("flush %v: only the conntrack and expect tables can be flushed", table)
}

func (l *Live) flushConntrack(ctx context.Context, family int) error {
	const op = "flush conntrack table"
	e := newRequest(uint8(family))
	if family != engine.FamilyUnspec {
		if !kernelAtLeast(minFlushFamily) {
			return fmt.Errorf("%s: kernel %s cannot flush one address family (this needs Linux 5.3): nothing was flushed",
				op, kernelRelease())
		}
		e.b[1] = nfnetlinkV1
	}
	_, err := l.requestMsg(ctx, op, ctMessage(ipctnlMsgCtDelete, netlink.Acknowledge, e.b))
	return err
}

// FlushFilter deletes the entries f selects with filtered flushes, one
// per family (one in all when f fixes the family), when the kernel applies
// all of f to a flush. It returns false, having sent nothing, when it
// cannot guarantee that:
//
//   - the kernel is older than 6.12, or does not prove its support (see
//     flushFilterSupported);
//   - part of f cannot be matched exactly by the kernel: IPv6 addresses
//     (the kernel's comparison is inverted), ports of protocols other than
//     TCP and UDP, ports or ICMP fields without the protocol, ICMP types
//     conntrack does not track, and zones (the kernel compares a zone in
//     either direction, where Flow.Zone is the zone of both directions).
//
// f.Ordered does not matter to a flush. An empty f flushes the whole
// table.
func (l *Live) FlushFilter(ctx context.Context, f *engine.KernelFilter) (bool, error) {
	const op = "filtered flush"
	if f.Empty() {
		return true, l.Flush(ctx, engine.TableConntrack, engine.FamilyUnspec)
	}
	plan, ok := flushPlan(f)
	if !ok {
		return false, nil
	}
	supported, err := l.flushFilterSupported(ctx)
	if err != nil || !supported {
		return false, err
	}
	for i, fam := range plan.families {
		data := encodeDump(&plan, fam)
		data[1] = nfnetlinkV1
		if _, err := l.requestMsg(ctx, op, ctMessage(ipctnlMsgCtDelete, netlink.Acknowledge, data)); err != nil {
			return i > 0, err
		}
	}
	return true, nil
}

// flushSupport is what the kernel applies exactly in a flush from 6.12
// on: the zone filter is left out, it is not exact (see FlushFilter).
var flushSupport = engine.FilterSupport{Family: true, Mark: true, Status: true, Tuple: true}

// flushPlan plans the flushes of f; ok is false when they would not apply
// all of f exactly.
func flushPlan(f *engine.KernelFilter) (plan dumpPlan, ok bool) {
	if f.ZoneSet {
		return dumpPlan{}, false
	}
	unordered := *f
	unordered.Ordered = false
	plan = planDump(engine.TableConntrack, &unordered, flushSupport)
	p := &plan.pushed
	switch {
	case p.Family != f.Family:
		return plan, false
	case p.Mark != f.Mark || p.MarkMask != f.MarkMask:
		return plan, false
	case p.Status != f.Status || p.StatusMask != f.StatusMask:
		return plan, false
	}
	return plan, tupleCovered(&f.Orig, &p.Orig) && tupleCovered(&f.Reply, &p.Reply)
}

// icmpFieldFlags maps each ICMPv6 flag to its ICMP twin, so that the
// ICMP fields of a TupleFilter compare whichever family's flags they use.
var icmpFieldFlags = [][2]engine.TupleFields{
	{engine.TupleICMPv6Type, engine.TupleICMPType},
	{engine.TupleICMPv6Code, engine.TupleICMPCode},
	{engine.TupleICMPv6ID, engine.TupleICMPID},
}

// foldICMP turns the ICMPv6 flags of fl into the ICMP ones.
func foldICMP(fl engine.TupleFields) engine.TupleFields {
	for _, p := range icmpFieldFlags {
		if fl&p[0] != 0 {
			fl = fl&^p[0] | p[1]
		}
	}
	return fl
}

// tupleCovered reports whether the pushed tuple filter got matches every
// field of want with the same value (and nothing else).
func tupleCovered(want, got *engine.TupleFilter) bool {
	fw, fg := foldICMP(want.Fields), foldICMP(got.Fields)
	if fw != fg {
		return false
	}
	same := func(flag engine.TupleFields, eq bool) bool { return fw&flag == 0 || eq }
	return same(engine.TupleSrc, want.Src == got.Src) &&
		same(engine.TupleDst, want.Dst == got.Dst) &&
		same(engine.TupleProto, want.Proto == got.Proto) &&
		same(engine.TupleSport, want.Sport == got.Sport) &&
		same(engine.TupleDport, want.Dport == got.Dport) &&
		same(engine.TupleICMPType, want.ICMPType == got.ICMPType) &&
		same(engine.TupleICMPCode, want.ICMPCode == got.ICMPCode) &&
		same(engine.TupleICMPID, want.ICMPID == got.ICMPID)
}

// flushFilterSupported decides whether the kernel applies CTA_FILTER (and
// the other filters) to a flush. A kernel older than 6.12 is not trusted,
// and the dump filter must be supported (Support().Tuple). On a 6.12+
// kernel the decision is confirmed by a probe that touches no entry: a
// flush request whose CTA_FILTER names a source port but carries no
// tuple, which a kernel that filters flushes rejects (EINVAL) before it
// looks at any entry, and 5.8-6.11 refuse (EOPNOTSUPP); its mark filter
// (mark & 0 == 1) matches no entry in any case, so even a kernel that
// ignored CTA_FILTER (older than 5.8, never probed) would delete nothing.
func (l *Live) flushFilterSupported(ctx context.Context) (bool, error) {
	if !kernelAtLeast(minFlushFilter) || !l.Support().Tuple {
		return false, nil
	}
	e := newRequest(engine.FamilyIPv4)
	e.b[1] = nfnetlinkV1
	e.u32(ctaMark, 1)
	e.u32(ctaMarkMask, 0)
	n := e.begin(ctaFilter)
	e.hostU32(ctaFilterOrigFlags, uint32(engine.TupleSport))
	e.end(n)
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	_, err := l.requestMsg(ctx, "probe filtered flush", ctMessage(ipctnlMsgCtDelete, netlink.Acknowledge, e.b))
	switch {
	case errors.Is(err, unix.EINVAL):
		return true, nil
	case err == nil, errors.Is(err, unix.EOPNOTSUPP):
		return false, nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return false, fmt.Errorf("probe filtered flush: no answer within %v", probeTimeout)
	}
	return false, err
}

// flushExpect empties the expect table, or deletes one family's
// expectations.
func (l *Live) flushExpect(ctx context.Context, family int) error {
	const op = "flush expect table"
	if family == engine.FamilyUnspec {
		e := newRequest(engine.FamilyUnspec)
		_, err := l.requestMsg(ctx, op, expMessage(ipctnlMsgExpDelete, netlink.Acknowledge, e.b))
		return err
	}
	// The kernel's expectation flush ignores the family: delete that
	// family's expectations one by one.
	var doomed []engine.Expect
	if _, err := l.scanExpect(ctx, family, func(e *engine.Expect) error {
		doomed = append(doomed, *e)
		return nil
	}); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	for i := range doomed {
		if err := l.DeleteExpect(ctx, &doomed[i]); err != nil && !errors.Is(err, engine.ErrNotFound) {
			return fmt.Errorf("%s: %w", op, err)
		}
	}
	return nil
}
