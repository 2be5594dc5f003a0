package snapshot

import (
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"ctq/engine"
)

// word is one space-separated word of a text line.
type word struct {
	text string
	col  int
}

// splitText splits a text line at blanks; a word starting with "[start="
// or "[stop=" runs to its closing bracket (ctime dates hold spaces).
func splitText(line string) ([]word, error) {
	var ws []word
	for i := 0; i < len(line); {
		if line[i] == ' ' || line[i] == '\t' {
			i++
			continue
		}
		start := i
		if strings.HasPrefix(line[i:], "[start=") || strings.HasPrefix(line[i:], "[stop=") {
			end := strings.IndexByte(line[i:], ']')
			if end < 0 {
				return nil, &posError{start + 1, "missing `]' after the time"}
			}
			i += end + 1
		} else {
			for i < len(line) && line[i] != ' ' && line[i] != '\t' {
				i++
			}
		}
		ws = append(ws, word{line[start:i], start + 1})
	}
	return ws, nil
}

// textParser decodes one conntrack text line (conntrack-cli.md §4.1):
//
//	[L3NAME L3NUM] L4NAME L4NUM [TIMEOUT] [STATE]
//	src= dst= [L4] [zone-orig=] [packets= bytes=] [[UNREPLIED]]
//	src= dst= [L4] [zone-reply=] [packets= bytes=]
//	[[ASSURED]|[OFFLOAD]|[HW_OFFLOAD]] [mark=] [secmark=] [secctx=] [zone=]
//	[delta-time=] [[start=CTIME]] [[stop=CTIME]] [helper=] [use=] [id=] [labels=a,b]
//
// The trailing attributes may come in any order, each at most once.
type textParser struct {
	ws       []word
	i        int
	f        *engine.Flow
	fam      int
	labelBit func(string) (int, error)
}

// decodeText decodes a text or extended line into f; now is the time that
// delta-time= counts back from.
func decodeText(line string, f *engine.Flow, now time.Time, labelBit func(string) (int, error)) error {
	ws, err := splitText(line)
	if err != nil {
		return err
	}
	f.Reset()
	p := &textParser{ws: ws, f: f, labelBit: labelBit}
	if err := p.parse(now); err != nil {
		f.Reset()
		return err
	}
	return nil
}

// errorf builds a *posError at a word.
func errorf(w word, format string, args ...any) error {
	return &posError{w.col, fmt.Sprintf(format, args...)}
}

// next returns the next word; at the end of the line it fails with what
// was expected.
func (p *textParser) next(what string) (word, error) {
	if p.i >= len(p.ws) {
		end := 1
		if n := len(p.ws); n > 0 {
			end = p.ws[n-1].col + len(p.ws[n-1].text)
		}
		return word{}, &posError{end, "line ends before " + what}
	}
	p.i++
	return p.ws[p.i-1], nil
}

// peek returns the next word's text, "" at the end.
func (p *textParser) peek() string {
	if p.i >= len(p.ws) {
		return ""
	}
	return p.ws[p.i].text
}

// number parses a decimal number 0..max.
func number(w word, s string, max uint64, what string) (int, error) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, errorf(w, "invalid %s `%s'", what, s)
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		return 0, errorf(w, "invalid %s `%s'", what, s)
	}
	return int(v), nil
}

// keyValue reads the next word as key=VALUE with the given key.
func (p *textParser) keyValue(key string) (word, string, error) {
	w, err := p.next("`" + key + "='")
	if err != nil {
		return w, "", err
	}
	v, ok := strings.CutPrefix(w.text, key+"=")
	if !ok {
		return w, "", errorf(w, "expected `%s=', found `%s'", key, w.text)
	}
	return w, v, nil
}

// keyNumber reads key=N with N in 0..max.
func (p *textParser) keyNumber(key string, max uint64) (int, error) {
	w, v, err := p.keyValue(key)
	if err != nil {
		return 0, err
	}
	return number(w, v, max, key)
}

func (p *textParser) parse(now time.Time) error {
	f := p.f
	if len(p.ws) == 0 {
		return &posError{1, "empty line"}
	}
	if err := p.layer3(); err != nil {
		return err
	}
	if err := p.layer4(); err != nil {
		return err
	}
	if t := p.peek(); t != "" && strings.TrimLeft(t, "0123456789") == "" {
		w, _ := p.next("")
		v, err := number(w, t, math.MaxUint32, "timeout")
		if err != nil {
			return err
		}
		f.Timeout = v
		f.Has |= engine.HasTimeout
	}
	if t := p.peek(); t != "" && !strings.ContainsRune(t, '=') && t[0] != '[' {
		w, _ := p.next("")
		if engine.StateTable(f.ProtoNum) == nil {
			return errorf(w, "protocol %s has no state, found `%s'", f.Proto, t)
		}
		n, ok := engine.StateNum(f.ProtoNum, t)
		if !ok {
			return errorf(w, "unknown %s state `%s'", strings.ToUpper(f.Proto), t)
		}
		f.SetState(n)
	}
	if err := p.tuple(false); err != nil {
		return err
	}
	status := engine.StatusConfirmed | engine.StatusSeenReply
	if p.peek() == "[UNREPLIED]" {
		p.i++
		status &^= engine.StatusSeenReply
	}
	if err := p.tuple(true); err != nil {
		return err
	}
	f.Has |= engine.HasReply
	if p.fam != 0 {
		f.SetFamily(p.fam)
	}
	t := trailer{status: status}
	for p.i < len(p.ws) {
		w, _ := p.next("")
		if err := p.attribute(w, &t); err != nil {
			return err
		}
	}
	f.SetStatus(t.status)
	deriveNAT(f)
	switch {
	case t.start.IsZero() && t.hasDelta:
		f.SetStart(now.Add(-t.delta), now)
	case !t.start.IsZero():
		f.SetStart(t.start, now)
		if t.hasDelta {
			f.Age = t.delta
		}
	}
	return nil
}

