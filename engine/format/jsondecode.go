package format

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"ctq/engine"
)

// knownStrings interns the family, protocol and state names DecodeJSON
// meets on every line, so that decoding them does not allocate.
var knownStrings = func() map[string]string {
	m := map[string]string{"ipv4": "ipv4", "ipv6": "ipv6", "unknown": "unknown", "LISTEN": "LISTEN"}
	for _, list := range [][]string{engine.ProtoNames, engine.TCPStates, engine.SCTPStates, engine.DCCPStates} {
		for _, s := range list {
			m[s] = s
		}
	}
	return m
}()

func intern(b []byte) string {
	if s, ok := knownStrings[string(b)]; ok {
		return s
	}
	return string(b)
}

// jsonDecoder holds what DecodeJSON collects while it reads one object.
type jsonDecoder struct {
	p         jsonParser
	f         *engine.Flow
	labels    engine.Labels // from "labels" numbers
	labelName bool          // "labels" held a name
	labelBits bool          // "label_bits" was present
	bits      engine.Labels // from "label_bits"
	stateNum  bool          // "state_num" was present
	saw       sawKeys       // which of the keys the entry needs were present
}

// sawKeys records the keys present that finish checks against each other.
type sawKeys uint8

const (
	sawFamily sawKeys = 1 << iota
	sawProto
	sawProtonum
)

// DecodeJSON decodes one line written by the json format back into f (f is
// reset first), so a saved `ctq -o json` table can be queried again. The
// Has bits are set from the keys present; a null value counts as absent.
// Unknown keys are ignored.
func DecodeJSON(line []byte, f *engine.Flow) error {
	f.Reset()
	d := jsonDecoder{p: jsonParser{data: line}, f: f}
	if err := d.object(); err != nil {
		f.Reset()
		return fmt.Errorf("decode json flow: %w", err)
	}
	return nil
}

// object reads the whole line.
func (d *jsonDecoder) object() error {
	p := &d.p
	if err := p.expect('{'); err != nil {
		return err
	}
	if p.peek() == '}' {
		p.pos++
	} else {
		for {
			key, err := p.str()
			if err != nil {
				return err
			}
			if p.escaped {
				// The value may reuse the scratch buffer behind key.
				key = append([]byte(nil), key...)
			}
			if err := p.expect(':'); err != nil {
				return err
			}
			if !p.literal("null") {
				if err := d.value(key); err != nil {
					return fmt.Errorf("%s: %w", key, err)
				}
			}
			if p.peek() == ',' {
				p.pos++
				continue
			}
			if err := p.expect('}'); err != nil {
				return err
			}
			break
		}
	}
	if err := p.end(); err != nil {
		return err
	}
	return d.finish()
}

// finish settles what depends on several keys: the family and protocol
// (see entry), the state number (from the name, unless state_num gave it)
// and the labels.
func (d *jsonDecoder) finish() error {
	if err := d.entry(); err != nil {
		return err
	}
	if f := d.f; f.Has&engine.HasState != 0 && !d.stateNum {
		f.StateNum, _ = engine.StateNum(f.ProtoNum, f.State)
	}
	switch {
	case d.labelBits:
		d.f.Labels = d.bits
	case d.labelName:
		return fmt.Errorf("labels: a label name needs label_bits beside it")
	default:
		d.f.Labels = d.labels
	}
	return nil
}

