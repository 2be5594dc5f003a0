package savefmt

import "ctq/engine"

// optID identifies an option whatever name it was given by.
type optID uint8

// The options a line may carry. optOtherCmd and optUnsupported stand for
// conntrack options that exist but have no meaning in a save line.
const (
	optAdd optID = iota + 1
	optCreate
	optUpdate
	optDelete
	optFlush
	optOtherCmd
	optUnsupported
	optSrc
	optDst
	optReplySrc
	optReplyDst
	optSrcNAT
	optDstNAT
	optProto
	optFamily
	optTimeout
	optStatus
	optMark
	optSecmark
	optConnID
	optZone
	optOrigZone
	optReplyZone
	optSport
	optDport
	optReplySport
	optReplyDport
	optState
	optOrigVtag
	optReplyVtag
	optRole
	optICMPType
	optICMPCode
	optICMPID
	optSrcKey
	optDstKey
	optReplySrcKey
	optReplyDstKey
)

// argKind says whether an option takes a value.
type argKind uint8

const (
	argNone     argKind = iota // a flag
	argRequired                // the value is attached or the next word
	argOptional                // attached, or the next word if it does not start with '-'
)

// optDef describes one option: its long names (conntrack's spellings,
// aliases included), its short letter (0 if none), its argument and the
// field it sets.
type optDef struct {
	long  []string
	short byte
	arg   argKind
	id    optID
	field Fields
}

// genericOpts are conntrack 1.4.7's options that exist before any -p.
var genericOpts = []optDef{
	{long: []string{"add"}, short: 'A', arg: argOptional, id: optAdd},
	{long: []string{"create"}, short: 'I', arg: argOptional, id: optCreate},
	{long: []string{"update"}, short: 'U', arg: argOptional, id: optUpdate},
	{long: []string{"delete"}, short: 'D', arg: argOptional, id: optDelete},
	{long: []string{"flush"}, short: 'F', arg: argOptional, id: optFlush},
	{long: []string{"dump"}, short: 'L', arg: argOptional, id: optOtherCmd},
	{long: []string{"get"}, short: 'G', arg: argOptional, id: optOtherCmd},
	{long: []string{"event"}, short: 'E', arg: argOptional, id: optOtherCmd},
	{long: []string{"count"}, short: 'C', arg: argOptional, id: optOtherCmd},
	{long: []string{"stats"}, short: 'S', arg: argOptional, id: optOtherCmd},
	{long: []string{"version"}, short: 'V', id: optOtherCmd},
	{long: []string{"help"}, short: 'h', id: optOtherCmd},
	{long: []string{"load-file"}, short: 'R', arg: argRequired, id: optOtherCmd},
	{long: []string{"src", "orig-src"}, short: 's', arg: argRequired, id: optSrc, field: FieldSrc},
	{long: []string{"dst", "orig-dst"}, short: 'd', arg: argRequired, id: optDst, field: FieldDst},
	{long: []string{"reply-src"}, short: 'r', arg: argRequired, id: optReplySrc, field: FieldReplySrc},
	{long: []string{"reply-dst"}, short: 'q', arg: argRequired, id: optReplyDst, field: FieldReplyDst},
	{long: []string{"src-nat"}, short: 'n', arg: argOptional, id: optSrcNAT, field: FieldSrcNAT},
	{long: []string{"dst-nat"}, short: 'g', arg: argOptional, id: optDstNAT, field: FieldDstNAT},
	{long: []string{"protonum"}, short: 'p', arg: argRequired, id: optProto, field: FieldProto},
	{long: []string{"family"}, short: 'f', arg: argRequired, id: optFamily, field: FieldFamily},
	{long: []string{"timeout"}, short: 't', arg: argRequired, id: optTimeout, field: FieldTimeout},
	{long: []string{"status"}, short: 'u', arg: argRequired, id: optStatus, field: FieldStatus},
	{long: []string{"mark"}, short: 'm', arg: argRequired, id: optMark, field: FieldMark},
	{long: []string{"secmark"}, short: 'c', arg: argRequired, id: optSecmark, field: FieldSecmark},
	{long: []string{"id"}, short: 'i', arg: argRequired, id: optConnID, field: FieldID},
	{long: []string{"zone"}, short: 'w', arg: argRequired, id: optZone, field: FieldZone},
	{long: []string{"orig-zone"}, arg: argRequired, id: optOrigZone, field: FieldOrigZone},
	{long: []string{"reply-zone"}, arg: argRequired, id: optReplyZone, field: FieldReplyZone},
	{long: []string{"zero"}, short: 'z', id: optUnsupported},
	{long: []string{"output"}, short: 'o', arg: argRequired, id: optUnsupported},
	{long: []string{"event-mask"}, short: 'e', arg: argRequired, id: optUnsupported},
	{long: []string{"buffer-size"}, short: 'b', arg: argRequired, id: optUnsupported},
	{long: []string{"any-nat"}, short: 'j', arg: argOptional, id: optUnsupported},
	{long: []string{"nat-range"}, short: 'a', arg: argRequired, id: optUnsupported},
	{long: []string{"label"}, short: 'l', arg: argRequired, id: optUnsupported},
	{long: []string{"label-add"}, arg: argRequired, id: optUnsupported},
	{long: []string{"label-del"}, arg: argOptional, id: optUnsupported},
	{long: []string{"tuple-src"}, arg: argRequired, id: optUnsupported},
	{long: []string{"tuple-dst"}, arg: argRequired, id: optUnsupported},
	{long: []string{"mask-src"}, arg: argRequired, id: optUnsupported},
	{long: []string{"mask-dst"}, arg: argRequired, id: optUnsupported},
}

