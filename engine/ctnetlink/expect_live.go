//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"ctq/engine"
)

var _ engine.ExpectSource = (*Live)(nil)

// expMessage wraps a payload into a request of the expectation subsystem
// (NFNL_SUBSYS_CTNETLINK_EXP).
func expMessage(msgType int, flags netlink.HeaderFlags, data []byte) netlink.Message {
	return netlink.Message{
		Header: netlink.Header{
			Type:  netlink.HeaderType(nfnlSubsysCTNetlinkExp<<8 | msgType),
			Flags: netlink.Request | flags,
		},
		Data: data,
	}
}

// ScanExpect dumps the expect table (IPCTNL_MSG_EXP_GET) and calls yield
// for each expectation as it arrives, with one reused Expect. Messages
// that do not decode are skipped and counted. Cancelling ctx stops the
// dump promptly.
func (l *Live) ScanExpect(ctx context.Context, yield func(*engine.Expect) error) (engine.ScanStats, error) {
	return l.scanExpect(ctx, engine.FamilyUnspec, yield)
}

// scanExpect dumps the expectations of family (AF_UNSPEC: all; the
// kernel filters by nfgen_family).
func (l *Live) scanExpect(ctx context.Context, family int, yield func(*engine.Expect) error) (engine.ScanStats, error) {
	const op = "dump expect"
	var st engine.ScanStats
	st.Pushed.Family = family
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("%s: %w", op, err)
	}
	c, err := l.dial()
	if err != nil {
		return st, fmt.Errorf("%s: %w", op, err)
	}
	defer l.release(c)
	// As in dumpFamily: leaving the loop early must make the library's
	// next read fail rather than drain the dump.
	abort := func() { _ = c.SetReadDeadline(time.Unix(1, 0)) }
	stop := context.AfterFunc(ctx, abort)
	defer stop()

	if _, err := c.Send(expMessage(ipctnlMsgExpGet, netlink.Dump, newRequest(uint8(family)).b)); err != nil {
		return st, kernelError(op, err)
	}
	var e engine.Expect
	for m, err := range c.ReceiveIter() {
		switch {
		case err != nil && ctx.Err() != nil:
			return st, fmt.Errorf("%s: %w", op, context.Cause(ctx))
		case l.closed.Load():
			abort()
			return st, fmt.Errorf("%s: %w", op, errClosed)
		case err != nil:
			return st, kernelError(op, err)
		}
		if m.Header.Flags&netlink.DumpInterrupted != 0 {
			st.Interrupted = true
		}
		if int(m.Header.Type)>>8 != nfnlSubsysCTNetlinkExp || DecodeExpect(m.Data, &e) != nil {
			st.Skipped++
			continue
		}
		st.Received++
		if err := yield(&e); err != nil {
			abort()
			return st, err
		}
	}
	return st, nil
}

// expectFamily is the address family of e: its Family, else that of its
// expected source address. The addresses e has must belong to it.
func expectFamily(e *engine.Expect) (int, error) {
	fam := engine.FamilyNum(e.Family)
	if fam == engine.FamilyUnspec {
		fam = addrFamily(e.Src)
	}
	if fam == engine.FamilyUnspec || addrFamily(e.Src) != fam || addrFamily(e.Dst) != fam {
		return 0, errors.New("an expectation needs the source and destination addresses of one family")
	}
	return fam, nil
}

// expectedTuple is e's expected tuple.
func expectedTuple(e *engine.Expect) tupleVals {
	return tupleVals{src: e.Src, dst: e.Dst, proto: e.ProtoNum, sport: e.Sport, dport: e.Dport}
}

