package node

import (
	"net/netip"
	"testing"

	"ctq/engine"
	"ctq/sync/config"
)

func TestFilter(t *testing.T) {
	tcp := func(src, dst string, state int) engine.Flow {
		var f engine.Flow
		f.Family = "ipv4"
		f.SetProto(engine.ProtoTCP)
		f.Src, f.Dst = netip.MustParseAddr(src), netip.MustParseAddr(dst)
		f.Sport, f.Dport = 1000, 22
		f.SetState(state)
		return f
	}
	udp := func(src, dst string) engine.Flow {
		f := tcp(src, dst, 0)
		f.SetProto(engine.ProtoUDP)
		f.Has &^= engine.HasState
		f.State, f.StateNum = "", 0
		return f
	}
	nat := tcp("192.0.2.1", "203.0.113.9", 3) // DNAT to 198.51.100.7
	nat.ReplySrc, nat.ReplyDst = netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("192.0.2.1")
	nat.Has |= engine.HasReply
	v6 := tcp("2001:db8::1", "2001:db8::2", 3)
	v6.Family = "ipv6"
	prefixes := func(ps ...string) []netip.Prefix {
		var out []netip.Prefix
		for _, p := range ps {
			out = append(out, netip.MustParsePrefix(p))
		}
		return out
	}
	const established, timeWait, synSent = 3, 7, 1
	tests := []struct {
		name   string
		filter *config.Filter
		flow   engine.Flow
		pass   bool
	}{
		{"no filter", nil, tcp("192.0.2.1", "192.0.2.2", established), true},
		{"protocol accept listed", &config.Filter{Protocol: &config.ProtoFilter{Protos: []int{6}}}, tcp("192.0.2.1", "192.0.2.2", established), true},
		{"protocol accept unlisted", &config.Filter{Protocol: &config.ProtoFilter{Protos: []int{6}}}, udp("192.0.2.1", "192.0.2.2"), false},
		{"protocol ignore listed", &config.Filter{Protocol: &config.ProtoFilter{Ignore: true, Protos: []int{17}}}, udp("192.0.2.1", "192.0.2.2"), false},
		{"protocol ignore unlisted", &config.Filter{Protocol: &config.ProtoFilter{Ignore: true, Protos: []int{17}}}, tcp("192.0.2.1", "192.0.2.2", established), true},
		{"address ignore source", &config.Filter{Address: &config.AddrFilter{Ignore: true, Prefixes: prefixes("192.0.2.1/32")}}, tcp("192.0.2.1", "192.0.2.2", established), false},
		{"address ignore destination", &config.Filter{Address: &config.AddrFilter{Ignore: true, Prefixes: prefixes("192.0.2.2/32")}}, tcp("192.0.2.1", "192.0.2.2", established), false},
		{"address ignore other", &config.Filter{Address: &config.AddrFilter{Ignore: true, Prefixes: prefixes("198.51.100.0/24")}}, tcp("192.0.2.1", "192.0.2.2", established), true},
		{"address ignore NAT target (reply source)", &config.Filter{Address: &config.AddrFilter{Ignore: true, Prefixes: prefixes("198.51.100.0/24")}}, nat, false},
		{"address ignore NAT'd destination is not an endpoint", &config.Filter{Address: &config.AddrFilter{Ignore: true, Prefixes: prefixes("203.0.113.9/32")}}, nat, true},
		{"address accept network", &config.Filter{Address: &config.AddrFilter{Prefixes: prefixes("192.0.2.0/24", "198.51.100.1/32")}}, tcp("192.0.2.1", "203.0.113.2", established), true},
		{"address accept host", &config.Filter{Address: &config.AddrFilter{Prefixes: prefixes("192.0.2.0/24", "198.51.100.1/32")}}, tcp("203.0.113.1", "198.51.100.1", established), true},
		{"address accept none", &config.Filter{Address: &config.AddrFilter{Prefixes: prefixes("192.0.2.0/24")}}, tcp("203.0.113.1", "198.51.100.1", established), false},
		{"address ignore ipv6", &config.Filter{Address: &config.AddrFilter{Ignore: true, Prefixes: prefixes("2001:db8::/64")}}, v6, false},
		{"address ignore ipv4 list, ipv6 entry", &config.Filter{Address: &config.AddrFilter{Ignore: true, Prefixes: prefixes("192.0.2.0/24")}}, v6, true},
		{"state accept listed", &config.Filter{State: &config.StateFilter{TCPStates: []int{established, timeWait}}}, tcp("192.0.2.1", "192.0.2.2", established), true},
		{"state accept unlisted", &config.Filter{State: &config.StateFilter{TCPStates: []int{established, timeWait}}}, tcp("192.0.2.1", "192.0.2.2", synSent), false},
		{"state accept, not TCP", &config.Filter{State: &config.StateFilter{TCPStates: []int{established}}}, udp("192.0.2.1", "192.0.2.2"), true},
		{"state ignore listed", &config.Filter{State: &config.StateFilter{Ignore: true, TCPStates: []int{synSent}}}, tcp("192.0.2.1", "192.0.2.2", synSent), false},
		{"every part must pass", &config.Filter{Protocol: &config.ProtoFilter{Protos: []int{6}},
			Address: &config.AddrFilter{Ignore: true, Prefixes: prefixes("192.0.2.2/32")}}, tcp("192.0.2.1", "192.0.2.2", established), false},
	}
	for _, tt := range tests {
		if got := newFilter(tt.filter).pass(&tt.flow); got != tt.pass {
			t.Errorf("%s: pass = %v, want %v", tt.name, got, tt.pass)
		}
	}
}