// layer3 reads the optional "ipv4     2" of the extended format.
func (p *textParser) layer3() error {
	first := p.ws[0].text
	if first != "ipv4" && first != "ipv6" && !(first == "unknown" && len(p.ws) > 2 && isProtoName(p.ws[2].text)) {
		return nil
	}
	name, _ := p.next("")
	w, err := p.next("the address family number")
	if err != nil {
		return err
	}
	num, err := number(w, w.text, math.MaxUint8, "address family number")
	if err != nil {
		return err
	}
	if engine.FamilyName(num) != name.text {
		return errorf(w, "address family %d is not %s", num, name.text)
	}
	if name.text == "unknown" {
		return errorf(name, "address family %d is not supported", num)
	}
	p.fam = num
	return nil
}

// isProtoName reports whether s is a protocol name conntrack prints.
func isProtoName(s string) bool {
	if s == "unknown" {
		return true
	}
	_, ok := engine.ProtoNum(s)
	return ok && s == strings.ToLower(s)
}

// layer4 reads "tcp      6".
func (p *textParser) layer4() error {
	name, err := p.next("the protocol")
	if err != nil {
		return err
	}
	if !isProtoName(name.text) {
		return errorf(name, "unknown protocol `%s'", name.text)
	}
	w, err := p.next("the protocol number")
	if err != nil {
		return err
	}
	num, err := number(w, w.text, math.MaxUint8, "protocol number")
	if err != nil {
		return err
	}
	if engine.ProtoName(num) != name.text {
		return errorf(w, "protocol number %d is not %s", num, name.text)
	}
	p.f.SetProto(num)
	return nil
}

// tuple reads one direction: src= dst= [L4] [zone-DIR=] [packets= bytes=].
func (p *textParser) tuple(reply bool) error {
	f := p.f
	src, dst, sport, dport := &f.Src, &f.Dst, &f.Sport, &f.Dport
	typ, code, id := &f.ICMPType, &f.ICMPCode, &f.ICMPID
	zoneKey, zone, zoneBit := "zone-orig", &f.OrigZone, engine.HasOrigZone
	if reply {
		src, dst, sport, dport = &f.ReplySrc, &f.ReplyDst, &f.ReplySport, &f.ReplyDport
		typ, code, id = &f.ReplyICMPType, &f.ReplyICMPCode, &f.ReplyICMPID
		zoneKey, zone, zoneBit = "zone-reply", &f.ReplyZone, engine.HasReplyZone
	}
	for _, a := range []struct {
		key string
		dst *netip.Addr
	}{{"src", src}, {"dst", dst}} {
		w, v, err := p.keyValue(a.key)
		if err != nil {
			return err
		}
		ip, err := netip.ParseAddr(v)
		if err != nil || ip.Zone() != "" {
			return errorf(w, "invalid IP address `%s'", v)
		}
		fam := engine.FamilyIPv6
		if ip.Is4() {
			fam = engine.FamilyIPv4
		}
		if p.fam != 0 && p.fam != fam {
			return errorf(w, "mismatched address family")
		}
		p.fam, *a.dst = fam, ip
	}
	var err error
	switch pn := f.ProtoNum; {
	case pn == engine.ProtoGRE:
		if *sport, err = p.greKey("srckey"); err != nil {
			return err
		}
		if *dport, err = p.greKey("dstkey"); err != nil {
			return err
		}
	case engine.HasPorts(pn):
		if *sport, err = p.keyNumber("sport", math.MaxUint16); err != nil {
			return err
		}
		if *dport, err = p.keyNumber("dport", math.MaxUint16); err != nil {
			return err
		}
	case pn == engine.ProtoICMP || pn == engine.ProtoICMPv6:
		if *typ, err = p.keyNumber("type", math.MaxUint8); err != nil {
			return err
		}
		if *code, err = p.keyNumber("code", math.MaxUint8); err != nil {
			return err
		}
		if *id, err = p.keyNumber("id", math.MaxUint16); err != nil {
			return err
		}
	}
	if strings.HasPrefix(p.peek(), zoneKey+"=") {
		if *zone, err = p.keyNumber(zoneKey, math.MaxUint16); err != nil {
			return err
		}
		f.Has |= zoneBit
	}
	if !strings.HasPrefix(p.peek(), "packets=") {
		return nil
	}
	packets, err := p.keyNumber("packets", math.MaxInt64)
	if err != nil {
		return err
	}
	bytes, err := p.keyNumber("bytes", math.MaxInt64)
	if err != nil {
		return err
	}
	if reply {
		f.SetCounters(f.OrigPackets, f.OrigBytes, packets, bytes)
	} else {
		f.SetCounters(packets, bytes, 0, 0)
	}
	return nil
}

