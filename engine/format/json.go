package format

import (
	"net/netip"
	"strconv"
	"time"
	"unicode/utf8"

	"ctq/engine"
)

// jsonTimeLayout is RFC 3339 with all nine digits of nanoseconds, so that
// the strings sort as the times do.
const jsonTimeLayout = "2006-01-02T15:04:05.000000000Z07:00"

const hexDigits = "0123456789abcdef"

// AppendJSON appends f as one JSON object (no newline). Keys are the
// language's field names; numbers are JSON numbers; an optional attribute
// whose Has bit is clear is left out. See the package documentation for
// the keys. DecodeJSON reads the object back. opts may be nil; its
// LabelNames turn label bits into names.
func AppendJSON(buf []byte, f *engine.Flow, opts *Options) []byte {
	p := f.ProtoNum
	ports, icmp := engine.HasPorts(p), isICMP(p)

	buf = append(buf, `{"family":`...)
	buf = appendJSONString(buf, f.Family)
	buf = append(buf, `,"proto":`...)
	buf = appendJSONString(buf, f.Proto)
	buf = appendJSONInt(buf, "protonum", f.ProtoNum)
	buf = appendJSONAddr(buf, "src", f.Src)
	buf = appendJSONAddr(buf, "dst", f.Dst)
	buf = appendJSONIntIf(buf, "sport", f.Sport, ports)
	buf = appendJSONIntIf(buf, "dport", f.Dport, ports)
	buf = appendJSONIntIf(buf, "icmp_type", f.ICMPType, icmp)
	buf = appendJSONIntIf(buf, "icmp_code", f.ICMPCode, icmp)
	buf = appendJSONIntIf(buf, "icmp_id", f.ICMPID, icmp)
	// reply_src and reply_dst mark the reply tuple; the reply ports and
	// ICMP fields follow the rules of the original ones.
	hasReply := f.Has&engine.HasReply != 0
	if hasReply {
		buf = appendJSONAddr(buf, "reply_src", f.ReplySrc)
		buf = appendJSONAddr(buf, "reply_dst", f.ReplyDst)
	}
	buf = appendJSONIntIf(buf, "reply_sport", f.ReplySport, ports && hasReply)
	buf = appendJSONIntIf(buf, "reply_dport", f.ReplyDport, ports && hasReply)
	buf = appendJSONIntIf(buf, "reply_icmp_type", f.ReplyICMPType, icmp && hasReply)
	buf = appendJSONIntIf(buf, "reply_icmp_code", f.ReplyICMPCode, icmp && hasReply)
	buf = appendJSONIntIf(buf, "reply_icmp_id", f.ReplyICMPID, icmp && hasReply)
	if f.Has&engine.HasState != 0 {
		buf = append(buf, `,"state":`...)
		buf = appendJSONString(buf, f.State)
		if n, ok := engine.StateNum(p, f.State); !ok || n != f.StateNum {
			buf = appendJSONInt(buf, "state_num", f.StateNum)
		}
	} else if f.StateNum != 0 {
		buf = appendJSONInt(buf, "state_num", f.StateNum)
	}
	if f.Has&engine.HasStatus != 0 {
		buf = append(buf, `,"status":[`...)
		first := true
		for i := 0; i < 32; i++ {
			if f.Status&(1<<i) == 0 {
				continue
			}
			if !first {
				buf = append(buf, ',')
			}
			first = false
			if i < len(engine.StatusNames) {
				buf = append(buf, '"')
				buf = append(buf, engine.StatusNames[i]...)
				buf = append(buf, '"')
			} else {
				buf = append(buf, `"BIT`...)
				buf = strconv.AppendInt(buf, int64(i), 10)
				buf = append(buf, '"')
			}
		}
		buf = append(buf, ']')
	}
	if f.Has&engine.HasMark != 0 {
		buf = appendJSONInt(buf, "mark", f.Mark)
	}
	if f.Has&engine.HasSecmark != 0 {
		buf = appendJSONInt(buf, "secmark", f.Secmark)
	}
	if f.Has&engine.HasZone != 0 {
		buf = appendJSONInt(buf, "zone", f.Zone)
	}
	if f.Has&engine.HasOrigZone != 0 {
		buf = appendJSONInt(buf, "orig_zone", f.OrigZone)
	}
	if f.Has&engine.HasReplyZone != 0 {
		buf = appendJSONInt(buf, "reply_zone", f.ReplyZone)
	}
	if f.Has&engine.HasTimeout != 0 {
		buf = appendJSONInt(buf, "timeout", f.Timeout)
	}
	if f.Has&engine.HasID != 0 {
		buf = appendJSONInt(buf, "id", f.ID)
	}
	if f.Has&engine.HasUse != 0 {
		buf = appendJSONInt(buf, "use", f.Use)
	}
	if f.Has&engine.HasLabels != 0 {
		buf = appendJSONLabels(buf, f.Labels, opts.labelNames())
	}
	if f.Has&engine.HasHelper != 0 {
		buf = append(buf, `,"helper":`...)
		buf = appendJSONString(buf, f.Helper)
	}
	if f.Has&engine.HasSecctx != 0 {
		buf = append(buf, `,"secctx":`...)
		buf = appendJSONString(buf, f.Secctx)
	}
	if f.Has&engine.HasCounters != 0 {
		buf = appendJSONInt(buf, "packets", f.Packets)
		buf = appendJSONInt(buf, "bytes", f.Bytes)
		buf = appendJSONInt(buf, "orig_packets", f.OrigPackets)
		buf = appendJSONInt(buf, "orig_bytes", f.OrigBytes)
		buf = appendJSONInt(buf, "reply_packets", f.ReplyPackets)
		buf = appendJSONInt(buf, "reply_bytes", f.ReplyBytes)
	}
	if f.Has&engine.HasStart != 0 {
		buf = appendJSONTime(buf, "start", f.Start)
	}
	if f.Has&engine.HasStop != 0 {
		buf = appendJSONTime(buf, "stop", f.Stop)
	}
	if f.Has&engine.HasStart != 0 || f.Age != 0 {
		buf = append(buf, `,"age":`...)
		buf = appendSeconds(buf, f.Age)
	}
	if f.Has&engine.HasVtags != 0 {
		buf = appendJSONInt(buf, "orig_vtag", f.OrigVtag)
		buf = appendJSONInt(buf, "reply_vtag", f.ReplyVtag)
	}
	if f.Has&engine.HasRole != 0 {
		buf = append(buf, `,"role":`...)
		if r := f.DCCPRole; r >= 0 && r < len(dccpRoles) {
			buf = append(buf, '"')
			buf = append(buf, dccpRoles[r]...)
			buf = append(buf, '"')
		} else {
			buf = strconv.AppendInt(buf, int64(r), 10)
		}
	}
	return append(buf, '}')
}

