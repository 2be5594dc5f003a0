// Package conntrack is ctq's drop-in conntrack(8): it runs a command line
// of conntrack-tools 1.4.7 (parsed by lang/ctargs) against the live
// tables and prints what conntrack prints, byte for byte: the entries on
// standard output (block-buffered, flushed at the end), the summary lines,
// warnings and errors on standard error, and conntrack's exit codes.
//
// Every command that reads or changes a table runs its engine.Plan with
// engine.Exec; the entries are printed with the writers of engine/format.
// ctq started as conntrack (cmd/ctq) is Main.
//
// Where ctq differs from conntrack 1.4.7 on purpose, Differences lists it;
// conntrack -h prints that list after the usage.
package conntrack

import "ctq/lang/ctargs"

// prefix starts every summary line and error: "conntrack v1.4.7
// (conntrack-tools): ".
const prefix = ctargs.ErrorPrefix

// tryHelp is the line conntrack adds to a parameter problem (exit code 2).
const tryHelp = ctargs.TryHelp + "\n"

// Differences lists, one a line, where ctq's conntrack does deliberately
// not what conntrack 1.4.7 does in running a command (those of the
// command line are ctargs.Differences). conntrack -h prints both after
// the usage.
var Differences = []string{
	"-D and -U: an entry that vanished between the dump and the request is skipped, not an error (as conntrack 1.4.8 does)",
	"-D and -U: requests are sent in batches; every entry changed is printed (1.4.7 loses some of -U's lines)",
	"-U: an update the kernel refuses is reported and counted but not printed (1.4.7 prints the unchanged entry)",
	"-U --state on SCTP sends the entry's verification tags with the state, which the kernel needs",
	"-o xml: SCTP and DCCP states by their own names (1.4.7 prints TCP's), and strings escaped",
	"-E -o xml: no [USERSPACE] suffix after </flow> (it breaks the document; conntrack 1.4.9 dropped it too)",
	"-E: -b prints conntrack's NOTICE of the size the kernel sets, but ctq sizes its event socket itself (larger; 1.4.7 resizes another socket); lost events print conntrack's ENOBUFS warning",
	"-G and -D on expectations find the expectation in a dump of the table",
}
