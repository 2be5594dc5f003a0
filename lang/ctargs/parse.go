package ctargs

import (
	"fmt"
	"net/netip"
	"strings"
	"syscall"

	"ctq/engine"
)

// Tables of check_type, in the order a table word is matched against them.
const (
	tableConntrack   = iota // CT_TABLE_CONNTRACK
	tableExpect             // CT_TABLE_EXPECT
	tableDying              // CT_TABLE_DYING
	tableUnconfirmed        // CT_TABLE_UNCONFIRMED
)

// Attributes set in the template (which of tmpl's fields were given).
const (
	hasSrc = 1 << iota
	hasDst
	hasReplySrc
	hasReplyDst
	hasMaskSrc
	hasMaskDst
	hasTupleSrc
	hasTupleDst
	hasSport
	hasDport
	hasReplySport
	hasReplyDport
	hasMaskSport
	hasMaskDport
	hasTupleSport
	hasTupleDport
	hasState
	hasOrigVtag
	hasReplyVtag
	hasRole
	hasICMPType
	hasICMPCode
	hasICMPID
	hasSNATAddr
	hasDNATAddr
	hasSNATPort
	hasDNATPort
	hasLabels
	hasLabelModify
)

// tmpl is what the options set (conntrack's struct ct_tmpl and the
// attributes of its template conntrack), typed.
type tmpl struct {
	has uint64

	src, dst, replySrc, replyDst netip.Addr
	maskSrc, maskDst             netip.Addr
	tupleSrc, tupleDst           netip.Addr

	sport, dport, replySport, replyDport uint16
	maskSport, maskDport                 uint16
	tupleSport, tupleDport               uint16

	state, stateProto   int
	origVtag, replyVtag uint32
	role                int
	icmpType, icmpCode  uint8
	icmpID              uint16

	proto   int
	timeout uint32
	// statusSet are the -u flags that must be set (and that -I/-U set),
	// statusClear those that must be clear (!FLAG, UNREPLIED).
	statusSet, statusClear uint32
	mark, markMask         uint32
	// markAfterStatus records a -u after -m (1.4.7 then overwrote the mark).
	markAfterStatus bool
	secmark, id     uint32
	zone            uint16
	origZone        uint16
	replyZone       uint16

	snat, dnat         netip.Addr
	snatPort, dnatPort uint16

	labels, labelModify engine.Labels
}

// parser is the state of one conntrack command line's parse (do_parse's
// locals and the globals it uses).
type parser struct {
	env  *Env
	g    *getopt
	opts []longOpt
	// h is the handler of the last -p, hOffset its option offset, offset
	// the offset the next -p gets (global_option_offset).
	h       *protoHandler
	hOffset int
	offset  int

	hasCmd   bool
	cmd      int
	cmdFlag  int // the command letter
	table    int
	options  uint32
	family   int
	protonum int
	t        tmpl
	l4flags  uint32

	eventMask uint32
	output    uint32
	bufSize   int64

	labelMap    map[string]int
	labelsTried bool

	warnings []string
}

// warn records a line conntrack writes to standard error while parsing.
func (p *parser) warn(format string, args ...any) {
	p.warnings = append(p.warnings, fmt.Sprintf(format, args...))
}

// paramErr is a PARAMETER_PROBLEM (exit status 2).
func paramErr(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Code: 2}
}

// otherErr is an OTHER_PROBLEM (exit status 1).
func otherErr(format string, args ...any) *Error {
	return &Error{Msg: fmt.Sprintf(format, args...), Code: 1}
}

