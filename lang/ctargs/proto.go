package ctargs

import (
	"ctq/engine"
)

// protoHandler is one of conntrack's protocol extensions (struct
// ctproto_handler, extensions/libct_proto_*.c): the options -p adds, how
// they are parsed, and the final check of the options given.
type protoHandler struct {
	name string
	num  int
	// opts are the options -p adds, with the extension's own values.
	opts []longOpt
	// flagNames are the extension's option names by flag bit (its
	// optflags), matrix its legality matrix by command index (missing
	// rows and columns are illegal).
	flagNames []string
	matrix    map[int][]int8
	// pairs are the coupled flag sets for undecided options, with the
	// message for a missing original and reply pair (valid_flags).
	pairs    [2]uint32
	pairMsgs [2]string
	// parse applies option c (the extension's value) with argument arg.
	parse func(p *parser, c int, arg string) *Error
	// help is what -h -p prints after "Proto `NAME' help:\n".
	help string
}

// Protocol option flag bits shared by the port-based extensions.
const (
	pfSport = 1 << iota
	pfDport
	pfReplySport
	pfReplyDport
	pfMaskSport
	pfMaskDport
	pfState
	pfTupleSport
	pfTupleDport
)

// The legality matrices of the extensions (their *_commands_v_options),
// by command index; a command without a row allows none of the options.
var udpMatrix = map[int][]int8{
	cmdList:      {2, 2, 2, 2, 0, 0, 0, 0},
	cmdCreate:    {3, 3, 3, 3, 0, 0, 0, 0},
	cmdUpdate:    {2, 2, 2, 2, 0, 0, 0, 0},
	cmdDelete:    {2, 2, 2, 2, 0, 0, 0, 0},
	cmdGet:       {3, 3, 3, 3, 0, 0, 0, 0},
	cmdEvent:     {2, 2, 2, 2, 0, 0, 0, 0},
	cmdExpCreate: {1, 1, 0, 0, 1, 1, 1, 1},
	cmdExpDelete: {1, 1, 1, 1, 0, 0, 0, 0},
	cmdExpGet:    {1, 1, 1, 1, 0, 0, 0, 0},
	cmdAdd:       {3, 3, 3, 3, 0, 0, 0, 0},
}

var tcpMatrix = map[int][]int8{
	cmdList:      {2, 2, 2, 2, 0, 0, 2, 0, 0},
	cmdCreate:    {3, 3, 3, 3, 0, 0, 1, 0, 0},
	cmdUpdate:    {2, 2, 2, 2, 0, 0, 2, 0, 0},
	cmdDelete:    {2, 2, 2, 2, 0, 0, 2, 0, 0},
	cmdGet:       {3, 3, 3, 3, 0, 0, 2, 0, 0},
	cmdEvent:     {2, 2, 2, 2, 0, 0, 2, 0, 0},
	cmdExpCreate: {1, 1, 0, 0, 1, 1, 0, 1, 1},
	cmdExpDelete: {1, 1, 1, 1, 0, 0, 0, 0, 0},
	cmdExpGet:    {1, 1, 1, 1, 0, 0, 0, 0, 0},
	cmdAdd:       {3, 3, 3, 3, 0, 0, 1, 0, 0},
}

