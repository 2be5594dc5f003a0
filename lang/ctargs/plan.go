package ctargs

import (
	"sort"

	"ctq/engine"
	"ctq/engine/format"
)

// opOf maps a command index to its Op.
var opOf = [numCmds + 1]Op{
	cmdList: OpList, cmdCreate: OpCreate, cmdUpdate: OpUpdate, cmdDelete: OpDelete,
	cmdGet: OpGet, cmdFlush: OpFlush, cmdEvent: OpEvent, cmdVersion: OpVersion,
	cmdHelp: OpHelp, cmdExpList: OpList, cmdExpCreate: OpCreate, cmdExpDelete: OpDelete,
	cmdExpGet: OpGet, cmdExpFlush: OpFlush, cmdExpEvent: OpEvent, cmdCount: OpCount,
	cmdExpCount: OpCount, cmdStats: OpStats, cmdExpStats: OpStats, cmdAdd: OpAdd,
	numCmds: OpNone,
}

// tableOf maps check_type's tables to the engine's.
var tableOf = [...]engine.Table{
	tableConntrack:   engine.TableConntrack,
	tableExpect:      engine.TableExpect,
	tableDying:       engine.TableDying,
	tableUnconfirmed: engine.TableUnconfirmed,
}

// command builds the Command of a parsed line.
func (p *parser) command() (*Command, *Error) {
	c := &Command{Warnings: p.warnings, Family: p.family, Plan: engine.Plan{Limit: -1}}
	cmd := numCmds
	if p.hasCmd {
		cmd = p.cmd
		c.Table = tableOf[p.table]
	}
	c.Op = opOf[cmd]
	c.Plan.Table = c.Table
	c.Output = outputSpec(p.output, p.labelMap)
	c.outMask = p.output
	c.cmdLetter = byte(p.cmdFlag)
	c.cmdIndex = cmd
	if c.Op == OpHelp && p.options&optProto != 0 {
		name := p.h.name
		if p.h == unknownProto && p.env != nil && p.env.ProtoByNumber != nil {
			if n, ok := p.env.ProtoByNumber(p.protonum); ok {
				name = n
			}
		}
		c.HelpProto = name
		c.helpBody = p.h.help
	}
	m := &matcher{t: p.t, options: p.options, family: p.family}
	pl := &c.Plan
	if c.Table == engine.TableExpect {
		p.expectPlan(c)
		return c, nil
	}
	switch c.Op {
	case OpList:
		pl.Action = engine.ActList
		pl.Filter = p.kernelFilter(true, true)
		pl.Match = m.filter
		// -z zeroes the counters of the conntrack table only (1.4.7
		// dumps dying and unconfirmed entries without it).
		pl.Zero = p.options&optZero != 0 && c.Table == engine.TableConntrack
	case OpGet:
		pl.Action = engine.ActGet
		pl.Key = p.key()
		pl.Match = m.filter
	case OpDelete:
		pl.Action = engine.ActDelete
		pl.Echo = true
		pl.Filter = p.kernelFilter(true, true)
		pl.Match = m.filter
	case OpUpdate:
		pl.Action = engine.ActUpdate
		pl.Echo = true
		pl.Filter = engine.KernelFilter{Family: p.family}
		pl.Match = m.update
		pl.Change = m.change
	case OpCreate, OpAdd:
		pl.Action = engine.ActInsert
		pl.IfAbsent = c.Op == OpAdd
		pl.Create = []engine.Flow{p.newFlow()}
	case OpEvent:
		pl.Action = engine.ActWatch
		pl.Filter = p.kernelFilter(true, false)
		pl.Match = m.filter
		c.EventBuffer = int(p.bufSize)
		c.EventBufferSet = p.options&optBufferSize != 0
		if p.options&optEventMask != 0 {
			if p.eventMask == 0 {
				c.NoEvents = true
			}
			if p.eventMask&evNew != 0 {
				pl.Events |= engine.EventNew
			}
			if p.eventMask&evUpdate != 0 {
				pl.Events |= engine.EventUpdate
			}
			if p.eventMask&evDestroy != 0 {
				pl.Events |= engine.EventDestroy
			}
		}
	case OpFlush:
		pl.Action = engine.ActFlush
		if p.options&optFamily != 0 {
			pl.Filter.Family = p.family
		}
	case OpCount:
		pl.Action = engine.ActCount
	}
	return c, nil
}

// outputSpec is the Output of an -o mask, with the label names when the
// label map was loaded.
func outputSpec(output uint32, labelMap map[string]int) Output {
	o := Output{Spec: format.Spec{Kind: format.KindText}}
	switch {
	case output&outSave != 0:
		o.Spec.Kind = format.KindSave
	case output&outXML != 0:
		o.Spec.Kind = format.KindXML
	}
	if output&outExtended != 0 {
		o.Spec.Flags |= format.FlagExtended
	}
	if output&outID != 0 {
		o.Spec.Flags |= format.FlagID
	}
	if output&outKTimestamp != 0 {
		o.Spec.Flags |= format.FlagKTimestamp
	}
	if output&outTimestamp != 0 {
		o.Spec.Flags |= format.FlagTime
	}
	o.Labels = output&outLabels != 0
	o.Userspace = output&outUserspace != 0
	if labelMap != nil {
		// The first name of a bit in sorted order names it (sorted, so
		// that the result does not depend on the map's order).
		names := make([]string, 0, len(labelMap))
		for name := range labelMap {
			names = append(names, name)
		}
		sort.Strings(names)
		o.LabelNames = make(map[int]string, len(labelMap))
		for _, name := range names {
			if _, ok := o.LabelNames[labelMap[name]]; !ok {
				o.LabelNames[labelMap[name]] = name
			}
		}
	}
	return o
}

