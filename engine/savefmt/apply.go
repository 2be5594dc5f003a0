package savefmt

import (
	"math"
	"strings"

	"ctq/engine"
)

// commands maps the command options to their letters.
var commands = map[optID]Command{
	optAdd: CmdAdd, optCreate: CmdCreate, optUpdate: CmdUpdate, optDelete: CmdDelete, optFlush: CmdFlush,
}

// apply stores one option's value.
func (p *parser) apply(def *optDef, name string, col int, val value) error {
	switch def.id {
	case optAdd, optCreate, optUpdate, optDelete, optFlush:
		if p.l.Cmd != 0 {
			return errAt(col, "invalid commands combination (`%s' after %s)", name, p.l.Cmd)
		}
		p.l.Cmd = commands[def.id]
		p.cmdCol = col
		if val.given {
			return checkTable(val)
		}
		return nil
	case optOtherCmd:
		return errAt(col, "command `%s' cannot be used in a save line (only -A, -I, -U, -D and -F)", name)
	case optUnsupported:
		return errAt(col, "option `%s' is not supported in a save line", name)
	}
	if p.seen[def.id] {
		return errAt(col, "option `%s' given twice", name)
	}
	p.seen[def.id] = true
	idx := fieldIndex(def.field)
	p.cols[idx], p.names[idx] = col, name
	p.l.Set |= def.field
	p.have |= def.field
	switch def.id {
	case optSrc, optDst, optReplySrc, optReplyDst:
		return p.addr(def.field, val)
	case optSrcNAT, optDstNAT:
		return p.nat(def.field, name, col, val)
	case optProto:
		return p.protocol(val)
	case optFamily:
		af := map[string]int{"ipv4": engine.FamilyIPv4, "ipv6": engine.FamilyIPv6}[val.text]
		if af == 0 {
			return errAt(val.col, "`%s' unsupported family (ipv4 or ipv6)", val.text)
		}
		return p.setFamily(af, val.col)
	case optStatus:
		st, off, err := parseStatus(val.text)
		if err != nil {
			return errAt(val.colAt(off), "%v", err)
		}
		p.l.Flow.SetStatus(st)
		return nil
	case optMark:
		return p.mark(val)
	}
	return p.number(def, val)
}

// numLimit is the range of a numeric option and its name in messages.
type numLimit struct {
	max  uint64
	dec  bool // decimal only (atoi in conntrack) rather than strtoul base 0
	what string
}

// numLimits are the numeric options' limits.
var numLimits = map[optID]numLimit{
	optTimeout:     {math.MaxUint32, true, "timeout"},
	optSecmark:     {math.MaxUint32, false, "secmark"},
	optConnID:      {math.MaxUint32, false, "id"},
	optZone:        {math.MaxUint16, false, "zone"},
	optOrigZone:    {math.MaxUint16, false, "zone"},
	optReplyZone:   {math.MaxUint16, false, "zone"},
	optSport:       {math.MaxUint16, true, "port"},
	optDport:       {math.MaxUint16, true, "port"},
	optReplySport:  {math.MaxUint16, true, "port"},
	optReplyDport:  {math.MaxUint16, true, "port"},
	optSrcKey:      {math.MaxUint16, false, "GRE key"},
	optDstKey:      {math.MaxUint16, false, "GRE key"},
	optReplySrcKey: {math.MaxUint16, false, "GRE key"},
	optReplyDstKey: {math.MaxUint16, false, "GRE key"},
	optOrigVtag:    {math.MaxUint32, true, "verification tag"},
	optReplyVtag:   {math.MaxUint32, true, "verification tag"},
	optICMPType:    {math.MaxUint8, true, "ICMP type"},
	optICMPCode:    {math.MaxUint8, true, "ICMP code"},
	optICMPID:      {math.MaxUint16, true, "ICMP id"},
}

