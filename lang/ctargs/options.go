package ctargs

// longOpt is one entry of a getopt_long option table (struct option).
type longOpt struct {
	name string
	// arg is has_arg: argNone, argRequired or argOptional.
	arg int
	// val is what getopt_long returns for the option: the short letter
	// for conntrack's own options, a protocol's value plus its offset for
	// protocol options.
	val int
}

// has_arg values of struct option.
const (
	argNone     = 0 // no_argument
	argRequired = 1 // required_argument
	argOptional = 2 // optional_argument
)

// genericOpts is conntrack 1.4.7's option table before any -p
// (original_opts in conntrack.c), in its order: getopt_long takes the
// first exact match and reports a prefix of options with different values
// as ambiguous.
var genericOpts = []longOpt{
	{"dump", argOptional, 'L'},
	{"create", argOptional, 'I'},
	{"add", argOptional, 'A'},
	{"delete", argOptional, 'D'},
	{"update", argOptional, 'U'},
	{"get", argOptional, 'G'},
	{"flush", argOptional, 'F'},
	{"event", argOptional, 'E'},
	{"counter", argOptional, 'C'},
	{"stats", argNone, 'S'},
	{"version", argNone, 'V'},
	{"help", argNone, 'h'},
	{"orig-src", argRequired, 's'},
	{"src", argRequired, 's'},
	{"orig-dst", argRequired, 'd'},
	{"dst", argRequired, 'd'},
	{"reply-src", argRequired, 'r'},
	{"reply-dst", argRequired, 'q'},
	{"protonum", argRequired, 'p'},
	{"timeout", argRequired, 't'},
	{"status", argRequired, 'u'},
	{"zero", argNone, 'z'},
	{"event-mask", argRequired, 'e'},
	{"tuple-src", argRequired, '['},
	{"tuple-dst", argRequired, ']'},
	{"mask-src", argRequired, '{'},
	{"mask-dst", argRequired, '}'},
	{"nat-range", argRequired, 'a'},
	{"mark", argRequired, 'm'},
	{"secmark", argRequired, 'c'},
	{"id", argOptional, 'i'},
	{"family", argRequired, 'f'},
	{"src-nat", argOptional, 'n'},
	{"dst-nat", argOptional, 'g'},
	{"output", argRequired, 'o'},
	{"buffer-size", argRequired, 'b'},
	{"any-nat", argOptional, 'j'},
	{"zone", argRequired, 'w'},
	{"label", argRequired, 'l'},
	{"label-add", argRequired, '<'},
	{"label-del", argOptional, '>'},
	{"orig-zone", argRequired, '('},
	{"reply-zone", argRequired, ')'},
}

// shortOpts is conntrack 1.4.7's getopt optstring. The leading ':' makes
// getopt report a missing argument as ':' and print nothing itself.
const shortOpts = ":L::I::U::D::G::E::F::A::hVs:d:r:q:" +
	"p:t:u:e:a:z[:]:{:}:m:i:f:o:n::" +
	"g::c:b:C::Sj::w:l:<:>::(:):"

// optOffset is OPTION_OFFSET: each -p appends its protocol's options to
// the table with values raised by a further multiple of it.
const optOffset = 256

// Option bits (enum ct_options), in the order of the legality matrix.
const (
	optSrc        = 1 << iota // CT_OPT_ORIG_SRC, -s
	optDst                    // CT_OPT_ORIG_DST, -d
	optReplySrc               // CT_OPT_REPL_SRC, -r
	optReplyDst               // CT_OPT_REPL_DST, -q
	optProto                  // CT_OPT_PROTO, -p
	optTimeout                // CT_OPT_TIMEOUT, -t
	optStatus                 // CT_OPT_STATUS, -u
	optZero                   // CT_OPT_ZERO, -z
	optEventMask              // CT_OPT_EVENT_MASK, -e
	optTupleSrc               // CT_OPT_EXP_SRC, --tuple-src
	optTupleDst               // CT_OPT_EXP_DST, --tuple-dst
	optMaskSrc                // CT_OPT_MASK_SRC, --mask-src
	optMaskDst                // CT_OPT_MASK_DST, --mask-dst
	optNATRange               // CT_OPT_NATRANGE, -a (never set)
	optMark                   // CT_OPT_MARK, -m
	optID                     // CT_OPT_ID, -i
	optFamily                 // CT_OPT_FAMILY, -f
	optSrcNAT                 // CT_OPT_SRC_NAT, -n
	optDstNAT                 // CT_OPT_DST_NAT, -g
	optOutput                 // CT_OPT_OUTPUT, -o
	optSecmark                // CT_OPT_SECMARK, -c
	optBufferSize             // CT_OPT_BUFFERSIZE, -b
	optAnyNAT                 // CT_OPT_ANY_NAT, -j
	optZone                   // CT_OPT_ZONE, -w
	optLabel                  // CT_OPT_LABEL, -l
	optLabelAdd               // CT_OPT_ADD_LABEL, --label-add
	optLabelDel               // CT_OPT_DEL_LABEL, --label-del
	optOrigZone               // CT_OPT_ORIG_ZONE, --orig-zone
	optReplyZone              // CT_OPT_REPL_ZONE, --reply-zone
)

