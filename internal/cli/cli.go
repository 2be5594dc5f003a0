// Package cli is the one table of ctq's command-line flags. cmd/ctq's
// flag parser and --help read it, and so do the man page and the shell
// completions cmd/ctqdoc generates.
package cli

import (
	"slices"
	"strings"

	"ctq/engine/format"
)

// Value is what a flag's value is, for help and completion.
type Value uint8

// The kinds of flag values.
const (
	// None is a switch: the flag takes no value.
	None Value = iota
	// Statements are ctq statements (a one-line script).
	Statements
	// Format is an output format name (format.Names, or a comma list of
	// conntrack's text flags).
	Format
	// File is a file name, or - for standard input.
	File
	// Netns is the name of a network namespace, as `ip netns list` shows.
	Netns
)

// Flag is a flag of ctq. It is given as -Short, --Long, -Long or --Short,
// its value as the next argument or after "=".
type Flag struct {
	// Short is the one-letter name, "" for none.
	Short string
	// Long is the long name, without dashes.
	Long string
	// Arg is the value's placeholder in help ("STMT"), "" for a switch.
	Arg string
	// Value is what the value is.
	Value Value
	// Repeat reports whether the flag may be given more than once (each
	// adds to the others).
	Repeat bool
	// Help says what the flag does: sentences without the final period,
	// separated by "; ".
	Help string
}

// Flags returns ctq's flags, in help order.
func Flags() []Flag {
	return []Flag{
		{Short: "e", Long: "exec", Arg: "STMT", Value: Statements, Repeat: true,
			Help: "run STMT (repeatable; all are checked before any runs)"},
		{Short: "o", Long: "output", Arg: "FORMAT", Value: Format,
			Help: "default output format: " + strings.Join(format.Names(), ", ") +
				" (or conntrack flags such as extended,id)"},
		{Long: "from", Arg: "FILE", Value: File,
			Help: "query a saved table (conntrack -o save / text / extended output, or ctq's -o json) " +
				"instead of the kernel; no root needed; - reads it from standard input"},
		{Long: "netns", Arg: "NAME", Value: Netns,
			Help: "use the conntrack table of network namespace NAME"},
		{Long: "fail-empty",
			Help: "exit with code 1 when a list, get, count, delete, update or insert selected or changed nothing " +
				"(as conntrack does); the statements after it still run, and an exit statement's code wins"},
		{Short: "V", Long: "version",
			Help: "print the version"},
		{Short: "h", Long: "help",
			Help: "print a summary of the flags and exit codes"},
	}
}

// Lookup returns the flag whose short or long name is name (without
// dashes).
func Lookup(name string) (Flag, bool) {
	flags := Flags()
	i := slices.IndexFunc(flags, func(f Flag) bool { return name != "" && (f.Short == name || f.Long == name) })
	if i < 0 {
		return Flag{}, false
	}
	return flags[i], true
}

// Names returns the flag as help shows it: "-o, --output" or "--from".
func (f Flag) Names() string {
	if f.Short == "" {
		return "--" + f.Long
	}
	return "-" + f.Short + ", --" + f.Long
}

// Subcommand is a first argument that makes ctq another program.
type Subcommand struct {
	// Name is the word, and the program name (argv[0]) that selects the
	// subcommand as well.
	Name string
	// Args is the placeholder of its arguments in help.
	Args string
	// Help says what it does, as Flag.Help.
	Help string
}

// Subcommands returns ctq's subcommands, in help order.
func Subcommands() []Subcommand {
	return []Subcommand{
		{Name: "conntrack", Args: "ARGS...",
			Help: "behave as conntrack(8) of conntrack-tools 1.4.7: the same options, output, messages " +
				"and exit codes (ctq started under the name conntrack does the same); " +
				"conntrack -h lists the deliberate differences"},
		{Name: "conntrackd", Args: "ARGS...",
			Help: "behave as conntrackd(8) of conntrack-tools 1.4.7: -C CONF, -d, the client options " +
				"and the statistics mode, with its output and exit codes (ctq started under the name " +
				"conntrackd does the same); conntrackd -h says where it differs"},
	}
}

// LookupSubcommand returns the subcommand called name.
func LookupSubcommand(name string) (Subcommand, bool) {
	for _, s := range Subcommands() {
		if s.Name == name {
			return s, true
		}
	}
	return Subcommand{}, false
}