// kernelFilter is the part of the filters a kernel dump can apply
// exactly: the family, the original and reply addresses, protocol and
// ports given, and (mark, status) the mark and status filters.
func (p *parser) kernelFilter(mark, status bool) engine.KernelFilter {
	t := &p.t
	k := engine.KernelFilter{Family: p.family}
	if mark && p.options&optMark != 0 {
		k.Mark, k.MarkMask = t.mark&t.markMask, t.markMask
		if t.mark&^t.markMask != 0 {
			// (mark & mask) == value cannot hold: select nothing the
			// kernel way is not expressible, leave it to Match.
			k.Mark, k.MarkMask = 0, 0
		}
	}
	if status && p.options&optStatus != 0 && t.statusSet|t.statusClear != 0 {
		k.Status = engine.Status(t.statusSet)
		k.StatusMask = engine.Status(t.statusSet | t.statusClear)
	}
	if p.options&optComparison == 0 {
		return k
	}
	if t.has&hasSrc != 0 && p.options&optMaskSrc == 0 {
		k.Orig.Fields |= engine.TupleSrc
		k.Orig.Src = t.src
	}
	if t.has&hasDst != 0 && p.options&optMaskDst == 0 {
		k.Orig.Fields |= engine.TupleDst
		k.Orig.Dst = t.dst
	}
	if t.has&hasReplySrc != 0 {
		k.Reply.Fields |= engine.TupleSrc
		k.Reply.Src = t.replySrc
	}
	if t.has&hasReplyDst != 0 {
		k.Reply.Fields |= engine.TupleDst
		k.Reply.Dst = t.replyDst
	}
	if p.options&optProto != 0 && t.proto != 0 {
		k.Orig.Fields |= engine.TupleProto
		k.Orig.Proto = uint8(t.proto)
		if t.proto != engine.ProtoGRE && engine.HasPorts(t.proto) {
			if t.has&hasSport != 0 {
				k.Orig.Fields |= engine.TupleSport
				k.Orig.Sport = t.sport
			}
			if t.has&hasDport != 0 {
				k.Orig.Fields |= engine.TupleDport
				k.Orig.Dport = t.dport
			}
		}
	}
	return k
}

// key is the lookup key of -G: the original tuple.
func (p *parser) key() *engine.Flow {
	t := &p.t
	f := &engine.Flow{}
	f.SetFamily(p.family)
	f.SetProto(t.proto)
	f.Src, f.Dst = t.src, t.dst
	f.Sport, f.Dport = int(t.sport), int(t.dport)
	f.ICMPType, f.ICMPCode, f.ICMPID = int(t.icmpType), int(t.icmpCode), int(t.icmpID)
	return f
}

