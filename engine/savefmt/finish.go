package savefmt

import (
	"ctq/engine"
)

// finish runs the checks that need the whole line, then derives the
// missing tuple fields.
func (p *parser) finish() error {
	if p.l.Cmd == 0 {
		col := 1
		if len(p.toks) > 0 {
			col = p.toks[0].Col
		}
		return errAt(col, "no command (-A, -I, -U, -D or -F)")
	}
	if err := p.checkNAT(); err != nil {
		return err
	}
	if err := p.checkProto(); err != nil {
		return err
	}
	switch p.l.Cmd {
	case CmdFlush:
		if extra := p.l.Set &^ FieldFamily; extra != 0 {
			i := fieldIndex(extra & -extra)
			return errAt(p.cols[i], "option `%s' cannot be used with -F", p.names[i])
		}
	case CmdAdd, CmdCreate:
		if err := p.checkEntry(); err != nil {
			return err
		}
	}
	p.invert()
	f := &p.l.Flow
	if p.fam != 0 {
		f.SetFamily(p.fam)
	}
	if f.ReplySrc.IsValid() && f.ReplyDst.IsValid() {
		f.Has |= engine.HasReply
	}
	return nil
}

// checkNAT rejects -n/-g given together with the reply option they stand
// for, and applies a NAT port.
func (p *parser) checkNAT() error {
	for _, c := range [...]struct{ nat, plain Fields }{
		{FieldDstNAT, FieldReplySrc}, {FieldSrcNAT, FieldReplyDst},
	} {
		if p.l.Set.Has(c.nat | c.plain) {
			i, j := fieldIndex(c.nat), fieldIndex(c.plain)
			return errAt(max(p.cols[i], p.cols[j]), "`%s' and `%s' both give the reply %s address",
				p.names[i], p.names[j], map[Fields]string{FieldReplySrc: "source", FieldReplyDst: "destination"}[c.plain])
		}
	}
	if p.natPort < 0 {
		return nil
	}
	col := p.natCol
	if !p.hasProto || !engine.HasPorts(p.proto) || p.proto == engine.ProtoGRE {
		return errAt(col, "a NAT port needs a protocol with ports (-p tcp, udp, udplite, sctp or dccp)")
	}
	f := &p.l.Flow
	port := &f.ReplySport
	if p.natField == FieldReplyDport {
		port = &f.ReplyDport
	}
	if p.l.Set.Has(p.natField) {
		if *port != p.natPort {
			return errAt(col, "NAT port %d differs from reply port %d", p.natPort, *port)
		}
		return nil
	}
	*port = p.natPort
	p.have |= p.natField
	return nil
}

// checkProto checks that ICMP and ICMPv6 go with their address family.
func (p *parser) checkProto() error {
	switch {
	case p.proto == engine.ProtoICMP && p.hasProto && p.fam == engine.FamilyIPv6:
		return errAt(p.protoCol, "protocol icmp needs IPv4 addresses (use icmpv6)")
	case p.proto == engine.ProtoICMPv6 && p.hasProto && p.fam == engine.FamilyIPv4:
		return errAt(p.protoCol, "protocol icmpv6 needs IPv6 addresses (use icmp)")
	}
	return nil
}

// checkEntry checks that an -A or -I line describes a whole entry: a
// protocol, a timeout, the addresses and the layer-4 tuple of at least one
// direction. Unlike conntrack it does not demand --state, vtags or --role,
// so that saved entries of protocols the kernel did not track still load.
func (p *parser) checkEntry() error {
	col := p.cmdCol
	if !p.l.Set.Has(FieldProto) {
		return errAt(col, "you need to supply the `--protonum' option for this command")
	}
	if !p.l.Set.Has(FieldTimeout) {
		return errAt(col, "you need to supply the `--timeout' option for this command")
	}
	if !p.have.Has(FieldSrc|FieldDst) && !p.have.Has(FieldReplySrc|FieldReplyDst) {
		return errAt(col, "you have to specify `--src' and `--dst' (or `--reply-src' and `--reply-dst')")
	}
	switch {
	case p.proto == engine.ProtoGRE:
		if !p.have.Has(FieldSport|FieldDport) && !p.have.Has(FieldReplySport|FieldReplyDport) {
			return errAt(col, "you have to specify `--srckey' and `--dstkey'")
		}
	case engine.HasPorts(p.proto):
		if !p.have.Has(FieldSport|FieldDport) && !p.have.Has(FieldReplySport|FieldReplyDport) {
			return errAt(col, "you have to specify `--sport' and `--dport'")
		}
	case p.proto == engine.ProtoICMP || p.proto == engine.ProtoICMPv6:
		if !p.have.Has(FieldICMPType | FieldICMPCode) {
			return errAt(col, "you have to specify the ICMP type and code")
		}
	}
	return nil
}

// invert fills each tuple field the line did not give from the other
// direction, as the kernel inverts a tuple: reply source = original
// destination, reply ports = original ports swapped, and back; ICMP keeps
// code and id and pairs the type (echo request with echo reply, ...).
func (p *parser) invert() {
	f := &p.l.Flow
	have := p.have
	fill := func(dst *int, dstField Fields, src int, srcField Fields) {
		if !have.Has(dstField) && have.Has(srcField) {
			*dst = src
			have |= dstField
		}
	}
	if !have.Has(FieldReplySrc) && have.Has(FieldDst) {
		f.ReplySrc = f.Dst
		have |= FieldReplySrc
	}
	if !have.Has(FieldReplyDst) && have.Has(FieldSrc) {
		f.ReplyDst = f.Src
		have |= FieldReplyDst
	}
	if !have.Has(FieldSrc) && have.Has(FieldReplyDst) {
		f.Src = f.ReplyDst
		have |= FieldSrc
	}
	if !have.Has(FieldDst) && have.Has(FieldReplySrc) {
		f.Dst = f.ReplySrc
		have |= FieldDst
	}
	if engine.HasPorts(p.proto) {
		fill(&f.ReplySport, FieldReplySport, f.Dport, FieldDport)
		fill(&f.ReplyDport, FieldReplyDport, f.Sport, FieldSport)
		fill(&f.Sport, FieldSport, f.ReplyDport, FieldReplyDport)
		fill(&f.Dport, FieldDport, f.ReplySport, FieldReplySport)
	}
	if p.proto == engine.ProtoICMP || p.proto == engine.ProtoICMPv6 {
		if have.Has(FieldICMPType) {
			f.ReplyICMPType = f.ICMPType
			if t, ok := icmpReplyType(p.proto, f.ICMPType); ok {
				f.ReplyICMPType = t
			}
		}
		f.ReplyICMPCode = f.ICMPCode
		f.ReplyICMPID = f.ICMPID
	}
	p.have = have
}