// Parse parses a conntrack command line (without the program name), as
// conntrack 1.4.7 does, into a Command. Errors are *Error values; their
// Warnings hold what conntrack printed before the error. Parse also
// makes the checks conntrack makes when it starts to execute a command,
// before it talks to the kernel (-z with filters, --mask-src without
// --src, -L -u UNSET, -G by reply tuple), and reports them the same way.
//
// A "-R FILE" or "--load-file FILE" first word gives OpLoad with
// LoadFile set (the rest is ignored, as conntrack does); ParseLoad parses
// the file.
func Parse(args []string, env *Env) (*Command, error) {
	if len(args) > 1 && (args[0] == "-R" || args[0] == "--load-file") {
		return &Command{Op: OpLoad, LoadFile: args[1]}, nil
	}
	c, err := parseLine(args, env, false, 0)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// parseLine parses one command line; inLoad says it is a line of a load
// file (whose execution-time checks are left to Command.ExecError), and
// output is the -o mask of the lines before (conntrack's output_mask is
// global).
func parseLine(args []string, env *Env, inLoad bool, output uint32) (*Command, *Error) {
	p := &parser{env: env, g: newGetopt(args), opts: genericOpts, output: output}
	err := p.parse()
	if err == nil {
		err = p.check()
	}
	var exec *Error
	if err == nil {
		exec = p.execCheck()
		if exec != nil && !inLoad {
			err = exec
		}
	}
	if err != nil {
		err.Warnings = p.warnings
		return nil, err
	}
	c, err := p.command()
	if err != nil {
		err.Warnings = p.warnings
		return nil, err
	}
	if exec != nil {
		exec.Warnings = nil
		c.ExecError = exec
	}
	return c, nil
}

// parse runs the option loop.
func (p *parser) parse() *Error {
	g := p.g
	for {
		c := g.next(p.opts)
		if c == -1 {
			return nil
		}
		if err := p.option(c); err != nil {
			return err
		}
	}
}

// option handles one option getopt returned.
func (p *parser) option(c int) *Error {
	g := p.g
	arg := g.optarg
	switch c {
	case 'L', 'I', 'D', 'G', 'F', 'E', 'V', 'h', 'C', 'S', 'U', 'A':
		typ, err := p.checkType()
		if err != nil {
			return err
		}
		types := cmdTypes[c]
		if c == 'L' && (typ == tableDying || typ == tableUnconfirmed) {
			return p.addCommand(c, types[0], typ)
		}
		if typ == tableDying || typ == tableUnconfirmed {
			return paramErr("Can't do that command with tables `dying' and `unconfirmed'")
		}
		if types[typ] < 0 {
			return paramErr("Can't do --%s on expectations", p.longName(c))
		}
		return p.addCommand(c, types[typ], typ)
	case 's', 'd', 'r', 'q', '[', ']', '{', '}':
		return p.addrOption(c, arg, true)
	case 'p':
		p.options |= optProto
		h, num, ok := findProto(arg, p.env)
		if !ok {
			return paramErr("`%s' unsupported protocol", arg)
		}
		p.offset += optOffset
		p.h, p.hOffset = h, p.offset
		merged := make([]longOpt, 0, len(p.opts)+len(h.opts))
		merged = append(merged, p.opts...)
		for _, o := range h.opts {
			o.val += p.offset
			merged = append(merged, o)
		}
		p.opts = merged
		p.protonum = num
		p.t.proto = num
	case 't':
		p.options |= optTimeout
		p.t.timeout = uint32(atol(arg))
	case 'u':
		p.options |= optStatus
		if err := p.parseStatusKeywords(arg, &p.t.statusSet, &p.t.statusClear); err != nil {
			return err
		}
		if p.options&optMark != 0 {
			p.t.markAfterStatus = true
		}
	case 'e':
		p.options |= optEventMask
		return p.parseKeywords(arg, &eventKeywords, &p.eventMask)
	case 'o':
		p.options |= optOutput
		if err := p.parseKeywords(arg, &outputKeywords, &p.output); err != nil {
			return err
		}
		if p.output&outLabels != 0 {
			p.labelmapInit()
		}
		if p.output&outSave != 0 && p.output&(outExtended|outTimestamp|outID|outKTimestamp|outLabels|outXML) != 0 {
			return otherErr("cannot combine save output with any other output type, use -o save only")
		}
	case 'z':
		p.options |= optZero
	case 'n', 'g', 'j':
		p.options |= optBit[c]
		if v, ok := g.optionalArg(); ok {
			return p.natOption(c, v)
		}
	case 'w', '(', ')':
		p.options |= optBit[c]
		v := uint16(strtoul0(arg))
		switch c {
		case 'w':
			p.t.zone = v
		case '(':
			p.t.origZone = v
		default:
			p.t.replyZone = v
		}
	case 'i', 'c':
		if !g.hasArg {
			// --id without "=": 1.4.7 passes a null pointer to
			// strtoul and crashes.
			return paramErr("option `%s' requires an argument", g.prev())
		}
		p.options |= optBit[c]
		if c == 'i' {
			p.t.id = uint32(strtoul0(arg))
		} else {
			p.t.secmark = uint32(strtoul0(arg))
		}
	case 'm':
		p.options |= optMark
		p.t.markAfterStatus = false
		v, end := strtoul(arg, 0)
		p.t.mark, p.t.markMask = uint32(v), 0xffffffff
		if end < len(arg) && arg[end] == '/' {
			p.t.markMask = uint32(strtoul0(arg[end+1:]))
		}
	case 'l', '<', '>':
		return p.labelOption(c, arg)
	case 'a':
		p.warn("WARNING: ignoring -a, deprecated option.")
	case 'f':
		p.options |= optFamily
		switch {
		case strings.HasPrefix(arg, "ipv4"):
			return p.setFamily(engine.FamilyIPv4)
		case strings.HasPrefix(arg, "ipv6"):
			return p.setFamily(engine.FamilyIPv6)
		}
		return paramErr("`%s' unsupported protocol", arg)
	case 'b':
		p.options |= optBufferSize
		p.bufSize = atol(arg)
	case ':':
		return paramErr("option `%s' requires an argument", g.prev())
	case '?':
		return paramErr("unknown option `%s'", g.prev())
	default:
		if p.h != nil && p.h.parse != nil {
			// The option's value less the offset of the last -p, as a C
			// char: options of an earlier -p land on the same-numbered
			// option of the last protocol.
			v := ((c-p.hOffset)%256 + 256) % 256
			return p.h.parse(p, v, arg)
		}
	}
	return nil
}

// longName is get_long_opt: the first long name of an option value in
// the current table.
func (p *parser) longName(val int) string {
	for _, o := range p.opts {
		if o.val == val {
			return o.name
		}
	}
	return "unknown"
}

// checkType is check_type: the table named by the word after a command
// (an attached value is ignored).
func (p *parser) checkType() (int, *Error) {
	w, ok := p.g.optionalArg()
	if !ok {
		return tableConntrack, nil
	}
	for i, name := range []string{"expect", "conntrack", "dying", "unconfirmed"} {
		if strings.HasPrefix(name, w) {
			return [...]int{tableExpect, tableConntrack, tableDying, tableUnconfirmed}[i], nil
		}
	}
	return 0, paramErr("unknown type `%s'", w)
}

// addCommand is add_command.
func (p *parser) addCommand(letter, cmd, table int) *Error {
	if p.hasCmd {
		return paramErr("Invalid commands combination")
	}
	p.hasCmd, p.cmd, p.cmdFlag, p.table = true, cmd, letter, table
	return nil
}

// setFamily is set_family.
func (p *parser) setFamily(af int) *Error {
	if p.family == engine.FamilyUnspec {
		p.family = af
	} else if p.family != af {
		return paramErr("mismatched address family")
	}
	return nil
}

// addrOption is nfct_parse_addr_from_opt for -s -d -r -q, --tuple-src,
// --tuple-dst, --mask-src and --mask-dst (and the address of -n -g -j).
func (p *parser) addrOption(c int, arg string, withMask bool) *Error {
	a, mask, ok := parseAddr(arg, true)
	if !ok {
		return paramErr("Invalid IP address `%s'", arg)
	}
	af := engine.FamilyIPv4
	if !a.Is4() {
		af = engine.FamilyIPv6
	}
	if err := p.setFamily(af); err != nil {
		return err
	}
	maskOpt := map[int]int{'s': '{', 'd': '}', '[': '{', ']': '}'}[c]
	if mask != noMask && maskOpt == 0 {
		return paramErr("CIDR notation unavailable for `--%s'", p.longName(c))
	} else if mask == badMask {
		return paramErr("Invalid netmask")
	}
	p.options |= optBit[c]
	t := &p.t
	switch c {
	case 's':
		t.src, t.has = a, t.has|hasSrc
	case 'd':
		t.dst, t.has = a, t.has|hasDst
	case 'r':
		t.replySrc, t.has = a, t.has|hasReplySrc
	case 'q':
		t.replyDst, t.has = a, t.has|hasReplyDst
	case '[':
		t.tupleSrc, t.has = a, t.has|hasTupleSrc
	case ']':
		t.tupleDst, t.has = a, t.has|hasTupleDst
	case '{':
		t.maskSrc, t.has = a, t.has|hasMaskSrc
	case '}':
		t.maskDst, t.has = a, t.has|hasMaskDst
	case 'n':
		t.snat, t.has = a, t.has|hasSNATAddr
	case 'g':
		t.dnat, t.has = a, t.has|hasDNATAddr
	case 'j':
		t.snat, t.dnat, t.has = a, a, t.has|hasSNATAddr|hasDNATAddr
	}
	if mask == noMask || maskOpt == 0 || !withMask {
		return nil
	}
	if (a.Is4() && mask == 32) || (!a.Is4() && mask == 128) {
		return nil
	}
	m := prefixMask(a.Is4(), mask)
	p.options |= optBit[maskOpt]
	if maskOpt == '{' {
		t.maskSrc, t.has = m, t.has|hasMaskSrc
	} else {
		t.maskDst, t.has = m, t.has|hasMaskDst
	}
	return nil
}

// natOption parses the value of -n, -g or -j.
func (p *parser) natOption(c int, v string) *Error {
	addr, port, err := splitNAT(v)
	if err != nil {
		return err
	}
	if err := p.addrOption(c, addr, false); err != nil {
		return err
	}
	if port == "" {
		return nil
	}
	n := uint16(atoi(port))
	t := &p.t
	if c == 'n' || c == 'j' {
		t.snatPort, t.has = n, t.has|hasSNATPort
	}
	if c == 'g' || c == 'j' {
		t.dnatPort, t.has = n, t.has|hasDNATPort
	}
	return nil
}

// labelmapInit is labelmap_init: load the label names once; while that
// fails, each call prints the perror line again.
func (p *parser) labelmapInit() {
	if p.labelMap != nil {
		return
	}
	p.labelsTried = true
	var err error = syscall.ENOENT
	if p.env != nil && p.env.LabelMap != nil {
		var m map[string]int
		m, err = p.env.LabelMap()
		if err == nil {
			if m == nil {
				m = map[string]int{}
			}
			p.labelMap = m
			return
		}
	}
	p.warn("nfct_labelmap_new: %s", strerror(err))
}

// labelOption handles -l, --label-add and --label-del.
func (p *parser) labelOption(c int, arg string) *Error {
	p.options |= optBit[c]
	p.labelmapInit()
	if p.options&(optLabelAdd|optLabelDel) == optLabelAdd|optLabelDel {
		return otherErr("cannot use --label-add and --label-del at the same time")
	}
	if c == '>' {
		v, ok := p.g.optionalArg()
		if !ok {
			return nil // delete all labels
		}
		arg = v
	}
	var l engine.Labels
	for _, name := range strings.Split(arg, ",") {
		bit, ok := p.labelMap[name]
		if !ok || bit < 0 || bit > 127 {
			return paramErr("unknown label '%s'", name)
		}
		l.Set(bit)
	}
	t := &p.t
	if c == 'l' {
		for i := range l.Words {
			t.labels.Words[i] |= l.Words[i]
		}
		t.has |= hasLabels
	} else {
		for i := range l.Words {
			t.labelModify.Words[i] |= l.Words[i]
		}
		t.has |= hasLabelModify
	}
	return nil
}

// check runs the checks after the option loop, in conntrack's order:
// the default family, -j with -n/-g, the legality matrix, the protocol's
// final check.
func (p *parser) check() *Error {
	if p.family == engine.FamilyUnspec {
		switch {
		case p.hasCmd && p.table != tableExpect &&
			(p.cmd == cmdList || p.cmd == cmdUpdate || p.cmd == cmdDelete || p.cmd == cmdGet || p.cmd == cmdFlush || p.cmd == cmdEvent):
		default:
			p.family = engine.FamilyIPv4
		}
	}
	if p.options&optAnyNAT != 0 && p.options&(optSrcNAT|optDstNAT) != 0 {
		return paramErr("cannot specify `--src-nat' or `--dst-nat' with `--any-nat'")
	}
	cmd := numCmds
	if p.hasCmd {
		cmd = p.cmd
	}
	row := commandsVOptions[cmd][:]
	ok, partial, err := optCheck(p.options, row, optNames[:],
		[2]uint32{optSrc | optDst, optReplySrc | optReplyDst}, true)
	if err != nil {
		return err
	}
	if !ok {
		if partial == 1 {
			return paramErr("you have to specify `--reply-src' and `--reply-dst'")
		}
		return paramErr("you have to specify `--src' and `--dst'")
	}
	if cmd == cmdHelp || p.h == nil || p.h == unknownProto {
		return nil
	}
	h := p.h
	prow := make([]int8, len(h.flagNames))
	copy(prow, h.matrix[cmd])
	ok, partial, err = optCheck(p.l4flags, prow, h.flagNames, h.pairs, h.pairMsgs[0] != "")
	if err != nil {
		return err
	}
	if !ok {
		if partial == 1 {
			return paramErr("%s", h.pairMsgs[1])
		}
		return paramErr("%s", h.pairMsgs[0])
	}
	return nil
}

// optCheck is generic_opt_check: every required option given, no illegal
// one; for undecided options, one of the coupled pairs given whole
// (ok false otherwise, with partial the first pair given in part, or -1).
func optCheck(given uint32, row []int8, names []string, pairs [2]uint32, coupled bool) (ok bool, partial int, err *Error) {
	special := false
	for i := range row {
		set := given&(1<<i) != 0
		switch {
		case !set && row[i] == required:
			return false, 0, paramErr("You need to supply the `--%s' option for this command", names[i])
		case set && row[i] == illegal:
			return false, 0, paramErr("Illegal option `--%s' with this command", names[i])
		}
		if row[i] == undecided {
			special = true
		}
	}
	if !special || !coupled {
		return true, 0, nil
	}
	partial = -1
	for i, pair := range pairs {
		if given&pair == pair {
			return true, 0, nil
		}
		if given&pair != 0 && partial < 0 {
			partial = i
		}
	}
	return false, partial, nil
}

// execCheck makes the checks conntrack makes when it starts executing
// the command, before any request: -L -z with filters, --mask-src and
// --mask-dst without their address (nfct_filter_init), and two requests
// the kernel always refuses with EINVAL (-L with a status filter of mask
// 0, -G without the original tuple).
func (p *parser) execCheck() *Error {
	if !p.hasCmd {
		return nil
	}
	maskCheck := func() *Error {
		if p.options&optMaskSrc != 0 && p.options&optSrc == 0 {
			return paramErr("Can't use --mask-src without --src")
		}
		if p.options&optMaskDst != 0 && p.options&optDst == 0 {
			return paramErr("Can't use --mask-dst without --dst")
		}
		return nil
	}
	switch p.cmd {
	case cmdList:
		if p.table == tableDying || p.table == tableUnconfirmed {
			return nil
		}
		if p.options&optComparison != 0 && p.options&optZero != 0 {
			return paramErr("Can't use -z with filtering parameters")
		}
		if err := maskCheck(); err != nil {
			return err
		}
		if p.options&optStatus != 0 && p.t.statusSet == 0 && p.t.statusClear == 0 {
			return otherErr("Operation failed: invalid parameters")
		}
	case cmdUpdate, cmdDelete, cmdEvent:
		return maskCheck()
	case cmdGet:
		if p.options&(optSrc|optDst) != optSrc|optDst {
			return otherErr("Operation failed: invalid parameters")
		}
	}
	return nil
}
