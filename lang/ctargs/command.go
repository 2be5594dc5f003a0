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
	// EventBuffer is -b's socket buffer size for -E (0: the default).
	EventBuffer int
	// LoadFile is -R's file name ("-": standard input).
	LoadFile string
	// HelpProto is the protocol named with -h -p, whose options conntrack
	// prints after its usage ("" for none).
	HelpProto string
	// Warnings are the lines conntrack writes to standard error while it
	// parses (the deprecated-option and SRC_NAT/DST_NAT warnings), in
	// order, without their newline.
	Warnings []string
}

// Output is the -o of a command line.
type Output struct {
	// Spec is the format: text with conntrack's flags, xml or save.
	Spec format.Spec
	// Labels is -o labels: label names are printed (connlabel.conf).
	Labels bool
	// Userspace is -o userspace (accepted, no effect in 1.4.7).
	Userspace bool
}

// Error is a command line conntrack refuses. Its text is what conntrack
// prints after "conntrack v1.4.7 (conntrack-tools): ". Code is the exit
// status: 2 for a parameter problem (conntrack adds its "Try `conntrack -h'"
// line), 1 for the few refusals conntrack reports as another problem.
type Error struct {
	Msg  string
	Code int
}

func (e *Error) Error() string { return e.Msg }
