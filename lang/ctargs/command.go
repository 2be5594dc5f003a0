// Package ctargs parses conntrack(8) command lines, as conntrack-tools
// 1.4.7 accepts them, into a Command: the engine plan that does what the
// command line asks, and what conntrack prints around it. repl/conntrack
// runs Commands; ctq started as conntrack is the two together.
//
// The parser accepts what conntrack 1.4.7 accepts (getopt_long's option
// abbreviations and forms, keyword prefixes, table prefixes) and refuses
// what it refuses, with its messages and exit codes. Where 1.4.7 does
// something destructive that its options do not say (see Differences), the
// plan does what the options say.
//
// What a runner does with a Command, in conntrack's order: print
// Warnings (standard error, one a line); for an *Error, print
// ErrorPrefix+Msg and, for Code 2, TryHelp, and exit with Code; then by
// Op: OpNone prints Usage(), OpHelp HelpText(), OpVersion Version;
// OpLoad reads LoadFile with ParseLoad (LoadOpenError when it cannot be
// opened); the other ops run Plan and print their output and summary.
// Parse itself reports the checks conntrack makes when it starts to
// execute (-z with filters, --mask-src without --src, -L -u UNSET, -G by
// the reply tuple): nothing is printed before them but the warnings.
// Messages printed while running (summaries, "Operation failed: ...",
// the -E -b NOTICE, the emptied-table lines) are the runner's.
package ctargs

import (
	"ctq/engine"
	"ctq/engine/format"
)

// Op is a conntrack command.
type Op uint8

// The commands, with conntrack's option letters.
const (
	OpNone    Op = iota // no command: conntrack prints its usage
	OpList              // -L, --dump
	OpGet               // -G, --get
	OpDelete            // -D, --delete
	OpCreate            // -I, --create
	OpAdd               // -A, --add
	OpUpdate            // -U, --update
	OpEvent             // -E, --event
	OpFlush             // -F, --flush
	OpCount             // -C, --count
	OpStats             // -S, --stats
	OpLoad              // -R, --load-file
	OpVersion           // -V, --version
	OpHelp              // -h, --help
)

// Command is one parsed conntrack command line.
type Command struct {
	Op    Op
	Table engine.Table
	// Family is the address family the command works on after conntrack's
	// defaults (AF_UNSPEC, AF_INET or AF_INET6).
	Family int
	// Plan does what the command asks, for the ops that run a plan (list,
	// get, delete, create, add, update, event, flush, count). Its Table is
	// Table. Delete and update plans have Echo set (conntrack prints what
	// they touch); a list with -z has Zero; an add has IfAbsent.
	Plan engine.Plan
	// Output is how entries and events are printed (-o).
	Output Output
	// EventBuffer is -b's socket buffer size for -E (0: the default), and
	// EventBufferSet whether -b was given (conntrack then reports the
	// size the kernel set, even for -b 0).
	EventBuffer    int
	EventBufferSet bool
	// LoadFile is -R's file name ("-": standard input).
	LoadFile string
	// HelpProto is the protocol named with -h -p, whose options conntrack
	// prints after its usage ("" for none).
	HelpProto string
	// Warnings are the lines conntrack writes to standard error while it
	// parses (the deprecated-option and SRC_NAT/DST_NAT warnings, the
	// "nfct_labelmap_new: ..." perror line), in order, without their
	// newline.
	Warnings []string
	// NoEvents is set for an -E whose -e list selected no event type
	// (-e D is a DST_NAT prefix): conntrack then subscribes to nothing
	// and waits for its signal. Plan.Events is zero then, which the
	// engine reads as all types: the runner must not watch.
	NoEvents bool
	// ExecError, set only on Commands of a load file (ParseLoad), is the
	// error conntrack reports when it comes to execute this line, before
	// sending anything for it (e.g. --mask-src without --src): the runner
	// reports it there, after the lines before have run. Parse returns
	// such errors directly.
	ExecError *Error

	// cmdLetter is the command's option letter ('L', ...), 0 for none;
	// cmdIndex conntrack's command index (CT_*_BIT, EXP_*_BIT).
	cmdLetter byte
	cmdIndex  int
	// helpBody is the protocol help -h -p prints after its heading.
	helpBody string
	// outMask is the -o mask (_O_*) after this line.
	outMask uint32
}

// Output is the -o of a command line.
type Output struct {
	// Spec is the format: text with conntrack's flags, xml or save.
	Spec format.Spec
	// Labels is -o labels: label names are printed (connlabel.conf).
	Labels bool
	// Userspace is -o userspace (accepted, no effect in 1.4.7).
	Userspace bool
	// LabelNames maps label bits to names when conntrack loaded
	// connlabel.conf (-o labels, -l, --label-add, --label-del; nil when
	// not loaded or the file could not be read). conntrack prints labels=
	// in -L, -G, -U and event output whenever it loaded the map.
	LabelNames map[int]string
}

// Error is a command line conntrack refuses. Its text is what conntrack
// prints after "conntrack v1.4.7 (conntrack-tools): ". Code is the exit
// status: 2 for a parameter problem (conntrack adds its "Try `conntrack -h'"
// line), 1 for the few refusals conntrack reports as another problem.
type Error struct {
	Msg  string
	Code int
	// Warnings are the lines conntrack wrote to standard error before the
	// error (see Command.Warnings).
	Warnings []string
}

func (e *Error) Error() string { return e.Msg }
