package ctgen

import (
	"math/rand/v2"
	"strings"
)

// Argument kinds of an option, as in getopt_long's has_arg.
const (
	noArg       = 0
	requiredArg = 1
	optionalArg = 2
)

// option is one conntrack option: its key (the internal name used in the
// legality lists below), short letter and long names (aliases included)
// and whether it takes an argument.
type option struct {
	key   string
	short byte
	longs []string
	arg   int
}

// genericOptions are conntrack 1.4.7's generic options (src/conntrack.c
// original_opts), commands excluded.
func genericOptions() []option {
	return []option{
		{"s", 's', []string{"orig-src", "src"}, requiredArg},
		{"d", 'd', []string{"orig-dst", "dst"}, requiredArg},
		{"r", 'r', []string{"reply-src"}, requiredArg},
		{"q", 'q', []string{"reply-dst"}, requiredArg},
		{"p", 'p', []string{"protonum"}, requiredArg},
		{"t", 't', []string{"timeout"}, requiredArg},
		{"u", 'u', []string{"status"}, requiredArg},
		{"z", 'z', []string{"zero"}, noArg},
		{"e", 'e', []string{"event-mask"}, requiredArg},
		{"tuple-src", 0, []string{"tuple-src"}, requiredArg},
		{"tuple-dst", 0, []string{"tuple-dst"}, requiredArg},
		{"mask-src", 0, []string{"mask-src"}, requiredArg},
		{"mask-dst", 0, []string{"mask-dst"}, requiredArg},
		{"a", 'a', []string{"nat-range"}, requiredArg},
		{"m", 'm', []string{"mark"}, requiredArg},
		{"c", 'c', []string{"secmark"}, requiredArg},
		{"i", 'i', []string{"id"}, optionalArg},
		{"f", 'f', []string{"family"}, requiredArg},
		{"n", 'n', []string{"src-nat"}, optionalArg},
		{"g", 'g', []string{"dst-nat"}, optionalArg},
		{"o", 'o', []string{"output"}, requiredArg},
		{"b", 'b', []string{"buffer-size"}, requiredArg},
		{"j", 'j', []string{"any-nat"}, optionalArg},
		{"w", 'w', []string{"zone"}, requiredArg},
		{"l", 'l', []string{"label"}, requiredArg},
		{"label-add", 0, []string{"label-add"}, requiredArg},
		{"label-del", 0, []string{"label-del"}, optionalArg},
		{"orig-zone", 0, []string{"orig-zone"}, requiredArg},
		{"reply-zone", 0, []string{"reply-zone"}, requiredArg},
	}
}

// protoOptions are the options a protocol adds once -p names it
// (extensions/libct_proto_*.c); nil for protocols without options.
func protoOptions(proto string) []option {
	ports := []option{
		{"sport", 0, []string{"sport", "orig-port-src"}, requiredArg},
		{"dport", 0, []string{"dport", "orig-port-dst"}, requiredArg},
		{"reply-port-src", 0, []string{"reply-port-src"}, requiredArg},
		{"reply-port-dst", 0, []string{"reply-port-dst"}, requiredArg},
		{"mask-port-src", 0, []string{"mask-port-src"}, requiredArg},
		{"mask-port-dst", 0, []string{"mask-port-dst"}, requiredArg},
		{"tuple-port-src", 0, []string{"tuple-port-src"}, requiredArg},
		{"tuple-port-dst", 0, []string{"tuple-port-dst"}, requiredArg},
	}
	state := option{"state", 0, []string{"state"}, requiredArg}
	switch proto {
	case "tcp":
		return append(ports, state)
	case "udp", "udplite":
		return ports
	case "sctp":
		return append(ports, state,
			option{"orig-vtag", 0, []string{"orig-vtag"}, requiredArg},
			option{"reply-vtag", 0, []string{"reply-vtag"}, requiredArg})
	case "icmp", "icmpv6":
		return []option{
			{"icmp-type", 0, []string{proto + "-type"}, requiredArg},
			{"icmp-code", 0, []string{proto + "-code"}, requiredArg},
			{"icmp-id", 0, []string{proto + "-id"}, requiredArg},
		}
	case "gre":
		return []option{
			{"srckey", 0, []string{"srckey", "orig-key-src"}, requiredArg},
			{"dstkey", 0, []string{"dstkey", "orig-key-dst"}, requiredArg},
			{"reply-key-src", 0, []string{"reply-key-src"}, requiredArg},
			{"reply-key-dst", 0, []string{"reply-key-dst"}, requiredArg},
		}
	}
	return nil
}

// commandNames are conntrack's command options: short letter and long
// name. All but -S, -V and -h take an optional (attached) argument.
func commandNames() map[byte]string {
	return map[byte]string{
		'L': "dump", 'I': "create", 'A': "add", 'D': "delete", 'U': "update", 'G': "get",
		'F': "flush", 'E': "event", 'C': "counter", 'S': "stats", 'V': "version", 'h': "help",
	}
}

