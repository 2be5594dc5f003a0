package cache

import (
	"fmt"
	"net/netip"

	"ctq/engine"
)

// Key identifies a flow in a cache: the original tuple (addresses, layer-4
// protocol, ports or ICMP type, code and id) and the conntrack zone, the
// fields conntrackd 1.4.7 hashes and compares (it no longer compares the
// conntrack ID).
type Key struct {
	Src, Dst     netip.Addr
	Proto        uint8
	Sport, Dport uint16
	ICMPType     uint8
	ICMPCode     uint8
	ICMPID       uint16
	Zone         uint16
}

// KeyOf is the cache key of a flow.
func KeyOf(f *engine.Flow) Key {
	k := Key{
		Src:   f.Src.Unmap(),
		Dst:   f.Dst.Unmap(),
		Proto: uint8(f.ProtoNum),
		Zone:  uint16(f.Zone),
	}
	switch f.ProtoNum {
	case engine.ProtoICMP, engine.ProtoICMPv6:
		k.ICMPType, k.ICMPCode, k.ICMPID = uint8(f.ICMPType), uint8(f.ICMPCode), uint16(f.ICMPID)
	default:
		if engine.HasPorts(f.ProtoNum) {
			k.Sport, k.Dport = uint16(f.Sport), uint16(f.Dport)
		}
	}
	return k
}

// String formats the key for messages.
func (k Key) String() string {
	s := fmt.Sprintf("proto=%d src=%s dst=%s", k.Proto, k.Src, k.Dst)
	switch {
	case k.Proto == engine.ProtoICMP || k.Proto == engine.ProtoICMPv6:
		s += fmt.Sprintf(" type=%d code=%d id=%d", k.ICMPType, k.ICMPCode, k.ICMPID)
	case engine.HasPorts(int(k.Proto)):
		s += fmt.Sprintf(" sport=%d dport=%d", k.Sport, k.Dport)
	}
	if k.Zone != 0 {
		s += fmt.Sprintf(" zone=%d", k.Zone)
	}
	return s
}
