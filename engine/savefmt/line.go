// Package savefmt parses conntrack(8) command lines of the kind
// `conntrack -L -o save` prints and `conntrack -R` loads, such as
//
//	-A -t 431971 -u SEEN_REPLY,ASSURED -s 192.0.2.1 -d 192.0.2.1 -r 192.0.2.1 -q 192.0.2.1 -p tcp --sport 42002 --dport 80 --reply-port-src 8080 --reply-port-dst 42002 --state ESTABLISHED
//
// into an engine.Flow. It accepts what conntrack 1.4.7 accepts for the
// commands a load file may hold (-A -I -U -D -F), with the same option names,
// aliases, unique long-option prefixes and --opt=value forms, but it is
// strict where conntrack is sloppy: numbers must be in range and free of
// garbage, options may not repeat, ambiguous or unknown status flags and
// stray words are errors, and -n/-g take the meaning the save format gives
// them (the reply tuple's destination and source address).
package savefmt

import (
	"fmt"

	"ctq/internal/quote"

	"ctq/engine"
)

// Command is the conntrack command letter of a line: 'A' (-A/--add), 'I'
// (-I/--create), 'U' (-U/--update), 'D' (-D/--delete) or 'F' (-F/--flush).
type Command byte

// The commands a line may carry.
const (
	CmdAdd    Command = 'A'
	CmdCreate Command = 'I'
	CmdUpdate Command = 'U'
	CmdDelete Command = 'D'
	CmdFlush  Command = 'F'
)

// String is the command's short option, "-A".
func (c Command) String() string {
	return "-" + string(rune(c))
}

// Fields is a set of options given on a line (aliases count as one).
type Fields uint64

// The options a Line records. GRE keys (--srckey ...) are recorded as the
// port fields they are stored in, ICMPv6 options as the ICMP ones.
const (
	FieldFamily     Fields = 1 << iota // -f
	FieldTimeout                       // -t
	FieldStatus                        // -u
	FieldMark                          // -m
	FieldSecmark                       // -c
	FieldID                            // -i
	FieldZone                          // -w
	FieldOrigZone                      // --orig-zone
	FieldReplyZone                     // --reply-zone
	FieldSrc                           // -s
	FieldDst                           // -d
	FieldReplySrc                      // -r
	FieldReplyDst                      // -q
	FieldSrcNAT                        // -n (reply destination address)
	FieldDstNAT                        // -g (reply source address)
	FieldProto                         // -p
	FieldSport                         // --sport, --srckey
	FieldDport                         // --dport, --dstkey
	FieldReplySport                    // --reply-port-src, --reply-key-src
	FieldReplyDport                    // --reply-port-dst, --reply-key-dst
	FieldState                         // --state
	FieldOrigVtag                      // --orig-vtag
	FieldReplyVtag                     // --reply-vtag
	FieldRole                          // --role
	FieldICMPType                      // --icmp-type, --icmpv6-type
	FieldICMPCode                      // --icmp-code, --icmpv6-code
	FieldICMPID                        // --icmp-id, --icmpv6-id
)

// Has reports whether every field of want is in s.
func (s Fields) Has(want Fields) bool {
	return s&want == want
}

// Line is one parsed line.
//
// Flow holds what the line gives, converted as conntrack does it: the
// family from the addresses (or -f), -n ADDR[:PORT] as the reply
// destination (and reply destination port), -g ADDR[:PORT] as the reply
// source, -u as Status, and a missing tuple field derived by inverting the
// other direction (reply source = original destination, reply ports =
// swapped original ports, reply ICMP type = the kernel's pair of the
// original type). Set says which options were actually given, so a
// caller using a -D or -U line as a filter can tell given fields from
// derived ones. Fields of options that were not given are zero (Proto and
// Family stay empty without -p or an address).
type Line struct {
	Cmd  Command
	Flow engine.Flow
	Set  Fields
	// MarkMask is the mask of -m MARK/MASK, 0xffffffff when none was given.
	MarkMask uint32
}

// Error is a parse error at a column of the line.
type Error struct {
	// Col is the 1-based byte column of the offending word.
	Col int
	// Msg says what is wrong, in conntrack's words where it has some.
	Msg string
}

// Error renders "column COL: MSG", with the control characters the
// message quotes from the line escaped (\x1b).
func (e *Error) Error() string {
	return fmt.Sprintf("column %d: %s", e.Col, quote.Escape(e.Msg))
}
