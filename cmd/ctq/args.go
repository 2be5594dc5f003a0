package main

import (
	"fmt"
	"strings"

	"ctq/internal/cli"
)

// usageHead and usageTail are the --help text before and after the
// flags, which come from cli.Flags.
const (
	usageHead = `usage: ctq [flags] [SCRIPT]
       ctq SUBCOMMAND ARGS...

Runs ctq statements against the conntrack tables: the -e statements, the
SCRIPT file, or standard input (the interactive shell on a terminal).

flags:
`
	usageTail = `
exit codes: 0 ok, 1 runtime or kernel error (with --fail-empty also: a
statement selected nothing), 2 usage, parse or type error, or a bad load
file or sync configuration (nothing ran), 130 interrupted.
`
)

// usage is the --help text: the flags of cli.Flags, each with its help
// wrapped in a column of its own.
func usage() string {
	flags := cli.Flags()
	left := make([]string, len(flags))
	col := 0
	for i, f := range flags {
		left[i] = strings.TrimSpace(f.Names() + " " + f.Arg)
		col = max(col, len(left[i]))
	}
	var b strings.Builder
	b.WriteString(usageHead)
	indent := "\n" + strings.Repeat(" ", 2+col+2)
	for i, f := range flags {
		fmt.Fprintf(&b, "  %-*s  %s\n", col, left[i], wrap(f.Help, 79-(2+col+2), indent))
	}
	b.WriteString("\nsubcommands:\n")
	for _, s := range cli.Subcommands() {
		fmt.Fprintf(&b, "  %-*s  %s\n", col, s.Name+" "+s.Args, wrap(s.Help, 79-(2+col+2), indent))
	}
	b.WriteString(usageTail)
	return b.String()
}

// wrap breaks text at spaces into lines of at most width bytes (longer
// words stay whole), joined by sep.
func wrap(text string, width int, sep string) string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(text) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return strings.Join(append(lines, line), sep)
}

const usageHint = "Try `ctq --help' for more information.\n"

// options are ctq's parsed command line.
type options struct {
	exprs  []string
	format string
	from   string
	netns  string
	script string
	// failEmpty is --fail-empty (repl.Config.FailEmpty).
	failEmpty bool
	help      bool
	version   bool
}

// parseArgs parses flags and the optional script argument; flags may come
// before or after the script. "--" ends the flags.
func parseArgs(args []string) (*options, error) {
	o := &options{}
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		value := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		f, ok := cli.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("unknown flag %s", a)
		}
		var err error
		switch f.Long {
		case "exec":
			var v string
			v, err = value()
			o.exprs = append(o.exprs, v)
		case "output":
			o.format, err = value()
		case "from":
			o.from, err = value()
		case "netns":
			o.netns, err = value()
		case "fail-empty":
			if hasVal {
				return nil, fmt.Errorf("flag %s takes no value", a)
			}
			o.failEmpty = true
		case "help":
			o.help = true
		case "version":
			o.version = true
		default:
			return nil, fmt.Errorf("flag %s is not implemented", a)
		}
		if err != nil {
			return nil, err
		}
	}
	switch {
	case len(positional) > 1:
		return nil, fmt.Errorf("one script at a time, got %q", positional)
	case len(positional) == 1 && len(o.exprs) > 0:
		return nil, fmt.Errorf("give statements with -e or a script file, not both")
	case len(positional) == 1:
		o.script = positional[0]
	}
	if o.from != "" && o.netns != "" {
		return nil, fmt.Errorf("--from and --netns exclude each other: a saved table has no namespace")
	}
	return o, nil
}