// appendJSONLabels appends the "labels" key: the set bits, each as its name
// when names has one, else as its number; and, when a name was used, the
// bit numbers again as "label_bits" so that DecodeJSON needs no label map.
func appendJSONLabels(buf []byte, l engine.Labels, names map[int]string) []byte {
	buf = append(buf, `,"labels":[`...)
	named := false
	first := true
	for n := nextLabel(&l, 0); n >= 0; n = nextLabel(&l, n+1) {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		if name := names[n]; name != "" {
			buf = appendJSONString(buf, name)
			named = true
		} else {
			buf = strconv.AppendInt(buf, int64(n), 10)
		}
	}
	buf = append(buf, ']')
	if !named {
		return buf
	}
	buf = append(buf, `,"label_bits":[`...)
	first = true
	for n := nextLabel(&l, 0); n >= 0; n = nextLabel(&l, n+1) {
		if !first {
			buf = append(buf, ',')
		}
		first = false
		buf = strconv.AppendInt(buf, int64(n), 10)
	}
	return append(buf, ']')
}

// appendJSONInt appends ,"key":v.
func appendJSONInt(buf []byte, key string, v int) []byte {
	buf = append(buf, ',', '"')
	buf = append(buf, key...)
	buf = append(buf, '"', ':')
	return strconv.AppendInt(buf, int64(v), 10)
}

// appendJSONIntIf appends ,"key":v when always is set or v is not zero:
// a field a protocol has is printed even when zero, one it lacks only when
// set.
func appendJSONIntIf(buf []byte, key string, v int, always bool) []byte {
	if !always && v == 0 {
		return buf
	}
	return appendJSONInt(buf, key, v)
}

// appendJSONAddr appends ,"key":"addr" ("" for a missing address).
func appendJSONAddr(buf []byte, key string, a netip.Addr) []byte {
	buf = append(buf, ',', '"')
	buf = append(buf, key...)
	buf = append(buf, `":"`...)
	if a.IsValid() {
		buf = a.AppendTo(buf)
	}
	return append(buf, '"')
}

// appendJSONTime appends ,"key":"RFC 3339 time in UTC".
func appendJSONTime(buf []byte, key string, t time.Time) []byte {
	buf = append(buf, ',', '"')
	buf = append(buf, key...)
	buf = append(buf, `":"`...)
	buf = t.UTC().AppendFormat(buf, jsonTimeLayout)
	return append(buf, '"')
}

// appendSeconds appends d in seconds as an exact decimal number
// ("28", "0.5", "-1.000000001").
func appendSeconds(buf []byte, d time.Duration) []byte {
	u := uint64(d)
	if d < 0 {
		buf = append(buf, '-')
		u = -u
	}
	buf = strconv.AppendUint(buf, u/uint64(time.Second), 10)
	frac := u % uint64(time.Second)
	if frac == 0 {
		return buf
	}
	var digits [9]byte
	for i := 8; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	n := 9
	for digits[n-1] == '0' {
		n--
	}
	buf = append(buf, '.')
	return append(buf, digits[:n]...)
}

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD, as with encoding/json.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r >= 0x80 && r < 0xa0 {
			// C1 controls (U+009B is CSI): escaped like C0 and DEL, so
			// that a terminal never sees them raw.
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[r>>4], hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}
