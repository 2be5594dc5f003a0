package ctgen

import (
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// allowedPrefixes are the only networks generated lines may name.
func allowedPrefixes() []netip.Prefix {
	var p []netip.Prefix
	for _, s := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15", "2001:db8::/32"} {
		p = append(p, netip.MustParsePrefix(s))
	}
	return p
}

// addressesIn returns the words of args that parse as IP addresses
// (alone, with a /N or a :PORT, or in [V6]:PORT form).
func addressesIn(args []string) []netip.Addr {
	var out []netip.Addr
	for _, a := range args {
		_, v, ok := strings.Cut(a, "=")
		if ok && strings.HasPrefix(a, "--") {
			a = v
		}
		a = strings.TrimPrefix(a, "[")
		if i := strings.Index(a, "]"); i >= 0 {
			a = a[:i]
		}
		a, _, _ = strings.Cut(a, "/")
		if ad, err := netip.ParseAddr(a); err == nil {
			out = append(out, ad)
			continue
		}
		if h, _, ok := strings.Cut(a, ":"); ok && strings.Count(a, ":") == 1 {
			if ad, err := netip.ParseAddr(h); err == nil {
				out = append(out, ad)
			}
		}
	}
	return out
}

func TestSameSeedSameLines(t *testing.T) {
	gen := func(seed uint64) []Line {
		r := Seeded(seed)
		g := New(r, Table(r, 30))
		var ls []Line
		for range 300 {
			ls = append(ls, g.Line())
		}
		return ls
	}
	a, b, c := gen(7), gen(7), gen(8)
	if !reflect.DeepEqual(a, b) {
		t.Error("seed 7 gave two different sequences")
	}
	if reflect.DeepEqual(a, c) {
		t.Error("seeds 7 and 8 gave the same sequence")
	}
}

func TestTableTuplesDistinctAndAddressesDocumented(t *testing.T) {
	ok := allowedPrefixes()
	for seed := range uint64(20) {
		table := Table(Seeded(seed), 64)
		orig := map[string]bool{}
		for _, e := range table {
			key := strings.Join([]string{e.Proto, e.Src, e.Dst, string(rune(e.Sport)), string(rune(e.Dport))}, " ")
			if orig[key] {
				t.Fatalf("seed %d: two entries with the tuple %s", seed, key)
			}
			orig[key] = true
			if e.Args[0] != "-I" || !slices.Contains(e.Args, "-t") || !slices.Contains(e.Args, "-p") {
				t.Errorf("entry %q is not a complete -I line", Quote(e.Args))
			}
			for _, ad := range addressesIn(e.Args) {
				if !slices.ContainsFunc(ok, func(p netip.Prefix) bool { return p.Contains(ad) }) {
					t.Errorf("entry %q uses %s, outside the documentation ranges", Quote(e.Args), ad)
				}
			}
		}
	}
}

// TestLinesStayInDocumentationRanges checks every address of generated
// lines, triggers and files, except the deliberately bad or legacy ones
// conntrack must reject or read specially.
func TestLinesStayInDocumentationRanges(t *testing.T) {
	ok := allowedPrefixes()
	badOnPurpose := func(a netip.Addr) bool {
		// Bad-value cases: "1.2.3.4"-style words conntrack must reject
		// or parse without any entry having them.
		return slices.Contains([]string{"1.1.1.1", "1.2.3.4", "0.0.0.0", "255.255.255.255", "255.255.255.0",
			"255.255.0.0", "255.254.0.0", "::", "ffff::", "ffff:ffff:ffff::", "::ffff:198.18.0.1"}, a.String())
	}
	r := Seeded(3)
	g := New(r, Table(r, 40))
	for range 5000 {
		l := g.Line()
		words := slices.Clone(l.Args)
		for _, tr := range l.Triggers {
			words = append(words, tr...)
		}
		words = append(words, strings.Fields(l.File+" "+l.Stdin)...)
		for _, a := range addressesIn(words) {
			if !badOnPurpose(a) && !slices.ContainsFunc(ok, func(p netip.Prefix) bool { return p.Contains(a) }) {
				t.Errorf("line %q (file %q) uses %s", l, l.File, a)
			}
		}
	}
}

