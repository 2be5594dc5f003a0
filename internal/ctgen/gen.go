package ctgen

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Gen generates command lines against a table. It holds the random
// source, the table and a counter for fresh entries; it is not safe for
// concurrent use.
type Gen struct {
	r     *rand.Rand
	table []Entry
	all   []string
	fresh int
}

// New returns a generator of command lines for table, drawing from r.
func New(r *rand.Rand, table []Entry) *Gen {
	return &Gen{r: r, table: table, all: allLongNames()}
}

// Seeded returns the random source a seed stands for.
func Seeded(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

// Line generates the next command line.
func (g *Gen) Line() Line {
	r := g.r
	switch n := r.IntN(1000); {
	case n < 260:
		return g.list()
	case n < 380:
		return g.mutate('D')
	case n < 470:
		return g.mutate('U')
	case n < 540:
		return g.get()
	case n < 640:
		return g.insert()
	case n < 660:
		return g.flush()
	case n < 700:
		return g.countStats()
	case n < 740:
		return g.events()
	case n < 800:
		return g.load()
	case n < 860:
		return g.expect()
	case n < 900:
		return g.misc()
	default:
		return g.garbage()
	}
}

// target is a random table entry (filters are built to match it).
func (g *Gen) target() Entry {
	return pick(g.r, g.table)
}

// value returns a value for the generic option key, matching e most of
// the time, sometimes another valid value and sometimes a bad one.
func (g *Gen) value(key string, e Entry) (string, bool) {
	r := g.r
	bad := chance(r, 0.07)
	switch key {
	case "s", "d", "r", "q", "tuple-src", "tuple-dst":
		a := e.Src
		if key == "d" || key == "r" || key == "tuple-dst" {
			a = e.Dst
		}
		switch {
		case bad:
			return pick(r, []string{"999.1.1.1", "192.0.2.1/33", "192.0.2.1/abc", "2001:db8::1/129", "abc", "", "0xc6.18.0.1", "198.18.1", "::ffff:198.18.0.1"}), true
		case chance(r, 0.2):
			if strings.Contains(a, ":") {
				return a + pick(r, []string{"/32", "/48", "/64", "/0", "/128"}), true
			}
			return a + pick(r, []string{"/24", "/16", "/15", "/8", "/32", "/0"}), true
		case chance(r, 0.15):
			if chance(r, 0.5) {
				return pick(r, v6Dst()), true
			}
			return pick(r, v4Src()), true
		}
		return a, true
	case "mask-src", "mask-dst":
		if bad {
			return pick(r, []string{"255.255.255.1x", "abc", "/24"}), true
		}
		if e.V6 {
			return pick(r, []string{"ffff:ffff:ffff::", "ffff::", "::"}), true
		}
		return pick(r, []string{"255.255.255.0", "255.255.0.0", "255.254.0.0", "0.0.0.0", "255.255.255.255"}), true
	case "p":
		switch {
		case bad:
			return pick(r, []string{"foo", "300", "", "ipv6-icmp", "-1"}), true
		case chance(r, 0.12):
			return pick(r, []string{"udplite", "dccp", "esp", "6", "17", "0x11", "TCP", "Udp", "47", "1", "58", "132", "50"}), true
		}
		return e.Proto, true
	case "t":
		if bad {
			return pick(r, []string{"abc", "-5", "", "1x"}), true
		}
		return pick(r, []string{"7", "60", "3600", "120", "100000"}), true
	case "u":
		return g.statusList(bad), true
	case "z":
		return "", false
	case "e":
		if bad {
			return pick(r, []string{"D", "FOO", "NEW,", "", "new,,destroy"}), true
		}
		return pick(r, []string{"NEW", "DESTROY", "NEW,DESTROY", "UPDATES", "ALL", "new", "n,d", "U", "destroy,new", "UPDATE"}), true
	case "a":
		return "198.51.100.7", true
	case "m":
		if bad {
			return pick(r, []string{"abc", "1x", "0x100000001", "", "5/", "/5", "-1"}), true
		}
		if chance(r, 0.6) {
			return fmt.Sprint(e.Mark), true
		}
		return pick(r, []string{"0", "5", "0x20/0x20", "0/0xff", "1/1", "0x10000/0xffff0000", "2/0xf0", "0x30/0xf0"}), true
	case "c":
		return pick(r, []string{"0", "5", "abc"}), true
	case "i":
		if chance(r, 0.5) {
			return "", false
		}
		return pick(r, []string{"1", "123456", "abc", "0"}), true
	case "f":
		if bad {
			return pick(r, []string{"IPV6", "inet", "ipv", "", "4"}), true
		}
		if e.V6 {
			return pick(r, []string{"ipv6", "ipv6", "ipv6foo", "ipv4"}), true
		}
		return pick(r, []string{"ipv4", "ipv4", "ipv4x", "ipv6"}), true
	case "n", "g", "j":
		switch {
		case chance(r, 0.4):
			return "", false
		case bad:
			return pick(r, []string{":61000", "192.0.2.80:99999", "192.0.2.80:", "[]", "[2001:db8::1", "[2001:db8::1]:x", "300.1.1.1"}), true
		case chance(r, 0.2):
			return pick(r, []string{"2001:db8::99", "[2001:db8::99]:80", "[2001:db8::99]"}), true
		case chance(r, 0.3):
			return fmt.Sprintf("%s:%d", pick(r, natV4()), pick(r, []int{8000, 8001, 8003, 53})), true
		}
		return pick(r, natV4()), true
	case "o":
		return g.outputList(bad), true
	case "b":
		return pick(r, []string{"1048576", "0", "abc"}), true
	case "w", "orig-zone", "reply-zone":
		if bad {
			return pick(r, []string{"abc", "70000", "-1", ""}), true
		}
		if chance(r, 0.5) {
			return fmt.Sprint(e.Zone), true
		}
		return pick(r, []string{"0", "1", "3", "7", "0x7"}), true
	case "l", "label-add", "label-del":
		if key == "label-del" && chance(r, 0.5) {
			return "", false
		}
		return pick(r, []string{"web", "db,web", "0", "x"}), true
	}
	return "", false
}

// statusList is a -u argument: keyword lists, abbreviations, other
// cases, negations and UNREPLIED, and bad items when bad is set.
func (g *Gen) statusList(bad bool) string {
	r := g.r
	if bad {
		return pick(r, []string{"FOO", "", "ASSURED,", "unreplied", "S", "D", ",SEEN_REPLY", "!!ASSURED"})
	}
	n := 1 + r.IntN(2)
	items := make([]string, 0, n)
	for range n {
		switch k := r.IntN(10); {
		case k < 2:
			items = append(items, "UNREPLIED")
		case k < 4:
			items = append(items, "!"+pick(r, []string{"ASSURED", "SEEN_REPLY", "FIXED_TIMEOUT"}))
		case k < 5:
			s := pick(r, statuses())
			items = append(items, strings.ToLower(s[:1+r.IntN(len(s))]))
		default:
			items = append(items, pick(r, []string{"ASSURED", "SEEN_REPLY", "SEEN_REPLY", "FIXED_TIMEOUT", "UNSET", "EXPECTED", "OFFLOAD"}))
		}
	}
	return strings.Join(items, ",")
}

// outputList is an -o argument.
func (g *Gen) outputList(bad bool) string {
	r := g.r
	if bad {
		return pick(r, []string{"foo", "", "xml,save", "save,id", "s", "xml,", "json"})
	}
	if chance(r, 0.25) {
		return pick(r, []string{"save", "SAVE", "sa"})
	}
	kw := []string{"xml", "extended", "timestamp", "id", "ktimestamp", "labels", "userspace"}
	n := 1 + r.IntN(3)
	items := make([]string, 0, n)
	for range n {
		k := pick(r, kw)
		if chance(r, 0.15) {
			k = strings.ToUpper(k[:1+r.IntN(len(k))])
		}
		items = append(items, k)
	}
	return strings.Join(items, ",")
}

// protoValue returns a value for protocol option key, matching e when
// the protocols agree.
func (g *Gen) protoValue(key string, e Entry, proto string) string {
	r := g.r
	if chance(r, 0.06) {
		return pick(r, []string{"abc", "99999", "-1", "", "0x10"})
	}
	same := e.Proto == proto && chance(r, 0.8)
	switch key {
	case "sport", "srckey":
		if same {
			return fmt.Sprint(e.Sport)
		}
	case "dport", "dstkey":
		if same {
			return fmt.Sprint(e.Dport)
		}
		if key == "dport" {
			return fmt.Sprint(pick(r, dports()))
		}
	case "reply-port-src", "reply-key-src":
		if same {
			return fmt.Sprint(e.Dport)
		}
	case "reply-port-dst", "reply-key-dst":
		if same {
			return fmt.Sprint(e.Sport)
		}
	case "state":
		switch {
		case chance(r, 0.1):
			return pick(r, []string{"established", "FOO", "Established"})
		case same:
			return e.State
		case proto == "sctp":
			return pick(r, sctpStates())
		}
		return pick(r, tcpStates())
	case "icmp-type":
		if same {
			return fmt.Sprint(e.Sport)
		}
		return pick(r, []string{"8", "0", "128", "13"})
	case "icmp-code":
		return pick(r, []string{"0", "0", "1"})
	case "icmp-id":
		if same {
			return fmt.Sprint(e.Dport)
		}
	case "orig-vtag", "reply-vtag":
		return fmt.Sprint(1 + r.IntN(9))
	case "mask-port-src", "mask-port-dst", "tuple-port-src", "tuple-port-dst":
		return pick(r, []string{"65535", "0", "21"})
	}
	return fmt.Sprint(10000 + r.IntN(len(g.table)+5))
}

// filters appends k random options among keys (values from value) to
// args. When -p is among them, up to two options of that protocol
// follow it (or, rarely, precede it, which conntrack rejects).
func (g *Gen) filters(args []string, keys []string, k int, e Entry) []string {
	r := g.r
	opts := genericOptions()
	chosen := slices.Clone(keys)
	r.Shuffle(len(chosen), func(i, j int) { chosen[i], chosen[j] = chosen[j], chosen[i] })
	if k > len(chosen) {
		k = len(chosen)
	}
	for _, key := range chosen[:k] {
		o, _ := findOption(opts, key)
		v, has := g.value(key, e)
		if key == "p" {
			args = g.proto(args, o, v, e, r.IntN(3))
			continue
		}
		args = render(r, args, o, v, has, g.all)
	}
	return args
}

// proto appends -p proto (option o) and n options of that protocol.
func (g *Gen) proto(args []string, o option, proto string, e Entry, n int) []string {
	r := g.r
	popts := protoOptions(strings.ToLower(proto))
	var tail []string
	for range n {
		if len(popts) == 0 {
			break
		}
		po := pick(r, popts)
		tail = render(r, tail, po, g.protoValue(po.key, e, strings.ToLower(proto)), true, g.all)
	}
	args = render(r, args, o, proto, true, g.all)
	if chance(r, 0.03) && len(tail) > 0 {
		// Protocol options before -p are unknown options.
		return append(tail, args...)
	}
	return append(args, tail...)
}

// illegal appends, now and then, an option the command does not accept
// (or a doubtful word) so that the error paths are compared.
func (g *Gen) illegal(args []string, cmd byte, expect bool) []string {
	r := g.r
	if !chance(r, 0.1) {
		return args
	}
	ok := legal(cmd, expect)
	var bad []option
	for _, o := range genericOptions() {
		if !slices.Contains(ok, o.key) {
			bad = append(bad, o)
		}
	}
	switch k := r.IntN(10); {
	case k < 6 && len(bad) > 0:
		o := pick(r, bad)
		v, has := g.value(o.key, g.target())
		return render(r, args, o, v, has, g.all)
	case k < 7:
		return append(args, "extra")
	case k < 8:
		return append(args, pick(r, []string{"--foo", "-Y", "--s", "--st", "--re", "-"}))
	case k < 9:
		// An option missing its argument at the end of the line.
		return append(args, pick(r, []string{"-s", "--mark", "-o", "-p", "--zone"}))
	}
	return append(args, "--", "expect")
}

// tableArg returns, usually nothing, and otherwise a table argument for
// conntrack-table commands (the word "conntrack" or a prefix of it).
func (g *Gen) tableArg() []string {
	if chance(g.r, 0.1) {
		return []string{pick(g.r, []string{"conntrack", "c", "conn"})}
	}
	return nil
}

// list is an -L line: the conntrack table (mostly), dying, unconfirmed,
// with filters and output formats.
func (g *Gen) list() Line {
	r := g.r
	args := []string{renderCommand(r, 'L', g.all)}
	switch k := r.IntN(20); {
	case k == 0:
		args = append(args, pick(r, []string{"dying", "d", "unconfirmed", "u", "unconf"}))
	case k == 1:
		args = append(args, pick(r, []string{"foo", "ct", "connt"}))
	case k == 2 && len(args[0]) == 2:
		args[0] += pick(r, []string{"expect", "conntrack"}) // attached: ignored by 1.4.7
	default:
		args = append(args, g.tableArg()...)
	}
	e := g.target()
	keys := legal('L', false)
	args = g.filters(args, keys, r.IntN(4), e)
	if chance(r, 0.4) {
		o, _ := findOption(genericOptions(), "o")
		args = render(r, args, o, g.outputList(chance(r, 0.05)), true, g.all)
	}
	args = g.illegal(args, 'L', false)
	return Line{Args: args, Mutates: slices.ContainsFunc(args, func(a string) bool { return a == "-z" || a == "--zero" })}
}

// mutate is a -D or -U line with filters matching some entries and, for
// -U, values to set.
func (g *Gen) mutate(cmd byte) Line {
	r := g.r
	args := []string{renderCommand(r, cmd, g.all)}
	args = append(args, g.tableArg()...)
	e := g.target()
	keys := legal(cmd, false)
	// -U and -D filter, the setters of -U come separately.
	filterKeys := slices.DeleteFunc(slices.Clone(keys), func(k string) bool {
		return cmd == 'U' && (k == "m" || k == "u" || k == "t" || k == "label-add" || k == "label-del") ||
			cmd == 'D' && k == "t"
	})
	if cmd == 'U' && chance(r, 0.85) || cmd == 'D' && chance(r, 0.3) {
		o, _ := findOption(genericOptions(), "f")
		fam := "ipv4"
		if e.V6 {
			fam = "ipv6"
		}
		args = render(r, args, o, fam, true, g.all)
	}
	n := r.IntN(4)
	if cmd == 'D' && n == 0 && chance(r, 0.7) {
		n = 1 // -D without a filter deletes everything: not too often.
	}
	args = g.filters(args, filterKeys, n, e)
	if cmd == 'U' {
		for _, key := range []string{"m", "u", "t", "label-add"} {
			if chance(r, map[string]float64{"m": 0.6, "u": 0.3, "t": 0.25, "label-add": 0.03}[key]) {
				o, _ := findOption(genericOptions(), key)
				v, has := g.value(key, e)
				if key == "u" && chance(r, 0.7) {
					v = pick(r, []string{"SEEN_REPLY", "ASSURED", "SEEN_REPLY,ASSURED", "FIXED_TIMEOUT"})
				}
				args = render(r, args, o, v, has, g.all)
			}
		}
	}
	if cmd == 'D' && chance(r, 0.05) {
		// -D compares the remaining timeout exactly: values no entry has.
		o, _ := findOption(genericOptions(), "t")
		args = render(r, args, o, pick(r, []string{"7", "60"}), true, g.all)
	}
	if chance(r, 0.3) {
		o, _ := findOption(genericOptions(), "o")
		args = render(r, args, o, g.outputList(chance(r, 0.05)), true, g.all)
	}
	args = g.illegal(args, cmd, false)
	return Line{Args: args, Mutates: true}
}

// tupleArgs are the options giving e's original tuple (what -G looks up).
func (g *Gen) tupleArgs(args []string, e Entry) []string {
	r := g.r
	opts := genericOptions()
	o, _ := findOption(opts, "s")
	args = render(r, args, o, e.Src, true, g.all)
	o, _ = findOption(opts, "d")
	args = render(r, args, o, e.Dst, true, g.all)
	o, _ = findOption(opts, "p")
	args = render(r, args, o, e.Proto, true, g.all)
	popts := protoOptions(e.Proto)
	switch e.Proto {
	case "tcp", "udp", "sctp":
		for _, k := range []string{"sport", "dport"} {
			po, _ := findOption(popts, k)
			args = render(r, args, po, g.protoValue(k, e, e.Proto), true, g.all)
		}
	case "icmp", "icmpv6":
		for _, k := range []string{"icmp-type", "icmp-code", "icmp-id"} {
			po, _ := findOption(popts, k)
			v := g.protoValue(k, e, e.Proto)
			if k == "icmp-code" {
				v = "0"
			}
			args = render(r, args, po, v, true, g.all)
		}
	case "gre":
		for _, k := range []string{"srckey", "dstkey"} {
			po, _ := findOption(popts, k)
			args = render(r, args, po, g.protoValue(k, e, e.Proto), true, g.all)
		}
	}
	return args
}

// get is a -G line, mostly for an existing entry.
func (g *Gen) get() Line {
	r := g.r
	args := []string{renderCommand(r, 'G', g.all)}
	args = append(args, g.tableArg()...)
	e := g.target()
	if chance(r, 0.1) {
		o, _ := findOption(genericOptions(), "r")
		args = render(r, args, o, e.Dst, true, g.all)
		o, _ = findOption(genericOptions(), "q")
		args = render(r, args, o, e.Src, true, g.all)
		o, _ = findOption(genericOptions(), "p")
		args = render(r, args, o, e.Proto, true, g.all)
	} else {
		args = g.tupleArgs(args, e)
	}
	if chance(r, 0.5) {
		o, _ := findOption(genericOptions(), "o")
		args = render(r, args, o, g.outputList(chance(r, 0.05)), true, g.all)
	}
	if chance(r, 0.1) {
		args = g.filters(args, []string{"i", "l"}, 1, e)
	}
	args = g.illegal(args, 'G', false)
	return Line{Args: args}
}

// insert is an -I or -A line: a fresh entry (mostly), an existing one,
// or one missing a required option.
func (g *Gen) insert() Line {
	r := g.r
	cmd := byte('I')
	if chance(r, 0.35) {
		cmd = 'A'
	}
	var e Entry
	if chance(r, 0.15) {
		e = g.target()
	} else {
		e = entry(r, g.fresh, true)
		g.fresh++
	}
	// Re-render the entry's -I arguments in random spellings.
	args := []string{renderCommand(r, cmd, g.all)}
	opts := genericOptions()
	popts := protoOptions(e.Proto)
	src := e.Args[1:]
	drop := -1
	if chance(r, 0.1) {
		drop = r.IntN(len(src) / 2)
	}
	for i := 0; i+1 < len(src); i += 2 {
		if i/2 == drop {
			continue
		}
		name, v := strings.TrimLeft(src[i], "-"), src[i+1]
		o, ok := findOption(opts, name)
		if !ok {
			o, ok = findOption(popts, name)
		}
		if !ok {
			for _, c := range append(slices.Clone(opts), popts...) {
				if slices.Contains(c.longs, name) {
					o, ok = c, true
				}
			}
		}
		if !ok {
			args = append(args, src[i], v)
			continue
		}
		args = render(r, args, o, v, true, g.all)
	}
	if chance(r, 0.1) {
		args = g.filters(args, []string{"m", "u", "w", "label-add", "orig-zone", "reply-zone", "a"}, 1, e)
	}
	args = g.illegal(args, cmd, false)
	return Line{Args: args, Mutates: true}
}

// flush is an -F line.
func (g *Gen) flush() Line {
	r := g.r
	args := []string{renderCommand(r, 'F', g.all)}
	switch k := r.IntN(4); {
	case k == 0:
		args = append(args, "expect")
	case k == 1:
		o, _ := findOption(genericOptions(), "f")
		v, _ := g.value("f", g.target())
		args = render(r, args, o, v, true, g.all)
	}
	args = g.illegal(args, 'F', false)
	return Line{Args: args, Mutates: true}
}

// countStats is a -C or -S line.
func (g *Gen) countStats() Line {
	r := g.r
	cmd := pick(r, []byte{'C', 'S'})
	args := []string{renderCommand(r, cmd, g.all)}
	if chance(r, 0.3) {
		args = append(args, pick(r, []string{"expect", "conntrack", "e", "dying"}))
	}
	args = g.illegal(args, cmd, false)
	return Line{Args: args}
}

// events is an -E line; its triggers create two fresh entries, update
// the first one's mark and delete the second.
func (g *Gen) events() Line {
	r := g.r
	args := []string{renderCommand(r, 'E', g.all)}
	if chance(r, 0.1) {
		args = append(args, "expect")
		o, _ := findOption(genericOptions(), "o")
		args = render(r, args, o, g.outputList(false), true, g.all)
	} else {
		keys := legal('E', false)
		keys = slices.DeleteFunc(keys, func(k string) bool { return k == "b" && !chance(r, 0.2) })
		args = g.filters(args, keys, r.IntN(3), g.target())
		if chance(r, 0.5) {
			o, _ := findOption(genericOptions(), "o")
			args = render(r, args, o, g.outputList(chance(r, 0.05)), true, g.all)
		}
	}
	var trig [][]string
	var made []Entry
	for range 2 {
		e := entry(r, g.fresh, true)
		g.fresh++
		made = append(made, e)
		trig = append(trig, e.Args)
	}
	fam := "ipv4"
	if made[0].V6 {
		fam = "ipv6"
	}
	trig = append(trig, []string{"-U", "-f", fam, "-s", made[0].Src, "-p", made[0].Proto, "-m", "99"})
	trig = append(trig, append([]string{"-D"}, g.tupleFilter(made[1])...))
	return Line{Args: args, Events: true, Triggers: trig, Mutates: true}
}

// tupleFilter returns -s -d -p plus ports/keys/ids of e, spelled plainly.
func (g *Gen) tupleFilter(e Entry) []string {
	a := []string{"-s", e.Src, "-d", e.Dst, "-p", e.Proto}
	switch e.Proto {
	case "tcp", "udp", "sctp":
		a = append(a, "--sport", fmt.Sprint(e.Sport), "--dport", fmt.Sprint(e.Dport))
	case "icmp", "icmpv6":
		a = append(a, "--"+e.Proto+"-type", fmt.Sprint(e.Sport), "--"+e.Proto+"-code", "0", "--"+e.Proto+"-id", fmt.Sprint(e.Dport))
	case "gre":
		a = append(a, "--srckey", fmt.Sprint(e.Sport), "--dstkey", fmt.Sprint(e.Dport))
	}
	return a
}

// load is a -R (--load-file) line reading a generated file (or stdin),
// and the error cases of -R's placement and file.
func (g *Gen) load() Line {
	r := g.r
	var b strings.Builder
	n := 1 + r.IntN(4)
	for range n {
		switch k := r.IntN(20); {
		case k < 7:
			e := entry(r, g.fresh, true)
			g.fresh++
			b.WriteString(strings.Join(e.Args, " "))
		case k < 9:
			e := entry(r, g.fresh, true)
			g.fresh++
			b.WriteString("-A " + strings.Join(e.Args[1:], " "))
		case k < 12:
			b.WriteString("-D " + strings.Join(g.tupleFilter(g.target()), " "))
		case k < 14:
			e := g.target()
			fam := "ipv4"
			if e.V6 {
				fam = "ipv6"
			}
			fmt.Fprintf(&b, "-U -f %s -s %s -m %d", fam, e.Src, 1+r.IntN(9))
		case k < 15:
			b.WriteString("# a comment")
		case k < 16:
			b.WriteString("   ")
		case k < 17:
			b.WriteString(strings.Join(g.target().Args, " ")) // exists
		case k < 18:
			b.WriteString(pick(r, []string{"-L", "-L expect", "-C", "-I -s 1.2.3.4", "--sport 1", "-F expect", "-G -s 1.1.1.1"}))
		case k < 19:
			b.WriteString(`-I -t 60 -s "192.0.2.200" -d 203.0.113.9 -p udp --sport 1 --dport "2"`)
		default:
			b.WriteString("-F")
		}
		b.WriteByte('\n')
	}
	l := Line{File: b.String(), Mutates: true}
	switch k := r.IntN(12); {
	case k < 7:
		l.Args = []string{"-R", FileArg}
	case k < 9:
		l.Args = []string{"--load-file", FileArg}
	case k < 10:
		l.Args, l.Stdin, l.File = []string{"-R", "-"}, l.File, ""
	case k < 11:
		l.Args = []string{pick(r, []string{"-L", "-s"}), "-R", FileArg}
	default:
		l.Args = []string{"-R", pick(r, []string{"/nonexistent/ctq-diff.save", "--"})}
		if chance(r, 0.5) {
			l.Args = l.Args[:1]
		}
	}
	return l
}

// expect is a command on the expectation table (empty in the test:
// expectations need a helper and real traffic).
func (g *Gen) expect() Line {
	r := g.r
	cmd := pick(r, []byte{'L', 'L', 'L', 'D', 'G', 'I', 'F', 'C', 'U', 'A'})
	args := []string{renderCommand(r, cmd, g.all), pick(r, []string{"expect", "expect", "e", "ex", "expectation"})}
	e := g.target()
	switch cmd {
	case 'L':
		args = g.filters(args, legal('L', true), r.IntN(2), e)
	case 'D', 'G':
		args = g.tupleArgs(args, e)
	case 'I':
		args = g.filters(args, legal('I', true), 3+r.IntN(6), e)
	}
	args = g.illegal(args, cmd, true)
	return Line{Args: args, Mutates: cmd != 'L' && cmd != 'G' && cmd != 'C'}
}

// misc is -V, -h (with a protocol), no command, or two commands.
func (g *Gen) misc() Line {
	r := g.r
	switch r.IntN(6) {
	case 0:
		return Line{Args: []string{renderCommand(r, 'V', g.all)}}
	case 1:
		a := []string{renderCommand(r, 'h', g.all)}
		if chance(r, 0.6) {
			a = append(a, "-p", pick(r, []string{"tcp", "udp", "sctp", "icmp", "icmpv6", "gre", "esp", "dccp", "udplite", "foo"}))
		}
		return Line{Args: a}
	case 2:
		return Line{Args: pick(r, [][]string{{}, {"-s", "192.0.2.1"}, {"-o", "xml"}, {"extra"}})}
	case 3:
		c := []byte{'L', 'D', 'I', 'U', 'G', 'F', 'E', 'C', 'S', 'V', 'h', 'A'}
		a, b := pick(r, c), pick(r, c)
		return Line{Args: []string{renderCommand(r, a, g.all), renderCommand(r, b, g.all)}, Mutates: true}
	case 4:
		// -j with -n/-g, --label-add with --label-del, save combined.
		return Line{Args: pick(r, [][]string{
			{"-L", "-j", "-n"}, {"-L", "--any-nat", "--dst-nat=192.0.2.80"},
			{"-U", "-f", "ipv4", "--label-add", "web", "--label-del", "db"},
			{"-L", "-o", "save", "-o", "xml"}, {"-L", "-o", "id", "-o", "save"},
			{"-L", "-z", "-s", "198.18.0.1"}, {"-L", "--mask-src", "255.255.0.0"},
			{"-L", "-a", "1.2.3.4"}, {"-I", "-a", "1.2.3.4"},
		})}
	}
	return Line{Args: []string{"-L", "-o", g.outputList(false), "-f", pick(r, []string{"ipv4", "ipv6"})}}
}

// garbage is a line of unknown options, missing arguments and ambiguous
// abbreviations.
func (g *Gen) garbage() Line {
	r := g.r
	l := Line{Args: pick(r, [][]string{
		{"--foo"}, {"-L", "--sta"}, {"-L", "-p", "tcp", "--sta", "ESTABLISHED"}, {"-Y"}, {"-L", "-s"},
		{"-L", "--sport", "22"}, {"-L", "-p"}, {"-D", "-p", "udp", "--dport"}, {"--dump="}, {"-L", "-m"},
		{"-L", "-p", "tcp", "-p", "udp", "--dport", "53"}, {"-L", "-s", "198.18.0.1", "-d", "2001:db8::10"},
		{"-L", "-f", "ipv4", "-s", "2001:db8::1"}, {"-L", "-r", "192.0.2.0/24"}, {"-L", "-u", "UNSET"},
		{"-L", "-u", "FIXED_TIMEOUT,!ASSURED"}, {"-L", "--status", "S"}, {"-L", "-o", "s"},
		{"--dump", "--dump"}, {"-E", "-e", "D"}, {"-L", "--"}, {"-"}, {"--"}, {"-L", "-p", "esp", "--sport", "1"},
		{"-L", "-p", "ipv6-icmp", "--icmpv6-type", "128"}, {"-L", "-w", "abc"}, {"-L", "-m", "1x"},
		{"-L", "--src", "198.18.0.1", "--orig-src", "198.18.0.2"}, {"-L", "-l", "web"}, {"-L", "-o", "labels"},
	})}
	l.Events = l.Args[0] == "-E"
	return l
}