// allLongNames are every long option name conntrack may know (generic,
// commands and every protocol's), for computing unambiguous
// abbreviations.
func allLongNames() []string {
	var names []string
	for _, n := range commandNames() {
		names = append(names, n)
	}
	for _, o := range genericOptions() {
		names = append(names, o.longs...)
	}
	for _, p := range []string{"tcp", "sctp", "icmp", "icmpv6", "gre"} {
		for _, o := range protoOptions(p) {
			names = append(names, o.longs...)
		}
	}
	return names
}

// abbreviate returns a random unambiguous abbreviation of the long option
// name (a prefix no other known name starts with), or name itself when
// there is none shorter.
func abbreviate(r *rand.Rand, name string, all []string) string {
	for n := 1; n < len(name); n++ {
		p := name[:n]
		unique := true
		for _, o := range all {
			if o != name && strings.HasPrefix(o, p) {
				unique = false
				break
			}
		}
		if unique {
			return name[:n+r.IntN(len(name)-n)]
		}
	}
	return name
}

// legal lists, per command (and table), the generic options conntrack
// 1.4.7 accepts with it (commands_v_options in src/conntrack.c; see
// /work/shared/reference/conntrack-cli.md §3).
func legal(cmd byte, expect bool) []string {
	if expect {
		switch cmd {
		case 'L':
			return []string{"f", "o"}
		case 'I':
			return []string{"s", "d", "r", "q", "p", "t", "u", "tuple-src", "tuple-dst", "mask-src", "mask-dst"}
		case 'D', 'G':
			return []string{"s", "d", "r", "q", "p"}
		case 'E':
			return []string{"o"}
		}
		return nil
	}
	switch cmd {
	case 'L':
		return []string{"s", "d", "r", "q", "p", "u", "z", "m", "f", "n", "g", "o", "c", "j", "w", "l",
			"orig-zone", "reply-zone", "mask-src", "mask-dst"}
	case 'I', 'A':
		return []string{"s", "d", "r", "q", "p", "t", "u", "a", "m", "n", "g", "w", "label-add", "orig-zone", "reply-zone"}
	case 'U':
		return []string{"s", "d", "r", "q", "p", "t", "u", "mask-src", "mask-dst", "m", "i", "f", "n", "g", "o", "l",
			"label-add", "label-del"}
	case 'D':
		return []string{"s", "d", "r", "q", "p", "t", "u", "mask-src", "mask-dst", "m", "i", "f", "n", "g", "o", "w", "l",
			"orig-zone", "reply-zone"}
	case 'G':
		return []string{"s", "d", "r", "q", "p", "i", "o", "l"}
	case 'F':
		return []string{"f"}
	case 'E':
		return []string{"s", "d", "r", "q", "p", "mask-src", "mask-dst", "m", "f", "n", "g", "o", "c", "b", "j", "w", "l",
			"orig-zone", "reply-zone", "e"}
	case 'h':
		return []string{"p"}
	}
	return nil
}

// findOption returns the option with key among opts.
func findOption(opts []option, key string) (option, bool) {
	for _, o := range opts {
		if o.key == key {
			return o, true
		}
	}
	return option{}, false
}

// render appends option o with value v (hasValue false: no value) to
// args in a random but equivalent spelling: short or long name, alias,
// unambiguous abbreviation, separate or attached value. Values of
// options with an optional argument must be attached to be taken, so a
// separate one is produced only rarely (conntrack then ignores it as a
// stray word, which is a case worth comparing too).
func render(r *rand.Rand, args []string, o option, v string, hasValue bool, all []string) []string {
	if o.short != 0 && chance(r, 0.5) {
		s := "-" + string(o.short)
		switch {
		case !hasValue:
			return append(args, s)
		case o.arg == optionalArg && !chance(r, 0.05):
			return append(args, s+v)
		case o.arg == requiredArg && chance(r, 0.1) && v != "":
			return append(args, s+v)
		}
		return append(args, s, v)
	}
	name := pick(r, o.longs)
	if chance(r, 0.2) {
		name = abbreviate(r, name, all)
	}
	l := "--" + name
	switch {
	case !hasValue:
		return append(args, l)
	case o.arg == optionalArg && !chance(r, 0.05):
		return append(args, l+"="+v)
	case o.arg == requiredArg && chance(r, 0.1):
		return append(args, l+"="+v)
	}
	return append(args, l, v)
}

// renderCommand spells command letter c: short or long, maybe
// abbreviated.
func renderCommand(r *rand.Rand, c byte, all []string) string {
	if chance(r, 0.7) {
		return "-" + string(c)
	}
	name := commandNames()[c]
	if chance(r, 0.3) {
		name = abbreviate(r, name, all)
	}
	return "--" + name
}