// encodeExpectKey appends what identifies an expectation: its expected
// tuple, its zone and (when e.Has&HasExpID) its ID.
func encodeExpectKey(w *attrEncoder, e *engine.Expect) error {
	t := expectedTuple(e)
	if err := w.tuple(ctaExpectTuple, &t); err != nil {
		return err
	}
	if err := checkRange("zone", e.Zone, 0xffff); err != nil {
		return err
	}
	if e.Zone != 0 {
		w.u16(ctaExpectZone, uint16(e.Zone))
	}
	if e.Has&engine.HasExpID != 0 {
		w.u32(ctaExpectID, uint32(e.ID))
	}
	return nil
}

// encodeExpectCreate encodes an IPCTNL_MSG_EXP_NEW request (sent with
// NLM_F_CREATE|NLM_F_EXCL) for e: the master's original tuple, the
// expected tuple and its mask (addresses and ports; the kernel takes the
// source part of the mask, the destination is always matched exactly),
// the timeout, zone, helper, flags, class and expectfn that are set, and
// the NAT part when e.Has&HasExpNAT (see encodeExpectNAT). The
// kernel replaces the timeout with its helper's policy when the master
// has a helper, and the class is only used with a helper.
func encodeExpectCreate(e *engine.Expect) ([]byte, error) {
	fam, err := expectFamily(e)
	if err != nil {
		return nil, err
	}
	for _, a := range []struct {
		what string
		addr netip.Addr
	}{{"master source", e.MasterSrc}, {"master destination", e.MasterDst},
		{"mask source", e.MaskSrc}, {"mask destination", e.MaskDst}} {
		if addrFamily(a.addr) != fam {
			return nil, fmt.Errorf("the %s address is missing or of another family", a.what)
		}
	}
	for _, v := range []struct {
		what   string
		v, max int
	}{{"timeout", e.Timeout, 1<<32 - 1}, {"flags", e.Flags, 1<<32 - 1}, {"class", e.Class, 1<<32 - 1}} {
		if err := checkRange(v.what, v.v, v.max); err != nil {
			return nil, err
		}
	}
	w := newRequest(uint8(fam))
	master := tupleVals{src: e.MasterSrc, dst: e.MasterDst, proto: e.MasterProtoNum,
		sport: e.MasterSport, dport: e.MasterDport}
	if err := w.tuple(ctaExpectMaster, &master); err != nil {
		return nil, fmt.Errorf("master tuple: %w", err)
	}
	t := expectedTuple(e)
	if err := w.tuple(ctaExpectTuple, &t); err != nil {
		return nil, fmt.Errorf("expected tuple: %w", err)
	}
	mask := tupleVals{src: e.MaskSrc, dst: e.MaskDst, proto: e.ProtoNum, sport: e.MaskSport, dport: e.MaskDport}
	if err := w.tuple(ctaExpectMask, &mask); err != nil {
		return nil, fmt.Errorf("mask: %w", err)
	}
	if e.Has&engine.HasExpTimeout != 0 || e.Timeout != 0 {
		w.u32(ctaExpectTimeout, uint32(e.Timeout))
	}
	if err := checkRange("zone", e.Zone, 0xffff); err != nil {
		return nil, err
	}
	if e.Zone != 0 {
		w.u16(ctaExpectZone, uint16(e.Zone))
	}
	if e.Helper != "" {
		w.bytes(ctaExpectHelpName, append([]byte(e.Helper), 0))
	}
	if e.Flags != 0 {
		w.u32(ctaExpectFlags, uint32(e.Flags))
	}
	if e.Has&engine.HasExpClass != 0 || e.Class != 0 {
		w.u32(ctaExpectClass, uint32(e.Class))
	}
	if e.Fn != "" {
		w.bytes(ctaExpectFn, append([]byte(e.Fn), 0))
	}
	if e.Has&engine.HasExpNAT != 0 {
		if err := encodeExpectNAT(w, e, fam); err != nil {
			return nil, fmt.Errorf("nat: %w", err)
		}
	}
	return w.b, nil
}

