//go:build linux

package node

import (
	"net/netip"

	"ctq/engine"
	"ctq/sync/config"
)

// flowFilter is General { Filter }: which of this node's entries are
// synced. Each part that is present must pass:
//   - Protocol Accept { P... } passes the listed IP protocols, Ignore the
//     others;
//   - Address Accept { A[/N]... } passes an entry whose original source or
//     reply source (its two real endpoints) is in one of the prefixes,
//     Ignore one whose endpoints are in none;
//   - State Accept { S... for TCP } passes TCP entries in the listed
//     states, Ignore the others; entries of other protocols pass.
//
// conntrackd applies the same rules in the kernel (From Kernelspace, a
// socket filter) or in the daemon (Userspace); ctq always applies them in
// the node, which gives the kernel-side result in both cases. (conntrackd's
// Userspace check of Address Accept wants an entry to match both a host
// and a network entry of the list when the list has both kinds; ctq
// accepts a match of either, as its kernel filter does.)
type flowFilter struct {
	protos      *[256]bool
	protoIgnore bool
	prefixes    []netip.Prefix
	addrIgnore  bool
	hasAddr     bool
	states      *[16]bool
	stateIgnore bool
}

// newFilter compiles a configuration's Filter; nil (no Filter) passes
// everything.
func newFilter(c *config.Filter) *flowFilter {
	if c == nil {
		return nil
	}
	f := &flowFilter{}
	if p := c.Protocol; p != nil {
		f.protos, f.protoIgnore = new([256]bool), p.Ignore
		for _, n := range p.Protos {
			if n >= 0 && n < 256 {
				f.protos[n] = true
			}
		}
	}
	if a := c.Address; a != nil {
		f.hasAddr, f.addrIgnore = true, a.Ignore
		f.prefixes = append(f.prefixes, a.Prefixes...)
	}
	if s := c.State; s != nil {
		f.states, f.stateIgnore = new([16]bool), s.Ignore
		for _, n := range s.TCPStates {
			if n >= 0 && n < 16 {
				f.states[n] = true
			}
		}
	}
	return f
}

// pass reports whether the filter lets fl be synced; a nil filter passes
// everything.
func (f *flowFilter) pass(fl *engine.Flow) bool {
	if f == nil {
		return true
	}
	if f.protos != nil {
		p := fl.ProtoNum
		listed := p >= 0 && p < 256 && f.protos[p]
		if listed == f.protoIgnore {
			return false
		}
	}
	if f.hasAddr {
		replySrc := fl.Dst
		if fl.Has&engine.HasReply != 0 {
			replySrc = fl.ReplySrc
		}
		if f.matches(fl.Src) || f.matches(replySrc) {
			if f.addrIgnore {
				return false
			}
		} else if !f.addrIgnore {
			return false
		}
	}
	if f.states != nil && fl.ProtoNum == engine.ProtoTCP && fl.Has&engine.HasState != 0 {
		s := fl.StateNum
		listed := s >= 0 && s < 16 && f.states[s]
		if listed == f.stateIgnore {
			return false
		}
	}
	return true
}

// matches reports whether a is in one of the filter's prefixes.
func (f *flowFilter) matches(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range f.prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
