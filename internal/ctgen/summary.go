package ctgen

import "strings"

// Opt is one option of a command line as conntrack would read it: its
// key (the short letter for options that have one, otherwise the long
// name, e.g. "s", "orig-zone", "sport") and value ("" if none).
type Opt struct {
	Key, Value string
}

// Summary is roughly how conntrack 1.4.7 reads a command line: the
// command letter (0 if none; the first one if several), the table word
// after it and the options in order. Unknown options are kept with the
// key "?". It is meant for classifying lines (the test's allowlist), not
// for validating them: it ignores -p's effect on which options exist.
type Summary struct {
	Command byte
	// Commands counts the command options given.
	Commands int
	Table    string
	Opts     []Opt
}

// Has is whether the line gives option key.
func (s Summary) Has(key string) bool {
	return s.Index(key) >= 0
}

// Index is the position of the first option key among s.Opts, -1 if
// none.
func (s Summary) Index(key string) int {
	for i, o := range s.Opts {
		if o.Key == key {
			return i
		}
	}
	return -1
}

// Values are the values given to option key, in order.
func (s Summary) Values(key string) []string {
	var v []string
	for _, o := range s.Opts {
		if o.Key == key {
			v = append(v, o.Value)
		}
	}
	return v
}

// Summarize reads args (without the program name) the way conntrack's
// getopt_long loop would, closely enough to tell which command and which
// options a line has.
func Summarize(args []string) Summary {
	var s Summary
	type known struct {
		key  string
		arg  int
		cmd  byte
		long string
	}
	var longs []known
	shorts := map[byte]known{}
	for c, n := range commandNames() {
		arg := optionalArg
		if c == 'S' || c == 'V' || c == 'h' {
			arg = noArg
		}
		k := known{key: string(c), arg: arg, cmd: c, long: n}
		longs = append(longs, k)
		shorts[c] = k
	}
	opts := genericOptions()
	for _, p := range []string{"tcp", "sctp", "icmp", "icmpv6", "gre"} {
		opts = append(opts, protoOptions(p)...)
	}
	for _, o := range opts {
		for _, l := range o.longs {
			longs = append(longs, known{key: o.key, arg: o.arg, long: l})
		}
		if o.short != 0 {
			shorts[o.short] = known{key: o.key, arg: o.arg}
		}
	}
	add := func(k known, v string, i int) {
		if k.cmd != 0 {
			s.Commands++
			if s.Command == 0 {
				s.Command = k.cmd
				if i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && !strings.HasPrefix(args[i+1], "!") {
					s.Table = args[i+1]
				}
			}
			return
		}
		s.Opts = append(s.Opts, Opt{Key: k.key, Value: v})
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return s
		case strings.HasPrefix(a, "--"):
			name, v, hasV := strings.Cut(a[2:], "=")
			var match []known
			for _, k := range longs {
				if k.long == name {
					match = []known{k}
					break
				}
				if strings.HasPrefix(k.long, name) && (len(match) == 0 || match[0].key != k.key) {
					match = append(match, k)
				}
			}
			if len(match) != 1 {
				s.Opts = append(s.Opts, Opt{Key: "?", Value: a})
				continue
			}
			k := match[0]
			if k.arg == requiredArg && !hasV && i+1 < len(args) {
				i++
				v = args[i]
			}
			add(k, v, i)
		case strings.HasPrefix(a, "-") && len(a) > 1:
			for j := 1; j < len(a); j++ {
				k, ok := shorts[a[j]]
				if !ok {
					s.Opts = append(s.Opts, Opt{Key: "?", Value: "-" + a[j:j+1]})
					continue
				}
				rest := a[j+1:]
				switch {
				case k.arg == noArg:
					add(k, "", i)
					continue
				case rest != "":
					add(k, rest, i)
				case k.arg == requiredArg && i+1 < len(args):
					i++
					add(k, args[i], i-1)
				default:
					add(k, "", i)
				}
				break
			}
		}
	}
	return s
}