// encodeExpectNAT appends e's NAT part as CTA_EXPECT_NAT: the direction
// and the NAT tuple. The kernel parses the tuple in the master's family
// and demands both addresses (and both ports of a protocol with ports);
// it keeps the source address and port. A missing address is sent as
// the family's unspecified address, as the kernel reports it.
func encodeExpectNAT(w *attrEncoder, e *engine.Expect, fam int) error {
	if err := checkRange("direction", e.NATDir, 1); err != nil {
		return err
	}
	unspec := netip.IPv4Unspecified()
	if fam == engine.FamilyIPv6 {
		unspec = netip.IPv6Unspecified()
	}
	t := tupleVals{src: e.NATSrc, dst: e.NATDst, proto: e.NATProtoNum, sport: e.NATSport, dport: e.NATDport}
	for _, a := range []*netip.Addr{&t.src, &t.dst} {
		if !a.IsValid() {
			*a = unspec
		}
		if addrFamily(*a) != fam {
			return errors.New("the NAT tuple's addresses are of another family")
		}
	}
	n := w.begin(ctaExpectNAT)
	w.u32(ctaExpectNATDir, uint32(e.NATDir))
	if err := w.tuple(ctaExpectNATTuple, &t); err != nil {
		return fmt.Errorf("tuple: %w", err)
	}
	w.end(n)
	return nil
}

// expectName describes an expectation in messages: its expected tuple,
// and its master's when known.
func expectName(e *engine.Expect) string {
	s := entryKey{proto: e.ProtoNum, src: e.Src, dst: e.Dst, sport: e.Sport, dport: e.Dport}.String()
	if e.MasterSrc.IsValid() {
		s += " (master " + entryKey{proto: e.MasterProtoNum, src: e.MasterSrc, dst: e.MasterDst,
			sport: e.MasterSport, dport: e.MasterDport}.String() + ")"
	}
	return s
}

// CreateExpect creates e (IPCTNL_MSG_EXP_NEW, see encodeExpectCreate). Its
// master connection must exist and, on current kernels, have a helper.
func (l *Live) CreateExpect(ctx context.Context, e *engine.Expect) error {
	op := "create expectation " + expectName(e)
	data, err := encodeExpectCreate(e)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = l.requestMsg(ctx, op, expMessage(ipctnlMsgExpNew, netlink.Create|netlink.Excl|netlink.Acknowledge, data))
	return expectCreateError(op, err)
}

// expectCreateError explains the kernel's usual refusals of an
// expectation create; err is already prefixed with op.
func expectCreateError(op string, err error) error {
	switch {
	case errors.Is(err, unix.ENOENT):
		return fmt.Errorf("%s: the master connection does not exist: %w", op, unix.ENOENT)
	case errors.Is(err, unix.EOPNOTSUPP):
		return fmt.Errorf("%s: the master connection has no helper (or the helper is unknown): %w", op, unix.EOPNOTSUPP)
	case errors.Is(err, unix.EEXIST):
		return fmt.Errorf("%s: the expectation exists already: %w", op, unix.EEXIST)
	}
	return err
}

// encodeExpectDelete encodes an IPCTNL_MSG_EXP_DELETE request for e: its
// family and key (see encodeExpectKey).
func encodeExpectDelete(e *engine.Expect) ([]byte, error) {
	fam, err := expectFamily(e)
	if err != nil {
		return nil, err
	}
	w := newRequest(uint8(fam))
	if err := encodeExpectKey(w, e); err != nil {
		return nil, err
	}
	return w.b, nil
}

// DeleteExpect deletes the expectation with e's expected tuple and zone
// (and ID when e.Has&HasExpID) with IPCTNL_MSG_EXP_DELETE; ErrNotFound
// when there is none.
func (l *Live) DeleteExpect(ctx context.Context, e *engine.Expect) error {
	op := "delete expectation " + expectName(e)
	data, err := encodeExpectDelete(e)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	_, err = l.requestMsg(ctx, op, expMessage(ipctnlMsgExpDelete, netlink.Acknowledge, data))
	if errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("%s: %w", op, engine.ErrNotFound)
	}
	return err
}
