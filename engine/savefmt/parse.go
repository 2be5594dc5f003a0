package savefmt

import (
	"fmt"
	"math"
	"math/bits"
	"strings"

	"ctq/engine"
)

// parser holds the state of one Parse call.
type parser struct {
	toks []Token
	i    int
	l    Line
	// seen records the options given, by optID.
	seen [64]bool
	// cols and names record, per Fields bit, the column and spelling of the
	// option that set it.
	cols  [64]int
	names [64]string
	// have is the set of tuple fields known, given directly or through
	// -n/-g (which set the reply addresses and ports).
	have     Fields
	cmdCol   int
	fam      int
	proto    int
	protoCol int
	hasProto bool
	// natPort is the port of -n/-g ADDR:PORT (-1 without), natCol its
	// column, natField the reply port field it sets.
	natPort  int
	natCol   int
	natField Fields
}

// Parse parses one line (without its newline). Errors are *Error values
// with the 1-based column of the offending word. A trailing
// " [USERSPACE] portid=N[ progname=NAME]", which conntrack -E -o save
// appends to events caused by a program, is accepted and ignored.
func Parse(line string) (Line, error) {
	toks, err := Tokenize(line)
	if err != nil {
		return Line{}, err
	}
	p := &parser{toks: toks, natPort: -1}
	p.l.MarkMask = math.MaxUint32
	if err := p.parse(); err != nil {
		return Line{}, err
	}
	return p.l, nil
}

// errAt builds an *Error at column col.
func errAt(col int, format string, args ...any) *Error {
	return &Error{Col: col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) parse() error {
	for p.i < len(p.toks) {
		t := p.toks[p.i]
		p.i++
		if t.Text == "[USERSPACE]" && t.Verbatim {
			if err := p.userspace(t); err != nil {
				return err
			}
			break
		}
		if len(t.Text) < 2 || t.Text[0] != '-' || t.Text == "--" {
			return errAt(t.Col, "unexpected argument `%s'", t.Text)
		}
		if err := p.option(t); err != nil {
			return err
		}
	}
	return p.finish()
}

// userspace checks the event suffix "[USERSPACE] portid=N[ progname=...]";
// everything after progname= is the program name.
func (p *parser) userspace(t Token) error {
	if p.i >= len(p.toks) {
		return errAt(t.Col, "`[USERSPACE]' without portid=")
	}
	pt := p.toks[p.i]
	id, ok := strings.CutPrefix(pt.Text, "portid=")
	if _, err := parseDec(id, math.MaxUint32); !ok || err != nil {
		return errAt(pt.Col, "invalid `%s' after [USERSPACE]", pt.Text)
	}
	if p.i+1 < len(p.toks) && !strings.HasPrefix(p.toks[p.i+1].Text, "progname=") {
		return errAt(p.toks[p.i+1].Col, "unexpected argument `%s'", p.toks[p.i+1].Text)
	}
	return nil
}

// value is an option's argument.
type value struct {
	text string
	// col is the column of text's first byte; verbatim says whether the
	// following bytes are at the following columns (see Token.Verbatim).
	col      int
	verbatim bool
	given    bool
}

// colAt is the column of byte off of the value, or of the value itself
// when quoting makes byte positions unknown.
func (v value) colAt(off int) int {
	if v.verbatim {
		return v.col + off
	}
	return v.col
}

// option handles one option word and its value.
func (p *parser) option(t Token) error {
	def, name, val, err := p.lookup(t)
	if err != nil {
		return err
	}
	switch def.arg {
	case argNone:
		if val.given {
			return errAt(t.Col, "option `%s' doesn't allow an argument", name)
		}
	case argRequired:
		if !val.given {
			if p.i >= len(p.toks) {
				return errAt(t.Col, "option `%s' requires an argument", name)
			}
			v := p.toks[p.i]
			p.i++
			val = value{text: v.Text, col: v.Col, verbatim: v.Verbatim, given: true}
		}
	case argOptional:
		if !val.given && p.i < len(p.toks) {
			v := p.toks[p.i]
			if v.Text == "" || (v.Text[0] != '-' && v.Text[0] != '!' && v.Text != "[USERSPACE]") {
				p.i++
				val = value{text: v.Text, col: v.Col, verbatim: v.Verbatim, given: true}
			}
		}
	}
	return p.apply(def, name, t.Col, val)
}

// lookup finds the option a word names: a short option with an optional
// attached value, or a long option (exact name or unique prefix among the
// options that exist at this point) with an optional =value.
func (p *parser) lookup(t Token) (def *optDef, name string, val value, err error) {
	attached := func(text string, off int) value {
		v := value{text: text, col: t.Col, verbatim: t.Verbatim, given: true}
		v.col = v.colAt(off)
		return v
	}
	if t.Text[1] != '-' {
		name = t.Text[:2]
		for i := range genericOpts {
			if genericOpts[i].short == t.Text[1] {
				def = &genericOpts[i]
			}
		}
		if def == nil {
			return nil, name, val, errAt(t.Col, "unknown option `%s'", name)
		}
		if len(t.Text) > 2 {
			val = attached(t.Text[2:], 2)
		}
		return def, name, val, nil
	}
	long, v, hasVal := strings.Cut(t.Text[2:], "=")
	name = "--" + long
	if hasVal {
		val = attached(v, 3+len(long))
	}
	cands := [][]optDef{genericOpts}
	if p.hasProto {
		cands = append(cands, protoOpts(p.proto))
	}
	def, err = matchLong(cands, long, t.Col, name)
	if err != nil {
		return nil, name, val, err
	}
	if def == nil {
		return nil, name, val, p.unknownLong(long, t.Col, name)
	}
	return def, name, val, nil
}

// matchLong resolves a long option name: an exact name wins, otherwise it
// must be the prefix of exactly one option's names. It returns nil, nil
// when nothing matches.
func matchLong(sets [][]optDef, long string, col int, name string) (*optDef, error) {
	if long == "" {
		return nil, nil
	}
	var found []*optDef
	var spelled []string
	for _, set := range sets {
		for i := range set {
			for _, n := range set[i].long {
				if n == long {
					return &set[i], nil
				}
			}
		}
	}
	for _, set := range sets {
		for i := range set {
			for _, n := range set[i].long {
				if strings.HasPrefix(n, long) {
					found = append(found, &set[i])
					spelled = append(spelled, "--"+n)
					break
				}
			}
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
		return found[0], nil
	}
	return nil, errAt(col, "option `%s' is ambiguous (%s)", name, strings.Join(spelled, ", "))
}

// unknownLong explains an unknown long option, noting protocol options
// used without -p or with another protocol.
func (p *parser) unknownLong(long string, col int, name string) error {
	if d, _ := matchLong(allProtoOpts, long, col, name); d != nil {
		if !p.hasProto {
			return errAt(col, "unknown option `%s' (protocol options need -p PROTO before them)", name)
		}
		return errAt(col, "unknown option `%s' (not an option of protocol %s)", name, protoLabel(p.proto))
	}
	return errAt(col, "unknown option `%s'", name)
}

// protoLabel names a protocol for messages.
func protoLabel(proto int) string {
	if n := engine.ProtoName(proto); n != "unknown" {
		return n
	}
	return fmt.Sprint(proto)
}

// fieldIndex is the bit number of a single-bit Fields value.
func fieldIndex(f Fields) int {
	return bits.TrailingZeros64(uint64(f))
}