// value reads the value of key into the flow.
func (d *jsonDecoder) value(key []byte) error {
	f := d.f
	switch string(key) {
	case "family":
		d.saw |= sawFamily
		return d.str(&f.Family, 0)
	case "proto":
		d.saw |= sawProto
		return d.str(&f.Proto, 0)
	case "protonum":
		d.saw |= sawProtonum
		return d.int(&f.ProtoNum, 0, math.MaxUint8)
	case "src":
		return d.addr(&f.Src, 0)
	case "dst":
		return d.addr(&f.Dst, 0)
	case "sport":
		return d.int(&f.Sport, 0, math.MaxUint16)
	case "dport":
		return d.int(&f.Dport, 0, math.MaxUint16)
	case "icmp_type":
		return d.int(&f.ICMPType, 0, math.MaxUint8)
	case "icmp_code":
		return d.int(&f.ICMPCode, 0, math.MaxUint8)
	case "icmp_id":
		return d.int(&f.ICMPID, 0, math.MaxUint16)
	case "reply_src":
		return d.addr(&f.ReplySrc, engine.HasReply)
	case "reply_dst":
		return d.addr(&f.ReplyDst, engine.HasReply)
	case "reply_sport":
		return d.int(&f.ReplySport, 0, math.MaxUint16)
	case "reply_dport":
		return d.int(&f.ReplyDport, 0, math.MaxUint16)
	case "reply_icmp_type":
		return d.int(&f.ReplyICMPType, 0, math.MaxUint8)
	case "reply_icmp_code":
		return d.int(&f.ReplyICMPCode, 0, math.MaxUint8)
	case "reply_icmp_id":
		return d.int(&f.ReplyICMPID, 0, math.MaxUint16)
	case "state":
		return d.str(&f.State, engine.HasState)
	case "state_num":
		d.stateNum = true
		return d.int(&f.StateNum, 0, math.MaxUint8)
	case "status":
		return d.status()
	case "mark":
		return d.int(&f.Mark, engine.HasMark, math.MaxUint32)
	case "secmark":
		return d.int(&f.Secmark, engine.HasSecmark, math.MaxUint32)
	case "zone":
		return d.int(&f.Zone, engine.HasZone, math.MaxUint16)
	case "orig_zone":
		return d.int(&f.OrigZone, engine.HasOrigZone, math.MaxUint16)
	case "reply_zone":
		return d.int(&f.ReplyZone, engine.HasReplyZone, math.MaxUint16)
	case "timeout":
		return d.int(&f.Timeout, engine.HasTimeout, math.MaxUint32)
	case "id":
		return d.int(&f.ID, engine.HasID, math.MaxUint32)
	case "use":
		return d.int(&f.Use, engine.HasUse, math.MaxUint32)
	case "labels":
		return d.labelList()
	case "label_bits":
		return d.labelBitList()
	case "helper":
		return d.str(&f.Helper, engine.HasHelper)
	case "secctx":
		return d.str(&f.Secctx, engine.HasSecctx)
	case "packets":
		return d.int(&f.Packets, engine.HasCounters, math.MaxInt64)
	case "bytes":
		return d.int(&f.Bytes, engine.HasCounters, math.MaxInt64)
	case "orig_packets":
		return d.int(&f.OrigPackets, engine.HasCounters, math.MaxInt64)
	case "orig_bytes":
		return d.int(&f.OrigBytes, engine.HasCounters, math.MaxInt64)
	case "reply_packets":
		return d.int(&f.ReplyPackets, engine.HasCounters, math.MaxInt64)
	case "reply_bytes":
		return d.int(&f.ReplyBytes, engine.HasCounters, math.MaxInt64)
	case "start":
		return d.time(&f.Start, engine.HasStart)
	case "stop":
		return d.time(&f.Stop, engine.HasStop)
	case "age":
		b, err := d.p.number()
		if err != nil {
			return err
		}
		f.Age, err = parseSeconds(string(b))
		return err
	case "orig_vtag":
		return d.int(&f.OrigVtag, engine.HasVtags, math.MaxUint32)
	case "reply_vtag":
		return d.int(&f.ReplyVtag, engine.HasVtags, math.MaxUint32)
	case "role":
		return d.role()
	}
	return d.p.skip(0)
}

func (d *jsonDecoder) str(dst *string, bit engine.Attr) error {
	b, err := d.p.str()
	if err != nil {
		return err
	}
	*dst = intern(b)
	d.f.Has |= bit
	return nil
}

// int reads a number in 0..max, the range of the kernel's attribute.
func (d *jsonDecoder) int(dst *int, bit engine.Attr, max uint64) error {
	n, err := d.p.integer()
	if err != nil {
		return err
	}
	if n < 0 || uint64(n) > max {
		return fmt.Errorf("%d out of range 0..%d", n, max)
	}
	*dst = n
	d.f.Has |= bit
	return nil
}

// addr reads an address; "" is the missing address.
func (d *jsonDecoder) addr(dst *netip.Addr, bit engine.Attr) error {
	b, err := d.p.str()
	if err != nil {
		return err
	}
	*dst = netip.Addr{}
	if len(b) > 0 {
		if *dst, err = netip.ParseAddr(string(b)); err != nil {
			return err
		}
		if dst.Zone() != "" {
			return fmt.Errorf("address %q has a zone", b)
		}
	}
	d.f.Has |= bit
	return nil
}

// time reads an RFC 3339 time that the json format can write back.
func (d *jsonDecoder) time(dst *time.Time, bit engine.Attr) error {
	b, err := d.p.str()
	if err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return err
	}
	if y := t.UTC().Year(); y < 0 || y > 9999 {
		return fmt.Errorf("year %d out of range", y)
	}
	*dst = t
	d.f.Has |= bit
	return nil
}

func (d *jsonDecoder) status() error {
	var s engine.Status
	err := d.p.array(func() error {
		b, err := d.p.str()
		if err != nil {
			return err
		}
		bit, err := statusBit(b)
		s |= bit
		return err
	})
	if err != nil {
		return err
	}
	d.f.SetStatus(s)
	return nil
}

// labelList reads "labels": bit numbers, or names (which need label_bits).
func (d *jsonDecoder) labelList() error {
	d.f.Has |= engine.HasLabels
	return d.p.array(func() error {
		if d.p.peek() == '"' {
			_, err := d.p.str()
			d.labelName = true
			return err
		}
		n, err := d.labelBit()
		d.labels.Set(n)
		return err
	})
}

func (d *jsonDecoder) labelBitList() error {
	d.f.Has |= engine.HasLabels
	d.labelBits = true
	return d.p.array(func() error {
		n, err := d.labelBit()
		d.bits.Set(n)
		return err
	})
}