// number stores the value of a numeric option, or of --state or --role.
func (p *parser) number(def *optDef, val value) error {
	f := &p.l.Flow
	switch def.id {
	case optState:
		n, ok := engine.StateNum(p.proto, val.text)
		if !ok {
			return errAt(val.col, "unknown %s state `%s'", strings.ToUpper(protoLabel(p.proto)), val.text)
		}
		f.SetState(n)
		return nil
	case optRole:
		r, ok := parseRole(val.text)
		if !ok {
			return errAt(val.col, "unknown DCCP role `%s' (client or server)", val.text)
		}
		f.DCCPRole = r
		f.Has |= engine.HasRole
		return nil
	}
	l := numLimits[def.id]
	parse := parseNum
	if l.dec {
		parse = parseDec
	}
	u, err := parse(val.text, l.max)
	if err != nil {
		return errAt(val.col, "invalid %s `%s'", l.what, val.text)
	}
	v := int(u)
	switch def.id {
	case optTimeout:
		f.Timeout = v
		f.Has |= engine.HasTimeout
	case optSecmark:
		f.Secmark = v
		f.Has |= engine.HasSecmark
	case optConnID:
		f.ID = v
		f.Has |= engine.HasID
	case optZone:
		f.Zone = v
		f.Has |= engine.HasZone
	case optOrigZone:
		f.OrigZone = v
		f.Has |= engine.HasOrigZone
	case optReplyZone:
		f.ReplyZone = v
		f.Has |= engine.HasReplyZone
	case optSport, optSrcKey:
		f.Sport = v
	case optDport, optDstKey:
		f.Dport = v
	case optReplySport, optReplySrcKey:
		f.ReplySport = v
	case optReplyDport, optReplyDstKey:
		f.ReplyDport = v
	case optOrigVtag:
		f.OrigVtag = v
		f.Has |= engine.HasVtags
	case optReplyVtag:
		f.ReplyVtag = v
		f.Has |= engine.HasVtags
	case optICMPType:
		f.ICMPType = v
	case optICMPCode:
		f.ICMPCode = v
	case optICMPID:
		f.ICMPID = v
	}
	return nil
}

// addr stores one of -s -d -r -q.
func (p *parser) addr(field Fields, val value) error {
	a, err := parseAddr(val.text)
	if err != nil {
		return errAt(val.col, "%v", err)
	}
	if err := p.setFamily(addrFamily(a), val.col); err != nil {
		return err
	}
	f := &p.l.Flow
	switch field {
	case FieldSrc:
		f.Src = a
	case FieldDst:
		f.Dst = a
	case FieldReplySrc:
		f.ReplySrc = a
	case FieldReplyDst:
		f.ReplyDst = a
	}
	return nil
}

// nat stores -n/-g in their save-format meaning: -n ADDR[:PORT] is the
// reply destination (and reply destination port), -g ADDR[:PORT] the reply
// source (and reply source port). conntrack also accepts them without a
// value, as "any NAT" filters; a save line needs the address.
func (p *parser) nat(field Fields, name string, col int, val value) error {
	if !val.given {
		return errAt(col, "option `%s' needs an address in a save line", name)
	}
	a, port, err := parseNAT(val.text)
	if err != nil {
		return errAt(val.col, "%v", err)
	}
	if err := p.setFamily(addrFamily(a), val.col); err != nil {
		return err
	}
	if field == FieldSrcNAT {
		p.l.Flow.ReplyDst = a
		p.have |= FieldReplyDst
		p.natField = FieldReplyDport
	} else {
		p.l.Flow.ReplySrc = a
		p.have |= FieldReplySrc
		p.natField = FieldReplySport
	}
	if port >= 0 {
		if p.natPort >= 0 {
			return errAt(val.col, "only one of --src-nat and --dst-nat may give a port")
		}
		p.natPort, p.natCol = port, val.col
	}
	return nil
}

// protocol stores -p.
func (p *parser) protocol(val value) error {
	n, err := parseProto(val.text)
	if err != nil {
		return errAt(val.col, "%v", err)
	}
	p.proto, p.protoCol, p.hasProto = n, val.col, true
	p.l.Flow.SetProto(n)
	return nil
}

// mark stores -m MARK[/MASK].
func (p *parser) mark(val value) error {
	m, mask, hasMask := strings.Cut(val.text, "/")
	v, err := parseNum(m, math.MaxUint32)
	if err != nil {
		return errAt(val.col, "invalid mark `%s'", m)
	}
	if hasMask {
		mv, err := parseNum(mask, math.MaxUint32)
		if err != nil {
			return errAt(val.colAt(len(m)+1), "invalid mark mask `%s'", mask)
		}
		p.l.MarkMask = uint32(mv)
	}
	p.l.Flow.Mark = int(v)
	p.l.Flow.Has |= engine.HasMark
	return nil
}

// setFamily records the family an option implies; all must agree.
func (p *parser) setFamily(af, col int) error {
	if p.fam != 0 && p.fam != af {
		return errAt(col, "mismatched address family")
	}
	p.fam = af
	return nil
}

// checkTable checks the table word after a command: a prefix of a table
// name, matched in conntrack's order (expect, conntrack, dying,
// unconfirmed); only conntrack is allowed in a save line.
func checkTable(val value) error {
	for _, t := range []string{"expect", "conntrack", "dying", "unconfirmed"} {
		if strings.HasPrefix(t, val.text) {
			if t != "conntrack" {
				return errAt(val.col, "table `%s' cannot be used in a save line (only conntrack)", t)
			}
			return nil
		}
	}
	return errAt(val.col, "unknown table `%s'", val.text)
}
