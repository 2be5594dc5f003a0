package lang

import (
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strings"
	"time"

	"ctq/engine"
)

// valueKind says how the constant value of a record field is checked and
// what it becomes.
type valueKind uint8

const (
	kindAddr     valueKind = iota // an address string: netip.Addr
	kindFamily                    // ipv4 or ipv6: AF_INET or AF_INET6
	kindProto                     // a protocol name or number: int
	kindUint8                     // int 0..255
	kindUint16                    // int 0..65535
	kindUint32                    // int 0..4294967295
	kindSeconds                   // whole seconds or a duration: int 1..4294967295
	kindString                    // a non-empty string
	kindStatus                    // a status flag name or a list of them: engine.Status
	kindLabels                    // a label bit or name, or a list of them: engine.Labels
	kindExpFlags                  // a number, or an expectation flag name or a list of them: int
	kindNATDir                    // 0 or "original", 1 or "reply": int
)

// fieldKinds gives the kind of every record field (get, insert, insert
// expect).
var fieldKinds = map[string]valueKind{
	"family": kindFamily, "proto": kindProto, "master_proto": kindProto,
	"src": kindAddr, "dst": kindAddr, "reply_src": kindAddr, "reply_dst": kindAddr,
	"mask_src": kindAddr, "mask_dst": kindAddr, "master_src": kindAddr, "master_dst": kindAddr,
	"sport": kindUint16, "dport": kindUint16, "reply_sport": kindUint16, "reply_dport": kindUint16,
	"mask_sport": kindUint16, "mask_dport": kindUint16, "master_sport": kindUint16, "master_dport": kindUint16,
	"nat_src": kindAddr, "nat_sport": kindUint16, "nat_dir": kindNATDir,
	"icmp_type": kindUint8, "icmp_code": kindUint8, "icmp_id": kindUint16,
	"zone": kindUint16, "orig_zone": kindUint16, "reply_zone": kindUint16,
	"mark": kindUint32, "class": kindUint32, "id": kindUint32, "orig_vtag": kindUint32, "reply_vtag": kindUint32,
	"timeout": kindSeconds,
	"state":   kindString, "helper": kindString,
	"status": kindStatus,
	"labels": kindLabels,
	"flags":  kindExpFlags,
}

// settableStatus are the status bits the kernel lets userspace set.
const settableStatus = engine.StatusSeenReply | engine.StatusAssured | engine.StatusFixedTimeout

// expectFlagNames are the names of the NF_CT_EXPECT_* bits, lowest first.
var expectFlagNames = []string{"PERMANENT", "INACTIVE", "USERSPACE"}

// value checks and normalizes the constant value v of record field
// field; see valueKind for what each kind becomes.
func (c *compiler) value(field string, v any) (any, error) {
	switch fieldKinds[field] {
	case kindAddr:
		switch a := v.(type) {
		case netip.Addr:
			return a, nil
		case string:
			addr, err := netip.ParseAddr(a)
			if err != nil {
				return nil, fmt.Errorf("invalid address %q", a)
			}
			return addr, nil
		}
		return nil, fmt.Errorf("`%s` must be an address string, not %T", field, v)
	case kindFamily:
		if s, ok := v.(string); ok {
			if af := engine.FamilyNum(s); af != engine.FamilyUnspec {
				return af, nil
			}
		}
		return nil, fmt.Errorf("`%s` must be ipv4 or ipv6, not %#v", field, v)
	case kindProto:
		switch p := v.(type) {
		case string:
			if n, ok := engine.ProtoNum(p); ok {
				return n, nil
			}
			if n, ok := protoByName(p); ok {
				return n, nil
			}
			return nil, fmt.Errorf("unknown protocol %q%s", p, didYouMean(p, engine.ProtoNames))
		case int:
			if p >= 0 && p <= math.MaxUint8 {
				return p, nil
			}
		}
		return nil, fmt.Errorf("`%s` must be a protocol name or a number from 0 to 255, not %#v", field, v)
	case kindUint8:
		return wholeNumber(field, v, math.MaxUint8)
	case kindUint16:
		return wholeNumber(field, v, math.MaxUint16)
	case kindUint32:
		return wholeNumber(field, v, math.MaxUint32)
	case kindSeconds:
		return seconds(field, v)
	case kindString:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("`%s` must be a string, not %#v", field, v)
		}
		if s == "" {
			return nil, fmt.Errorf("`%s` must not be empty", field)
		}
		return s, nil
	case kindStatus:
		return statusValue(field, v)
	case kindLabels:
		return c.labelsValue(field, v)
	case kindExpFlags:
		if n, ok := v.(int); ok {
			return wholeNumber(field, n, math.MaxUint32)
		}
		return expectFlags(field, v)
	case kindNATDir:
		switch v {
		case "original":
			return 0, nil
		case "reply":
			return 1, nil
		}
		if n, ok := v.(int); ok && (n == 0 || n == 1) {
			return n, nil
		}
		return nil, fmt.Errorf("`%s` must be 0 or \"original\", 1 or \"reply\", not %#v", field, v)
	}
	return nil, fmt.Errorf("unknown field `%s`", field)
}