// Protocol option sets, added to the generic ones once -p names a protocol.
var (
	portOpts = []optDef{
		{long: []string{"sport", "orig-port-src"}, arg: argRequired, id: optSport, field: FieldSport},
		{long: []string{"dport", "orig-port-dst"}, arg: argRequired, id: optDport, field: FieldDport},
		{long: []string{"reply-port-src"}, arg: argRequired, id: optReplySport, field: FieldReplySport},
		{long: []string{"reply-port-dst"}, arg: argRequired, id: optReplyDport, field: FieldReplyDport},
		{long: []string{"mask-port-src"}, arg: argRequired, id: optUnsupported},
		{long: []string{"mask-port-dst"}, arg: argRequired, id: optUnsupported},
		{long: []string{"tuple-port-src"}, arg: argRequired, id: optUnsupported},
		{long: []string{"tuple-port-dst"}, arg: argRequired, id: optUnsupported},
	}
	stateOpt = optDef{long: []string{"state"}, arg: argRequired, id: optState, field: FieldState}
	tcpOpts  = append(append([]optDef{}, portOpts...), stateOpt)
	udpOpts  = portOpts
	sctpOpts = append(append([]optDef{}, portOpts...), stateOpt,
		optDef{long: []string{"orig-vtag"}, arg: argRequired, id: optOrigVtag, field: FieldOrigVtag},
		optDef{long: []string{"reply-vtag"}, arg: argRequired, id: optReplyVtag, field: FieldReplyVtag})
	dccpOpts = append(append([]optDef{}, portOpts...), stateOpt,
		optDef{long: []string{"role"}, arg: argRequired, id: optRole, field: FieldRole})
	icmpOpts = []optDef{
		{long: []string{"icmp-type"}, arg: argRequired, id: optICMPType, field: FieldICMPType},
		{long: []string{"icmp-code"}, arg: argRequired, id: optICMPCode, field: FieldICMPCode},
		{long: []string{"icmp-id"}, arg: argRequired, id: optICMPID, field: FieldICMPID},
	}
	icmpv6Opts = []optDef{
		{long: []string{"icmpv6-type"}, arg: argRequired, id: optICMPType, field: FieldICMPType},
		{long: []string{"icmpv6-code"}, arg: argRequired, id: optICMPCode, field: FieldICMPCode},
		{long: []string{"icmpv6-id"}, arg: argRequired, id: optICMPID, field: FieldICMPID},
	}
	greOpts = []optDef{
		{long: []string{"srckey", "orig-key-src"}, arg: argRequired, id: optSrcKey, field: FieldSport},
		{long: []string{"dstkey", "orig-key-dst"}, arg: argRequired, id: optDstKey, field: FieldDport},
		{long: []string{"reply-key-src"}, arg: argRequired, id: optReplySrcKey, field: FieldReplySport},
		{long: []string{"reply-key-dst"}, arg: argRequired, id: optReplyDstKey, field: FieldReplyDport},
		{long: []string{"mask-key-src"}, arg: argRequired, id: optUnsupported},
		{long: []string{"mask-key-dst"}, arg: argRequired, id: optUnsupported},
		{long: []string{"tuple-key-src"}, arg: argRequired, id: optUnsupported},
		{long: []string{"tuple-key-dst"}, arg: argRequired, id: optUnsupported},
	}
	// allProtoOpts holds every protocol option, to explain a protocol
	// option used without (or with the wrong) -p.
	allProtoOpts = [][]optDef{tcpOpts, sctpOpts, dccpOpts, icmpOpts, icmpv6Opts, greOpts}
)

// protoOpts returns the options conntrack adds for protocol proto.
func protoOpts(proto int) []optDef {
	switch proto {
	case engine.ProtoTCP:
		return tcpOpts
	case engine.ProtoUDP, engine.ProtoUDPLite:
		return udpOpts
	case engine.ProtoSCTP:
		return sctpOpts
	case engine.ProtoDCCP:
		return dccpOpts
	case engine.ProtoICMP:
		return icmpOpts
	case engine.ProtoICMPv6:
		return icmpv6Opts
	case engine.ProtoGRE:
		return greOpts
	}
	return nil
}
