// Package link opens the dedicated links a sync node talks over, with the
// socket options conntrackd 1.4.7 uses. A link carries whole sync messages:
// each Send is one datagram of one or more messages, each Recv returns one.
//
// UDP unicast and IPv4 multicast are implemented (IPv6 multicast and TCP
// come later).
package link
