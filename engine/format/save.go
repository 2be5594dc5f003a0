package format

import (
	"errors"
	"fmt"
	"net/netip"

	"ctq/engine"
)

// ErrSaveFamily is returned by AppendSave for a flow that is neither IPv4
// nor IPv6 (conntrack prints "WARNING: unsupported l3proto" and skips it).
var ErrSaveFamily = errors.New("only ipv4 and ipv6 flows can be saved")

// saveCommands are the save prefixes, selected by the event kind.
var saveCommands = [...]string{
	EventNone:    "",
	EventNew:     "-A ",
	EventUpdate:  "-U ",
	EventDestroy: "-D ",
}

// saveStatus are the status bits -o save writes with -u, in bit order.
var saveStatus = [...]struct {
	bit  engine.Status
	name string
}{
	{engine.StatusExpected, "EXPECTED"},
	{engine.StatusSeenReply, "SEEN_REPLY"},
	{engine.StatusAssured, "ASSURED"},
	{engine.StatusFixedTimeout, "FIXED_TIMEOUT"},
}

// dccpRoles are the names of enum ct_dccp_roles.
var dccpRoles = engine.DCCPRoles

// AppendSave appends one conntrack -o save line for f (no newline): the
// arguments of a conntrack command that recreates the entry, as conntrack
// 1.4.7 prints them. ev selects the command: EventNew "-A" (listings, and
// NEW events), EventUpdate "-U", EventDestroy "-D" (delete output and
// DESTROY events), EventNone none.
//
// Like conntrack, the line carries no mark, labels, helper, secctx,
// counters, id, use or timestamps.
func AppendSave(buf []byte, f *engine.Flow, ev Event) ([]byte, error) {
	af := f.L3Num()
	if af != engine.FamilyIPv4 && af != engine.FamilyIPv6 {
		return buf, fmt.Errorf("save flow of family %q: %w", f.Family, ErrSaveFamily)
	}
	start := len(buf)
	if int(ev) < len(saveCommands) {
		buf = append(buf, saveCommands[ev]...)
	}
	if f.Has&engine.HasTimeout != 0 {
		buf = append(buf, "-t "...)
		buf = appendUint(buf, u32(f.Timeout))
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasStatus != 0 {
		buf = append(buf, "-u "...)
		n := 0
		for _, s := range saveStatus {
			if f.Status&s.bit != 0 {
				if n > 0 {
					buf = append(buf, ',')
				}
				buf = append(buf, s.name...)
				n++
			}
		}
		if n == 0 {
			buf = append(buf, "UNSET"...)
		}
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasSecmark != 0 {
		buf = append(buf, "-c "...)
		buf = appendUint(buf, u32(f.Secmark))
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasZone != 0 {
		buf = append(buf, "-w "...)
		buf = appendUint(buf, u16(f.Zone))
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasOrigZone != 0 {
		buf = append(buf, "--orig-zone "...)
		buf = appendUint(buf, u16(f.OrigZone))
		buf = append(buf, ' ')
	}
	if f.Has&engine.HasReplyZone != 0 {
		buf = append(buf, "--reply-zone "...)
		buf = appendUint(buf, u16(f.ReplyZone))
		buf = append(buf, ' ')
	}

	buf = append(buf, "-s "...)
	buf = appendAddr(buf, f.Src, af)
	buf = append(buf, " -d "...)
	buf = appendAddr(buf, f.Dst, af)
	buf = append(buf, ' ')
	if f.Has&engine.HasReply != 0 {
		if isDNAT(f, af) {
			buf = append(buf, "-g "...)
		} else {
			buf = append(buf, "-r "...)
		}
		buf = appendAddr(buf, f.ReplySrc, af)
		if isSNAT(f, af) {
			buf = append(buf, " -n "...)
		} else {
			buf = append(buf, " -q "...)
		}
		buf = appendAddr(buf, f.ReplyDst, af)
		buf = append(buf, ' ')
	}

	buf = appendSaveProto(buf, f)

	// Trim trailing blanks, but never into what the caller passed in.
	for len(buf) > start && buf[len(buf)-1] == ' ' {
		buf = buf[:len(buf)-1]
	}
	return buf, nil
}

// appendSaveProto appends -p and the protocol's options.
func appendSaveProto(buf []byte, f *engine.Flow) []byte {
	p := f.ProtoNum
	name := engine.ProtoName(p)
	if name == "unknown" {
		buf = append(buf, "-p "...)
		buf = appendUint(buf, u8(p))
		return append(buf, ' ')
	}
	buf = append(buf, "-p "...)
	buf = append(buf, name...)
	buf = append(buf, ' ')
	reply := f.Has&engine.HasReply != 0
	switch p {
	case engine.ProtoICMP, engine.ProtoICMPv6:
		opt := "--icmp-"
		if p == engine.ProtoICMPv6 {
			opt = "--icmpv6-"
		}
		buf = appendOpt(buf, opt, "type ", u8(f.ICMPType))
		buf = appendOpt(buf, opt, "code ", u8(f.ICMPCode))
		return appendOpt(buf, opt, "id ", u16(f.ICMPID))
	case engine.ProtoGRE:
		buf = appendOpt(buf, "--srckey ", "", u16(f.Sport))
		buf = appendOpt(buf, "--dstkey ", "", u16(f.Dport))
		if reply {
			buf = appendOpt(buf, "--reply-key-src ", "", u16(f.ReplySport))
			buf = appendOpt(buf, "--reply-key-dst ", "", u16(f.ReplyDport))
		}
		return buf
	}
	buf = appendOpt(buf, "--sport ", "", u16(f.Sport))
	buf = appendOpt(buf, "--dport ", "", u16(f.Dport))
	if reply {
		buf = appendOpt(buf, "--reply-port-src ", "", u16(f.ReplySport))
		buf = appendOpt(buf, "--reply-port-dst ", "", u16(f.ReplyDport))
	}
	if f.Has&engine.HasState != 0 && engine.StateTable(p) != nil {
		buf = append(buf, "--state "...)
		buf = append(buf, engine.StateName(p, f.StateNum)...)
		buf = append(buf, ' ')
	}
	if p == engine.ProtoSCTP && f.Has&engine.HasVtags != 0 {
		buf = appendOpt(buf, "--orig-vtag ", "", u32(f.OrigVtag))
		buf = appendOpt(buf, "--reply-vtag ", "", u32(f.ReplyVtag))
	}
	if p == engine.ProtoDCCP && f.Has&engine.HasRole != 0 {
		buf = append(buf, "--role "...)
		if r := f.DCCPRole; r >= 0 && r < len(dccpRoles) {
			buf = append(buf, dccpRoles[r]...)
		} else {
			buf = appendUint(buf, u8(r))
		}
		buf = append(buf, ' ')
	}
	return buf
}

// appendOpt appends "OPT[SUFFIX]VALUE ".
func appendOpt(buf []byte, opt, suffix string, v uint64) []byte {
	buf = append(buf, opt...)
	buf = append(buf, suffix...)
	buf = appendUint(buf, v)
	return append(buf, ' ')
}

// isSNAT is libnetfilter_conntrack's NFCT_GOPT_IS_SNAT: the reply
// destination differs from the original source, unless the status says
// source NAT was not done.
func isSNAT(f *engine.Flow, af int) bool {
	if f.Has&engine.HasStatus != 0 && f.Status&engine.StatusSrcNATDone == 0 {
		return false
	}
	return !sameAddr(f.ReplyDst, f.Src, af)
}

// isDNAT is NFCT_GOPT_IS_DNAT: the reply source differs from the original
// destination, unless the status says destination NAT was not done.
func isDNAT(f *engine.Flow, af int) bool {
	if f.Has&engine.HasStatus != 0 && f.Status&engine.StatusDstNATDone == 0 {
		return false
	}
	return !sameAddr(f.ReplySrc, f.Dst, af)
}

// sameAddr compares two tuple addresses as the C structures would.
func sameAddr(a, b netip.Addr, af int) bool {
	if af == engine.FamilyIPv4 {
		return a.Unmap() == b.Unmap()
	}
	return a.WithZone("") == b.WithZone("")
}