// wholeNumber checks that v is an int from 0 to hi.
func wholeNumber(field string, v any, hi int) (int, error) {
	if n, ok := v.(int); ok && n >= 0 && n <= hi {
		return n, nil
	}
	return 0, fmt.Errorf("`%s` must be a whole number from 0 to %d, not %#v", field, hi, v)
}

// seconds converts whole seconds or a duration (rounded up to whole
// seconds) into seconds from 1 to 4294967295.
func seconds(field string, v any) (int, error) {
	var n int
	switch x := v.(type) {
	case int:
		n = x
	case time.Duration:
		if x <= 0 {
			return 0, fmt.Errorf("`%s` must be positive, not %v", field, x)
		}
		n = int((x + time.Second - 1) / time.Second)
	default:
		return 0, fmt.Errorf("`%s` must be a whole number of seconds or a duration, not %#v", field, v)
	}
	if n < 1 || n > math.MaxUint32 {
		return 0, fmt.Errorf("`%s` must be from 1 to %d seconds, not %d", field, uint32(math.MaxUint32), n)
	}
	return n, nil
}

// items returns the elements of a list value, or v alone.
func items(v any) []any {
	if l, ok := v.([]any); ok {
		return l
	}
	return []any{v}
}

// statusValue converts a status flag name or a list of them; only the
// bits the kernel lets userspace set are accepted.
func statusValue(field string, v any) (engine.Status, error) {
	var bits engine.Status
	for _, it := range items(v) {
		name, ok := it.(string)
		if !ok {
			return 0, fmt.Errorf("`%s` must be a flag name or a list of them, not %#v", field, v)
		}
		bit, ok := engine.StatusBit(name)
		if !ok {
			return 0, fmt.Errorf("unknown status flag %q%s", name, didYouMean(strings.ToUpper(name), engine.StatusNames))
		}
		if bit&settableStatus == 0 {
			return 0, fmt.Errorf("status flag %s cannot be set (settable: %s)", bit, strings.ReplaceAll(settableStatus.String(), "|", ", "))
		}
		bits |= bit
	}
	return bits, nil
}

// labelsValue converts a label bit or name, or a list of them.
func (c *compiler) labelsValue(field string, v any) (engine.Labels, error) {
	var l engine.Labels
	for _, it := range items(v) {
		switch x := it.(type) {
		case int:
			if x < 0 || x > 127 {
				return l, fmt.Errorf("label bit %d is out of range (0 to 127)", x)
			}
			l.Set(x)
		case string:
			bit, ok := c.labels[x]
			if !ok {
				return l, fmt.Errorf("%s", unknownLabel(x, c.labels))
			}
			l.Set(bit)
		default:
			return l, fmt.Errorf("`%s` must be a label bit or name, or a list of them, not %#v", field, v)
		}
	}
	return l, nil
}

// unknownLabel words the error for a label name that connlabel.conf does
// not define.
func unknownLabel(name string, labels map[string]int) string {
	if len(labels) == 0 {
		return fmt.Sprintf("unknown label %q (no label names are loaded from connlabel.conf; use the bit number)", name)
	}
	names := make([]string, 0, len(labels))
	for n := range labels {
		names = append(names, n)
	}
	slices.Sort(names)
	return fmt.Sprintf("unknown label %q%s", name, didYouMean(name, names))
}

// expectFlags converts an expectation flag name or a list of them.
func expectFlags(field string, v any) (int, error) {
	flags := 0
	for _, it := range items(v) {
		name, ok := it.(string)
		if !ok {
			return 0, fmt.Errorf("`%s` must be a number, or a flag name or a list of them, not %#v", field, v)
		}
		i := slices.IndexFunc(expectFlagNames, func(n string) bool { return strings.EqualFold(n, name) })
		if i < 0 {
			return 0, fmt.Errorf("unknown expectation flag %q (flags: %s)", name, strings.Join(expectFlagNames, ", "))
		}
		flags |= 1 << i
	}
	return flags, nil
}

// orLabels is the union of two label sets.
func orLabels(a, b engine.Labels) engine.Labels {
	for i := range a.Words {
		a.Words[i] |= b.Words[i]
	}
	return a
}

// andLabels is the intersection of two label sets.
func andLabels(a, b engine.Labels) engine.Labels {
	for i := range a.Words {
		a.Words[i] &= b.Words[i]
	}
	return a
}