func (d *jsonDecoder) labelBit() (int, error) {
	n, err := d.p.integer()
	if err != nil {
		return 0, err
	}
	if n < 0 || n > 127 {
		return 0, fmt.Errorf("label bit %d out of range 0..127", n)
	}
	return n, nil
}

// role reads the DCCP role: "client", "server" or a number.
func (d *jsonDecoder) role() error {
	if d.p.peek() != '"' {
		return d.int(&d.f.DCCPRole, engine.HasRole, math.MaxUint8)
	}
	b, err := d.p.str()
	if err != nil {
		return err
	}
	for i, r := range dccpRoles {
		if r == string(b) {
			d.f.DCCPRole = i
			d.f.Has |= engine.HasRole
			return nil
		}
	}
	return fmt.Errorf("unknown DCCP role %q", b)
}

// statusBit maps a status name, or "BITn" for a bit without a name, to its
// bit.
func statusBit(name []byte) (engine.Status, error) {
	if b, ok := engine.StatusBit(string(name)); ok {
		return b, nil
	}
	return unnamedStatusBit(string(name))
}

// unnamedStatusBit parses "BITn", n in 0..31.
func unnamedStatusBit(name string) (engine.Status, error) {
	if rest, ok := strings.CutPrefix(name, "BIT"); ok {
		if n, err := strconv.Atoi(rest); err == nil && n >= 0 && n < 32 {
			return engine.Status(1) << n, nil
		}
	}
	return 0, fmt.Errorf("unknown status flag %q", name)
}

// parseSeconds parses a JSON number of seconds into a Duration, exactly for
// plain decimals (up to nanoseconds; further digits are dropped).
func parseSeconds(s string) (time.Duration, error) {
	if strings.ContainsAny(s, "eE") {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return 0, err
		}
		ns := v * float64(time.Second)
		if math.IsNaN(ns) || ns >= math.MaxInt64 || ns < math.MinInt64 {
			return 0, fmt.Errorf("%s seconds out of range", s)
		}
		return time.Duration(ns), nil
	}
	neg := strings.HasPrefix(s, "-")
	intPart, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
	sec, err := strconv.ParseUint(intPart, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	if len(frac) > 9 {
		frac = frac[:9]
	}
	var ns uint64
	for i := 0; i < 9; i++ {
		ns *= 10
		if i < len(frac) {
			c := frac[i]
			if c < '0' || c > '9' {
				return 0, fmt.Errorf("bad number %q", s)
			}
			ns += uint64(c - '0')
		}
	}
	limit := uint64(math.MaxInt64)
	if neg {
		limit++
	}
	if sec > limit/uint64(time.Second) || sec*uint64(time.Second) > limit-ns {
		return 0, fmt.Errorf("%s seconds out of range", s)
	}
	total := sec*uint64(time.Second) + ns
	if neg {
		return time.Duration(-total), nil
	}
	return time.Duration(total), nil
}

// entry checks that the object describes an entry, as the text and save
// readers do: the family, given or from the addresses, is ipv4 or ipv6
// and agrees with every address; the protocol is given by name or number
// (the other is derived) and both agree when both are given.
func (d *jsonDecoder) entry() error {
	f := d.f
	// The json format writes "" for a missing family or protocol name.
	if f.Family == "" {
		d.saw &^= sawFamily
	}
	if f.Proto == "" {
		d.saw &^= sawProto
	}
	fam := engine.FamilyUnspec
	if d.saw&sawFamily != 0 {
		if fam = engine.FamilyNum(f.Family); fam == engine.FamilyUnspec {
			return fmt.Errorf("family: unknown family %q (ipv4 or ipv6)", f.Family)
		}
	}
	for _, a := range []struct {
		key  string
		addr netip.Addr
	}{{"src", f.Src}, {"dst", f.Dst}, {"reply_src", f.ReplySrc}, {"reply_dst", f.ReplyDst}} {
		if !a.addr.IsValid() {
			continue
		}
		af := engine.FamilyIPv6
		if a.addr.Is4() {
			af = engine.FamilyIPv4
		}
		if fam != engine.FamilyUnspec && af != fam {
			return fmt.Errorf("%s: %s is not an %s address", a.key, a.addr, engine.FamilyName(fam))
		}
		fam = af
	}
	if fam == engine.FamilyUnspec {
		return errors.New("family: missing (an entry needs family or its addresses)")
	}
	f.SetFamily(fam)
	switch d.saw & (sawProto | sawProtonum) {
	case 0:
		return errors.New("proto: missing (an entry needs proto or protonum)")
	case sawProtonum:
		f.SetProto(f.ProtoNum)
	case sawProto:
		n, ok := engine.ProtoNum(f.Proto)
		if !ok {
			return fmt.Errorf("proto: %q needs protonum beside it", f.Proto)
		}
		f.SetProto(n)
	default:
		if n, ok := engine.ProtoNum(f.Proto); ok && n != f.ProtoNum || !ok && (f.Proto != "unknown" || engine.ProtoName(f.ProtoNum) != "unknown") {
			return fmt.Errorf("proto: %q does not agree with protonum %d", f.Proto, f.ProtoNum)
		}
		f.SetProto(f.ProtoNum)
	}
	return nil
}
