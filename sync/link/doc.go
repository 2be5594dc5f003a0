//go:build linux

// Package link opens the dedicated links a sync node talks over, with the
// socket options conntrackd 1.4.7 uses. A link carries whole sync messages:
// each Send is one datagram of one or more messages, each Recv returns one
// (over TCP the messages form a stream, which Recv cuts at message
// boundaries).
//
// Implemented:
//   - UDP unicast (OpenUDP), over IPv4 and IPv6; a link-local IPv6
//     address takes Interface as its scope, as conntrackd does.
//   - Multicast (OpenMulticast): IPv4 (the group joined on the interface
//     of IPv4_interface) and IPv6 (the group joined on, and sent out of,
//     Interface; IPv6_interface is ignored, as conntrackd does); loopback
//     off, TTL or hop limit 1, the receive socket bound to the group.
//   - TCP (OpenTCP), over IPv4 and IPv6, with conntrackd's error queue and
//     reconnects.
//   - Several dedicated links (OpenSet, Set): up to config.MaxLinks blocks
//     of one transport; the Default block is active first. The active link
//     sends, all links receive; the active link changes when its interface
//     goes down (rtnetlink link messages), when a send on it fails, and
//     when a datagram of valid messages arrives on another link.
//     Set.Links shows each link's role and counters, as `conntrackd -s
//     link`.
//   - Datagram authentication between ctq nodes (Auth), a ctq extension:
//     an HMAC trailer bound to the link and to both nodes' current runs
//     (a handshake of random epochs), so that forged, reflected, replayed
//     and cross-link datagrams are dropped, also across restarts of
//     either node; see Auth for the protocol and why it needs no state
//     file. Without an AuthKey a link is conntrackd's, unchanged.
//
// A unicast UDP link's port is its own (no SO_REUSEADDR); a multicast
// link's is shared, as conntrackd's (see UDP). Stats.RecvDropped shows
// the datagrams the kernel dropped at a UDP receive socket.
//
// Over IPv6, MaxPayload takes the IPv6 headers off the MTU (48 bytes for
// UDP, 60 for TCP), where conntrackd takes off the IPv4 ones and so sends
// its fullest datagrams fragmented.
package link