// greKey reads a GRE key, which conntrack prints as 0x%x.
func (p *textParser) greKey(key string) (int, error) {
	w, v, err := p.keyValue(key)
	if err != nil {
		return 0, err
	}
	hex, ok := strings.CutPrefix(v, "0x")
	if !ok || hex == "" || strings.ContainsAny(hex, "+-_") {
		return 0, errorf(w, "invalid %s `%s'", key, v)
	}
	n, err := strconv.ParseUint(hex, 16, 16)
	if err != nil {
		return 0, errorf(w, "invalid %s `%s'", key, v)
	}
	return int(n), nil
}

// trailer collects the attributes after the tuples.
type trailer struct {
	status   engine.Status
	seen     map[string]bool
	start    time.Time
	delta    time.Duration
	hasDelta bool
}

// ctimeLayout is ctime(3)'s format, which conntrack's -o ktimestamp uses.
const ctimeLayout = "Mon Jan _2 15:04:05 2006"

// attribute reads one trailing attribute.
func (p *textParser) attribute(w word, t *trailer) error {
	f := p.f
	key, val, isKV := strings.Cut(w.text, "=")
	if strings.HasPrefix(w.text, "[") {
		key, val, isKV = w.text, "", false
		if k, v, ok := strings.Cut(w.text, "="); ok {
			key, val = k+"=", strings.TrimSuffix(v, "]")
		}
	}
	dupKey := key
	if key == "[ASSURED]" || key == "[OFFLOAD]" || key == "[HW_OFFLOAD]" {
		dupKey = "flag"
	}
	if t.seen[dupKey] {
		return errorf(w, "`%s' given twice", w.text)
	}
	if t.seen == nil {
		t.seen = map[string]bool{}
	}
	t.seen[dupKey] = true
	var err error
	switch {
	case key == "[ASSURED]":
		t.status |= engine.StatusAssured
	case key == "[OFFLOAD]":
		t.status |= engine.StatusOffload
	case key == "[HW_OFFLOAD]":
		t.status |= engine.StatusHWOffload
	case key == "[start=" || key == "[stop=":
		tm, perr := time.ParseInLocation(ctimeLayout, val, time.Local)
		if perr != nil {
			return errorf(w, "invalid time `%s' (want ctime format, like `Sun Nov 22 23:25:33 2026')", val)
		}
		if key == "[start=" {
			t.start = tm
		} else {
			f.Stop = tm
			f.Has |= engine.HasStop
		}
	case key == "labels" && !isKV:
		// conntrack prints a bare "labels" when no set bit has a name:
		// the bits are lost.
	case !isKV:
		return errorf(w, "unexpected `%s'", w.text)
	case key == "mark":
		f.Mark, err = number(w, val, math.MaxUint32, key)
		f.Has |= engine.HasMark
	case key == "secmark":
		f.Secmark, err = number(w, val, math.MaxUint32, key)
		f.Has |= engine.HasSecmark
	case key == "zone":
		f.Zone, err = number(w, val, math.MaxUint16, key)
		f.Has |= engine.HasZone
	case key == "use":
		f.Use, err = number(w, val, math.MaxUint32, key)
		f.Has |= engine.HasUse
	case key == "id":
		f.ID, err = number(w, val, math.MaxUint32, key)
		f.Has |= engine.HasID
	case key == "delta-time":
		var d int
		d, err = number(w, val, math.MaxUint32, key)
		t.delta, t.hasDelta = time.Duration(d)*time.Second, true
	case key == "helper" || key == "secctx":
		if val == "" {
			return errorf(w, "empty `%s='", key)
		}
		if key == "helper" {
			f.Helper = val
			f.Has |= engine.HasHelper
		} else {
			f.Secctx = val
			f.Has |= engine.HasSecctx
		}
	case key == "labels":
		err = p.labels(w, val)
	default:
		return errorf(w, "unexpected `%s'", w.text)
	}
	return err
}

// labels reads labels=a,b.
func (p *textParser) labels(w word, val string) error {
	for _, name := range strings.Split(val, ",") {
		if name == "" {
			return errorf(w, "empty label name in `%s'", w.text)
		}
		bit, err := p.labelBit(name)
		if err != nil {
			return errorf(w, "%v", err)
		}
		p.f.Labels.Set(bit)
	}
	p.f.Has |= engine.HasLabels
	return nil
}
