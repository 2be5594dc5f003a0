package savefmt

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that its errors are *Error
// values with a column inside the line, and that what it accepts satisfies
// the invariants of checkInvariants.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"-A -t 431971 -u SEEN_REPLY,ASSURED -s 192.0.2.1 -d 192.0.2.1 -r 192.0.2.1 -q 192.0.2.1 -p tcp --sport 42002 --dport 80 --reply-port-src 8080 --reply-port-dst 42002 --state ESTABLISHED",
		"-A -t 266 -u UNSET -s 198.18.0.7 -d 203.0.113.11 -g 192.0.2.80 -q 198.18.0.7 -p tcp --sport 2002 --dport 80 --reply-port-src 8080 --reply-port-dst 2002 --state ESTABLISHED",
		"-A -t 15 -u UNSET -s 198.18.0.15 -d 198.18.0.16 -r 198.18.0.16 -q 198.18.0.15 -p sctp --sport 3000 --dport 3001 --reply-port-src 3001 --reply-port-dst 3000 --state ESTABLISHED --orig-vtag 1 --reply-vtag 2",
		"-A -t 16 -u UNSET -s 198.18.0.11 -d 198.18.0.12 -r 198.18.0.12 -q 198.18.0.11 -p gre --srckey 5 --dstkey 6 --reply-key-src 6 --reply-key-dst 5",
		"-A -t 3599 -u UNSET -s 2001:db8::10 -d 2001:db8::20 -r 2001:db8::20 -q 2001:db8::10 -p icmpv6 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 99",
		"-D -t 3594 -u UNSET -s 198.18.1.10 -d 198.18.1.11 -r 198.18.1.11 -q 198.18.1.10 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 77",
		"-A -t 63 -u UNSET -w 11 --orig-zone 5 -s 198.18.0.3 -d 198.18.0.4 -p udp --sport 53000 --dport 53",
		"-I -f ipv6 -r 2001:db8::2 -q 2001:db8::1 -p udp --reply-port-src 53 --reply-port-dst 1000 -t 10 -m 0x10/0xff",
		"-A conntrack -t5 --proto=dccp --sport 1 --dport=2 --state OPEN --role SERV -s198.18.0.1 -d 198.18.0.2",
		"-A -t 5 -s 2001:db8::30 -d 2001:db8::40 -p tcp --sport 7 --dport 8 --dst-nat [2001:db8::50]:9",
		`-U "-u" "a,seen" -s 198.18.4.1 -p 6 [USERSPACE] portid=1 progname=x`,
		"-F -f ipv4",
		`-A -s "192.0.2.1`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		l, err := Parse(line)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Parse(%q) error %v is not an *Error", line, err)
			}
			if e.Col < 1 || e.Col > len(line)+1 {
				t.Fatalf("Parse(%q): column %d outside the line", line, e.Col)
			}
			return
		}
		checkInvariants(t, line, l)
	})
}