var sctpMatrix = map[int][]int8{
	cmdList:      {2, 2, 2, 2, 0, 0, 2, 0, 0, 0, 0},
	cmdCreate:    {3, 3, 3, 3, 0, 0, 1, 0, 0, 1, 1},
	cmdUpdate:    {2, 2, 2, 2, 0, 0, 2, 0, 0, 2, 2},
	cmdDelete:    {2, 2, 2, 2, 0, 0, 2, 0, 0, 0, 0},
	cmdGet:       {3, 3, 3, 3, 0, 0, 2, 0, 0, 2, 2},
	cmdEvent:     {2, 2, 2, 2, 0, 0, 2, 0, 0, 0, 0},
	cmdExpCreate: {1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1},
	cmdExpDelete: {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
	cmdExpGet:    {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0},
	cmdAdd:       {3, 3, 3, 3, 0, 0, 1, 0, 0, 1, 1},
}

var dccpMatrix = map[int][]int8{
	cmdList:      {2, 2, 2, 2, 0, 0, 2, 0, 0, 0},
	cmdCreate:    {3, 3, 3, 3, 0, 0, 1, 0, 0, 1},
	cmdUpdate:    {2, 2, 2, 2, 0, 0, 2, 0, 0, 0},
	cmdDelete:    {2, 2, 2, 2, 0, 0, 2, 0, 0, 0},
	cmdGet:       {3, 3, 3, 3, 0, 0, 2, 0, 0, 0},
	cmdEvent:     {2, 2, 2, 2, 0, 0, 2, 0, 0, 0},
	cmdExpCreate: {1, 1, 0, 0, 1, 1, 0, 1, 1, 1},
	cmdExpDelete: {1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
	cmdExpGet:    {1, 1, 1, 1, 0, 0, 0, 0, 0, 0},
	cmdAdd:       {3, 3, 3, 3, 0, 0, 1, 0, 0, 1},
}

var icmpMatrix = map[int][]int8{
	cmdList:   {2, 2, 2},
	cmdCreate: {1, 1, 2},
	cmdUpdate: {2, 2, 2},
	cmdDelete: {2, 2, 2},
	cmdGet:    {1, 1, 2},
	cmdEvent:  {2, 2, 2},
	cmdAdd:    {1, 1, 2},
}

var greMatrix = map[int][]int8{
	cmdList:      {2, 2, 2, 2, 0, 0, 0, 0},
	cmdCreate:    {3, 3, 3, 3, 0, 0, 0, 0},
	cmdUpdate:    {2, 2, 2, 2, 0, 0, 0, 0},
	cmdDelete:    {2, 2, 2, 2, 0, 0, 0, 0},
	cmdGet:       {3, 3, 3, 3, 0, 0, 0, 0},
	cmdEvent:     {2, 2, 2, 2, 0, 0, 0, 0},
	cmdExpCreate: {1, 1, 1, 1, 1, 1, 1, 1},
	cmdExpDelete: {1, 1, 1, 1, 0, 0, 0, 0},
	cmdExpGet:    {1, 1, 1, 1, 0, 0, 0, 0},
	cmdAdd:       {3, 3, 3, 3, 0, 0, 0, 0},
}

const portHelp = "  --orig-port-src\t\toriginal source port\n" +
	"  --orig-port-dst\t\toriginal destination port\n" +
	"  --reply-port-src\t\treply source port\n" +
	"  --reply-port-dst\t\treply destination port\n" +
	"  --mask-port-src\t\tmask source port\n" +
	"  --mask-port-dst\t\tmask destination port\n" +
	"  --tuple-port-src\t\texpectation tuple src port\n" +
	"  --tuple-port-src\t\texpectation tuple dst port\n"

var portPairMsgs = [2]string{
	"you have to specify `--sport' and `--dport'",
	"you have to specify `--reply-src-port' and `--reply-dst-port'",
}

// udpOpts are the options of udp and udplite (values '1'..'8').
var udpOpts = []longOpt{
	{"orig-port-src", argRequired, '1'}, {"sport", argRequired, '1'},
	{"orig-port-dst", argRequired, '2'}, {"dport", argRequired, '2'},
	{"reply-port-src", argRequired, '3'}, {"reply-port-dst", argRequired, '4'},
	{"mask-port-src", argRequired, '5'}, {"mask-port-dst", argRequired, '6'},
	{"tuple-port-src", argRequired, '7'}, {"tuple-port-dst", argRequired, '8'},
}

// protoHandlers are the built-in extensions, in conntrack's registration
// order (findproto compares names case-insensitively in this order).
var protoHandlers = []*protoHandler{
	{
		name: "tcp", num: engine.ProtoTCP,
		opts: []longOpt{
			{"orig-port-src", argRequired, '1'}, {"sport", argRequired, '1'},
			{"orig-port-dst", argRequired, '2'}, {"dport", argRequired, '2'},
			{"reply-port-src", argRequired, '3'}, {"reply-port-dst", argRequired, '4'},
			{"mask-port-src", argRequired, '5'}, {"mask-port-dst", argRequired, '6'},
			{"state", argRequired, '7'},
			{"tuple-port-src", argRequired, '8'}, {"tuple-port-dst", argRequired, '9'},
		},
		flagNames: []string{"sport", "dport", "reply-port-src", "reply-port-dst", "mask-port-src",
			"mask-port-dst", "state", "tuple-port-src", "tuple-port-dst", ""},
		matrix:   tcpMatrix,
		pairs:    [2]uint32{pfSport | pfDport, pfReplySport | pfReplyDport},
		pairMsgs: portPairMsgs,
		parse:    parsePortProto("123456789", engine.ProtoTCP),
		help:     portHelp + "  --state\t\t\tTCP state, fe. ESTABLISHED\n",
	},
	{
		name: "udp", num: engine.ProtoUDP, opts: udpOpts,
		flagNames: []string{"sport", "dport", "reply-port-src", "reply-port-dst", "mask-port-src",
			"mask-port-dst", "tuple-port-src", "tuple-port-dst", ""},
		matrix:   udpMatrix,
		pairs:    [2]uint32{pfSport | pfDport, pfReplySport | pfReplyDport},
		pairMsgs: portPairMsgs,
		parse:    parsePortProto("123456-78", engine.ProtoUDP),
		help:     portHelp,
	},
	{
		name: "udplite", num: engine.ProtoUDPLite, opts: udpOpts,
		flagNames: []string{"sport", "dport", "reply-port-src", "reply-port-dst", "mask-port-src",
			"mask-port-dst", "tuple-port-src", "tuple-port-dst", ""},
		matrix:   udpMatrix,
		pairs:    [2]uint32{pfSport | pfDport, pfReplySport | pfReplyDport},
		pairMsgs: portPairMsgs,
		parse:    parsePortProto("123456-78", engine.ProtoUDPLite),
		help:     portHelp,
	},
	{
		name: "sctp", num: engine.ProtoSCTP,
		opts: []longOpt{
			{"orig-port-src", argRequired, 1}, {"orig-port-dst", argRequired, 2},
			{"reply-port-src", argRequired, 3}, {"reply-port-dst", argRequired, 4},
			{"mask-port-src", argRequired, 5}, {"mask-port-dst", argRequired, 6},
			{"state", argRequired, 7},
			{"tuple-port-src", argRequired, 8}, {"tuple-port-dst", argRequired, 9},
			{"orig-vtag", argRequired, 10}, {"reply-vtag", argRequired, 11},
			{"sport", argRequired, 1}, {"dport", argRequired, 2},
		},
		flagNames: []string{"sport", "dport", "reply-port-src", "reply-port-dst", "mask-port-src",
			"mask-port-dst", "state", "tuple-port-src", "tuple-port-dst", "orig-vtag", "reply-vtag", "", "", ""},
		matrix:   sctpMatrix,
		pairs:    [2]uint32{pfSport | pfDport, pfReplySport | pfReplyDport},
		pairMsgs: portPairMsgs,
		parse:    parsePortProto("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b", engine.ProtoSCTP),
		help: "  --orig-port-src\t\toriginal source port\n" +
			"  --orig-port-dst\t\toriginal destination port\n" +
			"  --reply-port-src\t\treply source port\n" +
			"  --reply-port-dst\t\treply destination port\n" +
			"  --mask-port-src\t\tmask source port\n" +
			"  --mask-port-dst\t\tmask destination port\n" +
			"  --tuple-port-src\t\texpectation tuple src port\n" +
			"  --tuple-port-src\t\texpectation tuple dst port\n" +
			"  --state\t\t\tSCTP state, fe. ESTABLISHED\n" +
			"  --orig-vtag\t\toriginal verification tag\n" +
			"  --reply-vtag\t\treply verification tag\n",
	},
	{
		name: "dccp", num: engine.ProtoDCCP,
		opts: []longOpt{
			{"orig-port-src", argRequired, 1}, {"orig-port-dst", argRequired, 2},
			{"reply-port-src", argRequired, 3}, {"reply-port-dst", argRequired, 4},
			{"mask-port-src", argRequired, 5}, {"mask-port-dst", argRequired, 6},
			{"state", argRequired, 7},
			{"tuple-port-src", argRequired, 8}, {"tuple-port-dst", argRequired, 9},
			{"sport", argRequired, 1}, {"dport", argRequired, 2},
			{"role", argRequired, 10},
		},
		flagNames: []string{"sport", "dport", "reply-port-src", "reply-port-dst", "mask-port-src",
			"mask-port-dst", "state", "tuple-port-src", "tuple-port-dst", "role", "", "", ""},
		matrix: dccpMatrix,
		pairs:  [2]uint32{pfSport | pfDport, pfReplySport | pfReplyDport},
		pairMsgs: [2]string{
			"you have to specify `--sport' and `--dport'",
			"you have to specify `--reply-port-src' and `--report-port-dst'",
		},
		parse: parsePortProto("\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a", engine.ProtoDCCP),
		help:  portHelp + "  --state\t\t\tDCCP state, fe. RESPOND\n",
	},
	{
		name: "icmp", num: engine.ProtoICMP,
		opts: []longOpt{
			{"icmp-type", argRequired, '1'}, {"icmp-code", argRequired, '2'}, {"icmp-id", argRequired, '3'},
		},
		flagNames: []string{"icmp-type", "icmp-code", "icmp-id", ""},
		matrix:    icmpMatrix,
		parse:     parseICMP(engine.ProtoICMP),
		help:      "  --icmp-type\t\t\ticmp type\n  --icmp-code\t\t\ticmp code\n  --icmp-id\t\t\ticmp id\n",
	},
	{
		name: "icmpv6", num: engine.ProtoICMPv6,
		opts: []longOpt{
			{"icmpv6-type", argRequired, '1'}, {"icmpv6-code", argRequired, '2'}, {"icmpv6-id", argRequired, '3'},
		},
		flagNames: []string{"icmpv6-type", "icmpv6-code", "icmpv6-id", ""},
		matrix:    icmpMatrix,
		parse:     parseICMP(engine.ProtoICMPv6),
		help:      "  --icmpv6-type\t\t\ticmpv6 type\n  --icmpv6-code\t\t\ticmpv6 code\n  --icmpv6-id\t\t\ticmpv6 id\n",
	},
	{
		name: "gre", num: engine.ProtoGRE,
		opts: []longOpt{
			{"orig-key-src", argRequired, '1'}, {"srckey", argRequired, '1'},
			{"orig-key-dst", argRequired, '2'}, {"dstkey", argRequired, '2'},
			{"reply-key-src", argRequired, '3'}, {"reply-key-dst", argRequired, '4'},
			{"mask-key-src", argRequired, '5'}, {"mask-key-dst", argRequired, '6'},
			{"tuple-key-src", argRequired, '7'}, {"tuple-key-dst", argRequired, '8'},
		},
		flagNames: []string{"srckey", "dstkey", "reply-key-src", "reply-key-dst", "mask-key-src",
			"mask-key-dst", "tuple-key-src", "tuple-key-dst", "", "", ""},
		matrix: greMatrix,
		pairs:  [2]uint32{pfSport | pfDport, pfReplySport | pfReplyDport},
		pairMsgs: [2]string{
			"you have to specify `--srckey' and `--dstkey'",
			"you have to specify `--reply-src-key' and `--reply-dst-key'",
		},
		parse: parseGRE,
		help: "  --orig-key-src\t\toriginal source key\n" +
			"  --orig-key-dst\t\toriginal destination key\n" +
			"  --reply-key-src\t\treply source key\n" +
			"  --reply-key-dst\t\treply destination key\n" +
			"  --mask-key-src\t\tmask source key\n" +
			"  --mask-key-dst\t\tmask destination key\n" +
			"  --tuple-key-src\t\texpectation tuple src key\n" +
			"  --tuple-key-src\t\texpectation tuple dst key\n",
	},
}

// unknownProto is the handler of every other protocol (ct_proto_unknown):
// no options.
var unknownProto = &protoHandler{
	name: "unknown",
	help: "  no options (unsupported)\n",
}

// findProto is conntrack's findproto: a built-in name (case-insensitive),
// then an /etc/protocols name, then a number 0-255 (strtoul base 0, the
// whole word), which gets the built-in handler of that number if there
// is one.
func findProto(name string, env *Env) (*protoHandler, int, bool) {
	for _, h := range protoHandlers {
		if asciiEqualFold(h.name, name) {
			return h, h.num, true
		}
	}
	if env != nil && env.ProtoByName != nil {
		if n, ok := env.ProtoByName(name); ok {
			return unknownProto, n, true
		}
	}
	v, end := strtoul(name, 0)
	if end == 0 || end != len(name) || v > 255 {
		return nil, 0, false
	}
	for _, h := range protoHandlers {
		if h.num == int(v) {
			return h, h.num, true
		}
	}
	return unknownProto, int(v), true
}

// parsePortProto returns the option parser of tcp, udp, udplite, sctp and
// dccp; vals lists the extension's values of sport, dport, reply sport,
// reply dport, mask sport, mask dport, state, tuple sport, tuple dport,
// then (sctp) orig and reply vtag or (dccp) role; '-' for none.
func parsePortProto(vals string, proto int) func(p *parser, c int, arg string) *Error {
	return func(p *parser, c int, arg string) *Error {
		i := -1
		for j := 0; j < len(vals); j++ {
			if vals[j] != '-' && int(vals[j]) == c {
				i = j
			}
		}
		t := &p.t
		port := uint16(atoi(arg))
		switch i {
		case 0, 1, 2, 3, 4, 5:
			p.setPort(i, port, pfSport<<i)
		case 6:
			return p.parseState(proto, arg)
		case 7, 8:
			// udp has no --state: its tuple ports take flags 6 and 7.
			flag := uint32(pfTupleSport) << (i - 7)
			if proto == engine.ProtoUDP || proto == engine.ProtoUDPLite {
				flag >>= 1
			}
			p.setPort(i-1, port, flag)
		case 9:
			if proto == engine.ProtoDCCP {
				return p.parseRole(arg)
			}
			t.origVtag, t.has = uint32(atoi(arg)), t.has|hasOrigVtag
			p.l4flags |= 1 << 9
		case 10:
			t.replyVtag, t.has = uint32(atoi(arg)), t.has|hasReplyVtag
			p.l4flags |= 1 << 10
		}
		return nil
	}
}

// parseState parses --state for TCP, SCTP or DCCP.
func (p *parser) parseState(proto int, arg string) *Error {
	n, ok := engine.StateNum(proto, arg)
	if proto == engine.ProtoSCTP && n > 7 {
		// conntrack's SCTP names stop at SHUTDOWN_ACK_SENT.
		ok = false
	}
	if !ok {
		switch proto {
		case engine.ProtoTCP:
			return paramErr("unknown TCP state `%s'", arg)
		case engine.ProtoSCTP:
			return paramErr("unknown SCTP state `%s'", arg)
		}
		return paramErr("Unknown DCCP state `%s'", arg)
	}
	p.t.state, p.t.stateProto, p.t.has = n, proto, p.t.has|hasState
	p.l4flags |= pfState
	return nil
}

// parseRole parses DCCP's --role: a case-insensitive prefix of client or
// server (the empty word is client).
func (p *parser) parseRole(arg string) *Error {
	switch {
	case keywordMatch(arg, "client"):
		p.t.role = 0
	case keywordMatch(arg, "server"):
		p.t.role = 1
	default:
		return paramErr("Unknown DCCP role `%s'", arg)
	}
	p.t.has |= hasRole
	p.l4flags |= 1 << 9
	return nil
}

// parseICMP returns the option parser of icmp and icmpv6.
func parseICMP(proto int) func(p *parser, c int, arg string) *Error {
	return func(p *parser, c int, arg string) *Error {
		t := &p.t
		switch c {
		case '1':
			t.icmpType, t.has = uint8(atoi(arg)), t.has|hasICMPType
			p.l4flags |= 1 << 0
		case '2':
			t.icmpCode, t.has = uint8(atoi(arg)), t.has|hasICMPCode
			p.l4flags |= 1 << 1
		case '3':
			t.icmpID, t.has = uint16(atoi(arg)), t.has|hasICMPID
			p.l4flags |= 1 << 2
		}
		return nil
	}
}

// parseGRE parses the GRE key options (strtoul base 0, 16 bits).
func parseGRE(p *parser, c int, arg string) *Error {
	// --srckey ... --tuple-key-dst: the port slots in order, the flags
	// of the first eight bits.
	if c >= '1' && c <= '8' {
		p.setPort(c-'1', uint16(strtoul0(arg)), 1<<(c-'1'))
	}
	return nil
}

// setPort sets one of the template's 16-bit port (or GRE key) fields,
// slot in the order sport, dport, reply sport, reply dport, mask sport,
// mask dport, tuple sport, tuple dport, and the extension's option flag.
func (p *parser) setPort(slot int, v uint16, flag uint32) {
	t := &p.t
	fields := [...]struct {
		port *uint16
		has  uint64
	}{
		{&t.sport, hasSport}, {&t.dport, hasDport},
		{&t.replySport, hasReplySport}, {&t.replyDport, hasReplyDport},
		{&t.maskSport, hasMaskSport}, {&t.maskDport, hasMaskDport},
		{&t.tupleSport, hasTupleSport}, {&t.tupleDport, hasTupleDport},
	}
	*fields[slot].port = v
	t.has |= fields[slot].has
	p.l4flags |= flag
}