// numOpts is NUMBER_OF_OPT.
const numOpts = 29

// optComparison is CT_COMPARISON: the options that make conntrack compare
// entries with its template (and that -L -z refuses).
const optComparison = optProto | optSrc | optDst | optReplySrc | optReplyDst |
	optMark | optSecmark | optStatus | optID | optZone | optLabel |
	optOrigZone | optReplyZone

// optNames are conntrack's names of the option bits (optflags), used in
// its "Illegal option" and "You need to supply" messages.
var optNames = [numOpts]string{
	"src", "dst", "reply-src", "reply-dst", "protonum", "timeout", "status",
	"zero", "event-mask", "tuple-src", "tuple-dst", "mask-src", "mask-dst",
	"nat-range", "mark", "id", "family", "src-nat", "dst-nat", "output",
	"secmark", "buffer-size", "any-nat", "zone", "label", "label-add",
	"label-del", "orig-zone", "reply-zone",
}

// optBit maps the option letters that set an option bit to it (opt2type).
var optBit = map[int]uint32{
	's': optSrc, 'd': optDst, 'r': optReplySrc, 'q': optReplyDst,
	'{': optMaskSrc, '}': optMaskDst, '[': optTupleSrc, ']': optTupleDst,
	'n': optSrcNAT, 'g': optDstNAT, 'm': optMark, 'c': optSecmark,
	'i': optID, 'j': optAnyNAT, 'w': optZone, 'l': optLabel,
	'<': optLabelAdd, '>': optLabelDel, '(': optOrigZone, ')': optReplyZone,
}

// Command indexes (the CT_*_BIT and EXP_*_BIT of conntrack.h), rows of
// the legality matrices.
const (
	cmdList = iota
	cmdCreate
	cmdUpdate
	cmdDelete
	cmdGet
	cmdFlush
	cmdEvent
	cmdVersion
	cmdHelp
	cmdExpList
	cmdExpCreate
	cmdExpDelete
	cmdExpGet
	cmdExpFlush
	cmdExpEvent
	cmdCount
	cmdExpCount
	cmdStats
	cmdExpStats
	cmdAdd
	numCmds // also bit2cmd(0): no command
)

// Legality matrix values.
const (
	illegal   = 0 // the option may not be given
	required  = 1 // the option must be given
	optional  = 2 // the option may be given
	undecided = 3 // one of the coupled pairs must be given whole
)

// commandsVOptions is commands_v_options: per command, per option bit,
// whether the option is illegal, required, optional or undecided.
var commandsVOptions = [numCmds + 1][numOpts]int8{
	// s d r q p t u z e [ ] { } a m i f n g o c b j w l < > ( )
	cmdList:      {2, 2, 2, 2, 2, 0, 2, 2, 0, 0, 0, 2, 2, 0, 2, 0, 2, 2, 2, 2, 2, 0, 2, 2, 2, 0, 0, 2, 2},
	cmdCreate:    {3, 3, 3, 3, 1, 1, 2, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 0, 0, 2, 0, 2, 0, 2, 2},
	cmdUpdate:    {2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 2, 0, 0},
	cmdDelete:    {2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 2, 2, 0, 2, 2, 2, 2, 2, 2, 0, 0, 0, 2, 2, 0, 0, 2, 2},
	cmdGet:       {3, 3, 3, 3, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0},
	cmdFlush:     {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	cmdEvent:     {2, 2, 2, 2, 2, 0, 0, 0, 2, 0, 0, 2, 2, 0, 2, 0, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 2, 2},
	cmdHelp:      {0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	cmdExpList:   {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	cmdExpCreate: {1, 1, 2, 2, 1, 1, 2, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	cmdExpDelete: {1, 1, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	cmdExpGet:    {1, 1, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	cmdExpEvent:  {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	cmdAdd:       {3, 3, 3, 3, 1, 1, 2, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0, 2, 2, 0, 0, 0, 0, 2, 0, 2, 0, 2, 2},
	// Without a command conntrack reads the row after the table (its
	// index is NUMBER_OF_CMD): memory that follows it, in which only the
	// byte of --reply-zone is not zero in the 1.4.7 binary (conntrack
	// --reply-zone 1 prints the usage; any other option is illegal).
	numCmds: {28: 2},
}

// cmdTypes is cmd2type: a command letter's command index for the
// conntrack table and for the expect table (-1: not available there).
var cmdTypes = map[int][2]int{
	'L': {cmdList, cmdExpList},
	'I': {cmdCreate, cmdExpCreate},
	'D': {cmdDelete, cmdExpDelete},
	'G': {cmdGet, cmdExpGet},
	'F': {cmdFlush, cmdExpFlush},
	'E': {cmdEvent, cmdExpEvent},
	'V': {cmdVersion, cmdVersion},
	'h': {cmdHelp, cmdHelp},
	'C': {cmdCount, cmdExpCount},
	'S': {cmdStats, cmdExpStats},
	'U': {cmdUpdate, -1},
	'A': {cmdAdd, -1},
}

// LongOptions are conntrack's own long options (those valid before any
// -p), with their dashes, in its order: for shell completion.
func LongOptions() []string {
	out := make([]string, len(genericOpts))
	for i, o := range genericOpts {
		out[i] = "--" + o.name
	}
	return out
}
