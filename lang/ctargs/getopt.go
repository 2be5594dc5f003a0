package ctargs

import "strings"

// getopt emulates glibc's getopt_long as conntrack calls it: optstring
// shortOpts (leading ':': a missing argument is reported as ':', nothing
// is printed), long options from a table that grows with each -p, and the
// default PERMUTE ordering, in which words that are not options are
// skipped and moved behind the options as the scan goes. conntrack reads
// argv[optind-1] and argv[optind] between calls (its messages, the table
// word, optional arguments), so the permutation is reproduced exactly.
type getopt struct {
	argv []string // argv[0] is the program name
	// optind, optarg and hasArg are getopt's optind and optarg (hasArg
	// false for optarg == NULL).
	optind int
	optarg string
	hasArg bool
	// nextchar is the rest of a cluster of short options.
	nextchar string
	// firstNonopt and lastNonopt delimit the words skipped so far that
	// have not been moved behind the options yet.
	firstNonopt, lastNonopt int
}

// newGetopt starts a scan of args (without the program name).
func newGetopt(args []string) *getopt {
	argv := make([]string, 0, len(args)+1)
	argv = append(argv, "conntrack")
	argv = append(argv, args...)
	return &getopt{argv: argv, optind: 1, firstNonopt: 1, lastNonopt: 1}
}

// nonOption reports whether word is not an option (NONOPTION_P).
func nonOption(word string) bool {
	return len(word) < 2 || word[0] != '-'
}

// exchange moves the skipped words [firstNonopt, lastNonopt) behind the
// options [lastNonopt, optind) that followed them.
func (g *getopt) exchange() {
	bottom, middle, top := g.firstNonopt, g.lastNonopt, g.optind
	moved := make([]string, 0, top-bottom)
	moved = append(moved, g.argv[middle:top]...)
	moved = append(moved, g.argv[bottom:middle]...)
	copy(g.argv[bottom:top], moved)
	g.firstNonopt += g.optind - g.lastNonopt
	g.lastNonopt = g.optind
}

// next returns the next option's value (a short letter, a long option's
// val), '?' for an unknown or ambiguous option, ':' for a missing
// argument, or -1 at the end.
func (g *getopt) next(opts []longOpt) int {
	g.optarg, g.hasArg = "", false
	argc := len(g.argv)
	if g.nextchar == "" {
		if g.lastNonopt > g.optind {
			g.lastNonopt = g.optind
		}
		if g.firstNonopt > g.optind {
			g.firstNonopt = g.optind
		}
		if g.firstNonopt != g.lastNonopt && g.lastNonopt != g.optind {
			g.exchange()
		} else if g.lastNonopt != g.optind {
			g.firstNonopt = g.optind
		}
		for g.optind < argc && nonOption(g.argv[g.optind]) {
			g.optind++
		}
		g.lastNonopt = g.optind
		if g.optind != argc && g.argv[g.optind] == "--" {
			g.optind++
			if g.firstNonopt != g.lastNonopt && g.lastNonopt != g.optind {
				g.exchange()
			} else if g.firstNonopt == g.lastNonopt {
				g.firstNonopt = g.optind
			}
			g.lastNonopt = argc
			g.optind = argc
		}
		if g.optind == argc {
			if g.firstNonopt != g.lastNonopt {
				g.optind = g.firstNonopt
			}
			return -1
		}
		word := g.argv[g.optind]
		if word[1] == '-' {
			return g.long(opts, word[2:])
		}
		g.nextchar = word[1:]
	}
	c := g.nextchar[0]
	g.nextchar = g.nextchar[1:]
	i := strings.IndexByte(shortOpts, c)
	if g.nextchar == "" {
		g.optind++
	}
	if i < 0 || c == ':' || c == ';' {
		return '?'
	}
	if i+1 < len(shortOpts) && shortOpts[i+1] == ':' {
		if i+2 < len(shortOpts) && shortOpts[i+2] == ':' {
			if g.nextchar != "" {
				g.optarg, g.hasArg = g.nextchar, true
				g.optind++
			}
		} else {
			switch {
			case g.nextchar != "":
				g.optarg, g.hasArg = g.nextchar, true
				g.optind++
			case g.optind == argc:
				g.nextchar = ""
				return ':'
			default:
				g.optarg, g.hasArg = g.argv[g.optind], true
				g.optind++
			}
		}
		g.nextchar = ""
	}
	return int(c)
}

// long handles a word "--name[=value]" (process_long_option).
func (g *getopt) long(opts []longOpt, word string) int {
	name, value, hasValue := strings.Cut(word, "=")
	var found *longOpt
	for i := range opts {
		if opts[i].name == name {
			found = &opts[i]
			break
		}
	}
	if found == nil {
		ambiguous := false
		for i := range opts {
			if !strings.HasPrefix(opts[i].name, name) {
				continue
			}
			if found == nil {
				found = &opts[i]
			} else if found.arg != opts[i].arg || found.val != opts[i].val {
				ambiguous = true
			}
		}
		if ambiguous {
			g.optind++
			return '?'
		}
	}
	g.optind++
	if found == nil {
		return '?'
	}
	if hasValue {
		if found.arg == argNone {
			return '?'
		}
		g.optarg, g.hasArg = value, true
	} else if found.arg == argRequired {
		if g.optind >= len(g.argv) {
			return ':'
		}
		g.optarg, g.hasArg = g.argv[g.optind], true
		g.optind++
	}
	return found.val
}

// prev is argv[optind-1], the word conntrack names in its messages about
// unknown options and missing arguments.
func (g *getopt) prev() string {
	return g.argv[g.optind-1]
}

// optionalArg is conntrack's get_optional_arg: an attached value is
// ignored (nil), otherwise the next word is taken when it starts with
// neither '-' nor '!'.
func (g *getopt) optionalArg() (string, bool) {
	if g.hasArg {
		return "", false
	}
	if g.optind < len(g.argv) {
		w := g.argv[g.optind]
		if w == "" || (w[0] != '-' && w[0] != '!') {
			g.optind++
			return w, true
		}
	}
	return "", false
}
