// Package ctgen generates random conntrack(8) command lines and the
// random conntrack tables they run against, for the differential test that
// compares ctq's conntrack front end with conntrack-tools 1.4.7.
//
// Everything is a pure function of a *rand.Rand: the same seed gives the
// same table and the same command lines, so a failure found with one seed
// can be replayed. ctgen knows conntrack's option vocabulary (long names,
// short letters, aliases, which options each command accepts), so that
// most generated lines are meaningful, but it does not predict what
// conntrack does with them: the differential test compares two programs,
// and any line, valid or not, is a good test as long as both must agree.
//
// Addresses are taken only from the documentation and benchmarking ranges
// 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24, 198.18.0.0/15 and
// 2001:db8::/32.
package ctgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Entry is a conntrack entry of a generated table, as the arguments that
// create it (conntrack -I ARGS, the -I included) plus the values
// generated filters pick from.
type Entry struct {
	// Args is the conntrack command line without the program name.
	Args []string
	// V6 is whether the entry is IPv6.
	V6 bool
	// Proto is the protocol name given with -p.
	Proto string
	// Src and Dst are the original tuple's addresses.
	Src, Dst string
	// Sport and Dport are the original ports (tcp, udp, sctp), the ICMP
	// type and id (icmp, icmpv6: Sport is the type, Dport the id) or the
	// GRE keys.
	Sport, Dport int
	// Mark is the entry's mark (0 if none was set).
	Mark int
	// Zone is the zone set with -w (0 if none).
	Zone int
	// State is the TCP or SCTP state ("" for other protocols).
	State string
}

// Line is one generated command line.
type Line struct {
	// Args is the command line without the program name. An argument
	// equal to FileArg stands for the path of a file holding File.
	Args []string
	// File is the content of the file a -R (--load-file) line reads;
	// empty if the line reads no file.
	File string
	// Stdin is what the command reads on its standard input.
	Stdin string
	// Events is set for conntrack -E lines: the harness runs Triggers
	// while the command listens and then stops it with SIGINT.
	Events bool
	// Triggers are conntrack command lines (without the program name)
	// run with the real conntrack while an -E line listens.
	Triggers [][]string
	// Mutates is set for lines that may change the tables (-I -A -U -D
	// -F -R, -E with triggers): the harness compares the tables after
	// them and restores the generated table.
	Mutates bool
}

// FileArg is the argument that stands for the path of Line.File.
const FileArg = "@FILE@"

// String is the command line as a shell would read it (arguments with
// blanks or quotes quoted), for reports.
func (l Line) String() string {
	return Quote(l.Args)
}

// Quote joins args with blanks, single-quoting those a shell would split
// or interpret.
func Quote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\n'\"\\$`!*?[]{}()<>|&;#~") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}

// The address pools are functions, so that nothing package-level can be
// changed. The IPv4 pools mix several networks so that CIDR filters
// match some entries and not others.

// v4Src are the IPv4 original sources of table entries.
func v4Src() []string {
	return []string{"198.18.0.1", "198.18.0.2", "198.18.1.1", "198.19.7.9", "192.0.2.10", "192.0.2.11"}
}

// v4Dst are the IPv4 original destinations of table entries.
func v4Dst() []string {
	return []string{"203.0.113.5", "203.0.113.6", "198.51.100.10", "198.51.100.11", "192.0.2.7"}
}

// v6Src are the IPv6 original sources of table entries.
func v6Src() []string {
	return []string{"2001:db8::1", "2001:db8::2", "2001:db8:1::1", "2001:db8:1::2"}
}

// v6Dst are the IPv6 original destinations of table entries.
func v6Dst() []string { return []string{"2001:db8::10", "2001:db8:2::10", "2001:db8:2::11"} }

// natV4 are the addresses NAT entries are translated to.
func natV4() []string { return []string{"198.51.100.77", "192.0.2.80"} }

// dports are the destination ports entries use (callers filter by them).
func dports() []int { return []int{22, 53, 80, 443, 8080, 5353} }

// tcpStates are the TCP states -I accepts.
func tcpStates() []string {
	return []string{"SYN_SENT", "SYN_RECV", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "LAST_ACK", "TIME_WAIT", "CLOSE", "LISTEN"}
}

// sctpStates are SCTP states -I accepts.
func sctpStates() []string {
	return []string{"CLOSED", "COOKIE_WAIT", "COOKIE_ECHOED", "ESTABLISHED", "SHUTDOWN_SENT", "SHUTDOWN_RECD", "SHUTDOWN_ACK_SENT"}
}

// statuses are the status keywords of -u (without UNREPLIED and negation).
func statuses() []string {
	return []string{"ASSURED", "SEEN_REPLY", "UNSET", "FIXED_TIMEOUT", "EXPECTED", "OFFLOAD", "HW_OFFLOAD"}
}