// newFlow is the entry -I and -A create: the tuples given (a missing
// direction is the inverse of the other, as NFCT_SOPT_SETUP_REPLY and
// _ORIGINAL make it), NAT as a translated reply tuple (which the engine
// sends as CTA_NAT_SRC/DST), and the meta data given. The engine adds
// the TCP window flags conntrack sets (be liberal, SACK permitted,
// close-init from TIME_WAIT on).
func (p *parser) newFlow() engine.Flow {
	t := &p.t
	var f engine.Flow
	f.SetFamily(p.family)
	f.SetProto(t.proto)
	orig := p.options&(optSrc|optDst) != 0
	reply := p.options&(optReplySrc|optReplyDst) != 0
	f.Src, f.Dst = t.src, t.dst
	f.Sport, f.Dport = int(t.sport), int(t.dport)
	f.ReplySrc, f.ReplyDst = t.replySrc, t.replyDst
	f.ReplySport, f.ReplyDport = int(t.replySport), int(t.replyDport)
	f.ICMPType, f.ICMPCode, f.ICMPID = int(t.icmpType), int(t.icmpCode), int(t.icmpID)
	isICMP := t.proto == engine.ProtoICMP || t.proto == engine.ProtoICMPv6
	switch {
	case reply && !orig:
		f.Src, f.Dst = t.replyDst, t.replySrc
		f.Sport, f.Dport = int(t.replyDport), int(t.replySport)
		if isICMP {
			f.ICMPType = icmpInverse(t.proto, int(t.icmpType))
		}
		f.Has |= engine.HasReply
	case reply:
		f.Has |= engine.HasReply
	}
	if isICMP {
		f.ReplyICMPType = icmpInverse(t.proto, f.ICMPType)
		f.ReplyICMPCode, f.ReplyICMPID = f.ICMPCode, f.ICMPID
	}
	if t.has&(hasSNATAddr|hasSNATPort|hasDNATAddr|hasDNATPort) != 0 {
		if f.Has&engine.HasReply == 0 {
			f.ReplySrc, f.ReplyDst = f.Dst, f.Src
			f.ReplySport, f.ReplyDport = f.Dport, f.Sport
			f.Has |= engine.HasReply
		}
		if t.has&hasSNATAddr != 0 {
			f.ReplyDst = t.snat
		}
		if t.has&hasSNATPort != 0 {
			f.ReplyDport = int(t.snatPort)
		}
		if t.has&hasDNATAddr != 0 {
			f.ReplySrc = t.dnat
		}
		if t.has&hasDNATPort != 0 {
			f.ReplySport = int(t.dnatPort)
		}
	}
	f.Timeout = int(t.timeout)
	f.Has |= engine.HasTimeout
	if p.options&optStatus != 0 {
		f.SetStatus(engine.Status(t.statusSet))
	}
	if t.has&hasState != 0 {
		f.SetState(t.state)
	}
	if p.options&optMark != 0 {
		f.Mark = int(t.mark)
		f.Has |= engine.HasMark
	}
	if t.has&hasLabelModify != 0 {
		f.Labels = t.labelModify
		f.Has |= engine.HasLabels
	}
	if p.options&optZone != 0 {
		f.Zone = int(t.zone)
		f.Has |= engine.HasZone
	}
	if p.options&optOrigZone != 0 {
		f.OrigZone = int(t.origZone)
		f.Has |= engine.HasOrigZone
	}
	if p.options&optReplyZone != 0 {
		f.ReplyZone = int(t.replyZone)
		f.Has |= engine.HasReplyZone
	}
	if t.has&(hasOrigVtag|hasReplyVtag) != 0 {
		f.OrigVtag, f.ReplyVtag = int(t.origVtag), int(t.replyVtag)
		f.Has |= engine.HasVtags
	}
	if t.has&hasRole != 0 {
		f.DCCPRole = t.role
		f.Has |= engine.HasRole
	}
	return f
}

// icmpInverse is the ICMP type of the other direction (the kernel's
// invmap: echo request and reply, timestamp, info and address requests);
// other types stay.
func icmpInverse(proto, typ int) int {
	pairs := [][2]int{{8, 0}, {13, 14}, {15, 16}, {17, 18}}
	if proto == engine.ProtoICMPv6 {
		pairs = [][2]int{{128, 129}, {139, 140}}
	}
	for _, pr := range pairs {
		switch typ {
		case pr[0]:
			return pr[1]
		case pr[1]:
			return pr[0]
		}
	}
	return typ
}

// expectPlan builds the plans of the expect table.
func (p *parser) expectPlan(c *Command) {
	t := &p.t
	pl := &c.Plan
	family := p.family
	switch c.Op {
	case OpList, OpCount:
		// The dump asks the kernel for the family, which defaults to
		// IPv4 here: -L expect and -C expect see IPv4 expectations
		// unless -f ipv6 is given.
		pl.Action = engine.ActList
		if c.Op == OpCount {
			pl.Action = engine.ActCount
		}
		pl.Filter.Family = family
		if family != engine.FamilyUnspec {
			pl.MatchExpect = func(e *engine.Expect) (bool, error) {
				return engine.FamilyNum(e.Family) == family, nil
			}
		}
	case OpGet, OpDelete:
		// The expected tuple is given with -s -d -p --sport --dport.
		pl.Action = engine.ActList
		if c.Op == OpDelete {
			pl.Action = engine.ActDelete
		}
		pl.MatchExpect = func(e *engine.Expect) (bool, error) {
			if e.Src != t.src || e.Dst != t.dst || e.ProtoNum != t.proto {
				return false, nil
			}
			if t.has&hasSport != 0 && uint16(e.Sport) != t.sport {
				return false, nil
			}
			if t.has&hasDport != 0 && uint16(e.Dport) != t.dport {
				return false, nil
			}
			return true, nil
		}
	case OpCreate:
		pl.Action = engine.ActInsert
		e := engine.Expect{
			Family:         engine.FamilyName(family),
			Proto:          engine.ProtoName(t.proto),
			ProtoNum:       t.proto,
			Src:            t.tupleSrc,
			Dst:            t.tupleDst,
			Sport:          int(t.tupleSport),
			Dport:          int(t.tupleDport),
			MaskSrc:        t.maskSrc,
			MaskDst:        t.maskDst,
			MaskSport:      int(t.maskSport),
			MaskDport:      int(t.maskDport),
			MasterProto:    engine.ProtoName(t.proto),
			MasterProtoNum: t.proto,
			MasterSrc:      t.src,
			MasterDst:      t.dst,
			MasterSport:    int(t.sport),
			MasterDport:    int(t.dport),
			Timeout:        int(t.timeout),
			Has:            engine.HasExpTimeout | engine.HasExpMask | engine.HasExpMaster,
		}
		pl.CreateExpect = []engine.Expect{e}
	case OpFlush:
		pl.Action = engine.ActFlush
	case OpEvent:
		pl.Action = engine.ActWatch
	}
}