// TestCoverage checks that a run of the default length touches every
// command, table, output format and spelling the test is meant to.
func TestCoverage(t *testing.T) {
	r := Seeded(11)
	g := New(r, Table(r, 48))
	seen := map[string]bool{}
	for range 600 {
		l := g.Line()
		s := Summarize(l.Args)
		if s.Command != 0 {
			seen["cmd -"+string(s.Command)] = true
		}
		if s.Commands > 1 {
			seen["two commands"] = true
		}
		for _, tbl := range []string{"expect", "dying", "unconfirmed"} {
			if s.Table != "" && strings.HasPrefix(tbl, s.Table) && s.Table != "c" {
				seen["table "+tbl] = true
			}
		}
		for _, o := range s.Opts {
			seen["opt "+o.Key] = true
			if o.Key == "o" {
				for _, k := range strings.Split(o.Value, ",") {
					seen["format "+strings.ToLower(k)] = true
				}
			}
		}
		for _, a := range l.Args {
			switch {
			case strings.HasPrefix(a, "--") && len(a) > 2:
				name, _, _ := strings.Cut(a[2:], "=")
				full := slices.Contains(allLongNames(), name)
				if !full && slices.ContainsFunc(allLongNames(), func(n string) bool { return strings.HasPrefix(n, name) }) {
					seen["abbreviation"] = true
				}
				if full {
					seen["long form"] = true
				}
			case strings.HasPrefix(a, "-") && len(a) == 2:
				seen["short form"] = true
			}
		}
		if l.File != "" || l.Stdin != "" {
			seen["load file"] = true
		}
		if l.Events && len(l.Triggers) > 0 {
			seen["events with triggers"] = true
		}
		if slices.ContainsFunc(s.Opts, func(o Opt) bool { return o.Key == "?" }) {
			seen["unknown option"] = true
		}
	}
	var want []string
	for _, c := range "LGDIUAFCSERVh" {
		if c != 'R' { // -R is not a getopt command; see "load file"
			want = append(want, "cmd -"+string(c))
		}
	}
	want = append(want, "two commands", "table expect", "table dying", "table unconfirmed",
		"format xml", "format extended", "format save", "format id", "format ktimestamp", "format labels", "format timestamp",
		"opt s", "opt d", "opt r", "opt q", "opt p", "opt m", "opt u", "opt w", "opt orig-zone", "opt reply-zone",
		"opt n", "opt g", "opt j", "opt f", "opt l", "opt mask-src", "opt mask-dst", "opt sport", "opt dport", "opt state",
		"opt icmp-type", "opt srckey", "opt z", "opt e", "opt t", "opt i",
		"abbreviation", "long form", "short form", "load file", "events with triggers", "unknown option")
	for _, w := range want {
		if !seen[w] {
			t.Errorf("600 lines of seed 11 have no %s", w)
		}
	}
}

func TestAbbreviate(t *testing.T) {
	all := allLongNames()
	r := Seeded(1)
	for _, name := range all {
		for range 5 {
			a := abbreviate(r, name, all)
			if !strings.HasPrefix(name, a) {
				t.Fatalf("abbreviate(%q) = %q, not a prefix", name, a)
			}
			if a == name {
				continue
			}
			for _, o := range all {
				if o != name && strings.HasPrefix(o, a) {
					t.Errorf("abbreviate(%q) = %q, which also starts %q", name, a, o)
				}
			}
		}
	}
	if got := abbreviate(r, "src", all); got != "src" {
		t.Errorf(`abbreviate("src") = %q: "sr" is ambiguous (src-nat)`, got)
	}
}

func TestSummarize(t *testing.T) {
	for _, c := range []struct {
		args    []string
		cmd     byte
		table   string
		opts    []Opt
		nCmds   int
		comment string
	}{
		{[]string{"-L", "expect", "-o", "xml"}, 'L', "expect", []Opt{{"o", "xml"}}, 1, "table word"},
		{[]string{"--dum", "-sfoo", "--orig-d=1.2.3.4", "--dst", "x"}, 'L', "", []Opt{{"s", "foo"}, {"d", "1.2.3.4"}, {"d", "x"}}, 1, "abbreviations"},
		{[]string{"-D", "-u", "!ASSURED", "-n", "-g1.2.3.4"}, 'D', "", []Opt{{"u", "!ASSURED"}, {"n", ""}, {"g", "1.2.3.4"}}, 1, "optional arguments"},
		{[]string{"-F", "-L"}, 'F', "", nil, 2, "two commands"},
		{[]string{"-L", "--s", "-p", "tcp", "--dp", "22"}, 'L', "", []Opt{{"?", "--s"}, {"p", "tcp"}, {"dport", "22"}}, 1, "ambiguous, proto"},
		{[]string{"-Lz"}, 'L', "", nil, 1, "attached argument of a command"},
	} {
		s := Summarize(c.args)
		if s.Command != c.cmd || s.Table != c.table || !reflect.DeepEqual(s.Opts, c.opts) || s.Commands != c.nCmds {
			t.Errorf("%s: Summarize(%q) = %+v", c.comment, c.args, s)
		}
	}
}

func TestQuote(t *testing.T) {
	if got := Quote([]string{"-u", "!ASSURED", "", "a b", "it's"}); got != `-u '!ASSURED' '' 'a b' 'it'\''s'` {
		t.Errorf("Quote = %s", got)
	}
}