// tableTimeouts are the timeouts of table entries: long enough that no
// entry expires during a run, and far from what a generated -D -t asks
// for (-D compares the remaining timeout exactly, which two namespaces
// filled a moment apart may not agree on).
func tableTimeouts() []int { return []int{1200, 3600, 7200, 86400} }

// pick is a random element of s.
func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// chance is true with probability p.
func chance(r *rand.Rand, p float64) bool { return r.Float64() < p }

// Table generates n entries with distinct original and reply tuples:
// tcp, udp, icmp, sctp, gre over IPv4 and tcp, udp, icmpv6 over IPv6,
// with marks, zones, statuses and (IPv4) source and destination NAT.
// Labels are never set: conntrack needs /etc/xtables/connlabel.conf for
// them, a system file the tests do not write.
func Table(r *rand.Rand, n int) []Entry {
	t := make([]Entry, 0, n)
	for i := range n {
		t = append(t, entry(r, i, false))
	}
	return t
}

// entry makes table entry number i (the number keeps tuples distinct:
// it is the source port, ICMP id or GRE key). fresh entries (for -I
// lines and event triggers) use 192.0.2.128/25 sources and port
// numbers no table entry uses.
func entry(r *rand.Rand, i int, fresh bool) Entry {
	e := Entry{V6: chance(r, 0.3)}
	base := 10000
	if fresh {
		base = 40000
	}
	if e.V6 {
		e.Src, e.Dst = pick(r, v6Src()), pick(r, v6Dst())
		e.Proto = pick(r, []string{"tcp", "tcp", "udp", "udp", "icmpv6"})
	} else {
		e.Src, e.Dst = pick(r, v4Src()), pick(r, v4Dst())
		e.Proto = pick(r, []string{"tcp", "tcp", "tcp", "udp", "udp", "udp", "icmp", "sctp", "gre"})
	}
	if fresh {
		if e.V6 {
			e.Src = fmt.Sprintf("2001:db8:ff::%x", 1+r.IntN(200))
		} else {
			e.Src = fmt.Sprintf("192.0.2.%d", 128+r.IntN(120))
		}
	}
	a := []string{"-I", "-t", fmt.Sprint(pick(r, tableTimeouts())), "-s", e.Src, "-d", e.Dst}
	switch e.Proto {
	case "tcp", "udp", "sctp":
		e.Sport, e.Dport = base+i, pick(r, dports())
		a = append(a, "-p", e.Proto, "--sport", fmt.Sprint(e.Sport), "--dport", fmt.Sprint(e.Dport))
		switch e.Proto {
		case "tcp":
			e.State = pick(r, []string{"ESTABLISHED", "ESTABLISHED", "SYN_SENT", "TIME_WAIT", "CLOSE_WAIT"})
			a = append(a, "--state", e.State)
		case "sctp":
			e.State = pick(r, sctpStates())
			a = append(a, "--state", e.State, "--orig-vtag", fmt.Sprint(1+r.IntN(9)), "--reply-vtag", fmt.Sprint(1+r.IntN(9)))
		}
	case "icmp", "icmpv6":
		e.Sport, e.Dport = pick(r, []int{8, 13}), base+i
		if e.Proto == "icmpv6" {
			e.Sport = 128
		}
		a = append(a, "-p", e.Proto, "--"+e.Proto+"-type", fmt.Sprint(e.Sport), "--"+e.Proto+"-code", "0",
			"--"+e.Proto+"-id", fmt.Sprint(e.Dport))
	case "gre":
		e.Sport, e.Dport = base+i, 7
		a = append(a, "-p", "gre", "--srckey", fmt.Sprint(e.Sport), "--dstkey", "7")
	}
	switch {
	case chance(r, 0.5):
		a = append(a, "-u", pick(r, []string{"SEEN_REPLY", "SEEN_REPLY,ASSURED", "ASSURED", "FIXED_TIMEOUT"}))
	}
	if chance(r, 0.35) {
		e.Mark = pick(r, []int{1, 2, 5, 0x20, 0x21, 0x10000})
		a = append(a, "-m", fmt.Sprint(e.Mark))
	}
	switch {
	case chance(r, 0.12):
		e.Zone = pick(r, []int{1, 7})
		a = append(a, "-w", fmt.Sprint(e.Zone))
	case chance(r, 0.05):
		a = append(a, "--orig-zone", "3")
	}
	if !e.V6 && e.Proto != "icmp" && e.Proto != "gre" {
		switch {
		case chance(r, 0.12):
			a = append(a, "--src-nat", pick(r, natV4()))
		case chance(r, 0.12):
			if chance(r, 0.5) {
				a = append(a, "--dst-nat", pick(r, natV4()))
			} else {
				a = append(a, "--dst-nat", fmt.Sprintf("%s:%d", pick(r, natV4()), 8000+i))
			}
		}
	}
	e.Args = a
	return e
}

// FreshInsert is a conntrack -I command line for an entry that no table
// entry clashes with; n distinguishes fresh entries from each other.
func FreshInsert(r *rand.Rand, n int) []string {
	return entry(r, n, true).Args
}
