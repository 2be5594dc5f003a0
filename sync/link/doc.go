// Package link opens the dedicated links a sync node talks over, with the
// socket options conntrackd 1.4.7 uses. A link carries whole sync messages:
// each Send is one datagram of one or more messages, each Recv returns one
// (over TCP the messages form a stream, which Recv cuts at message
// boundaries).
//
// UDP unicast, IPv4 multicast and TCP are implemented (IPv6 multicast
// comes later).
package link
