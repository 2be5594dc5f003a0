package ctargs

import (
	"os"
	"testing"
)

func TestUsage(t *testing.T) {
	want, err := os.ReadFile("testdata/help.txt")
	if err != nil {
		t.Fatal(err)
	}
	if Usage() != string(want) {
		t.Errorf("Usage() differs from conntrack -h:\n%s", Usage())
	}
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-h", "expect"}} {
		c, err := Parse(args, testEnv())
		if err != nil || c.Op != OpHelp || c.HelpText() != string(want) {
			t.Errorf("%q: %v %+v", args, err, c)
		}
	}
	c, err := Parse(nil, testEnv())
	if err != nil || c.Op != OpNone {
		t.Errorf("no arguments: %v %+v", err, c)
	}
	c, err = Parse([]string{"foo", "bar"}, testEnv())
	if err != nil || c.Op != OpNone {
		t.Errorf("stray words: %v %+v", err, c)
	}
}

func TestProtoHelp(t *testing.T) {
	// The recorded help of conntrack -h -p P, with /etc/protocols
	// naming 0 ip, 6 tcp, 50 esp and 58 ipv6-icmp.
	for _, p := range []string{"tcp", "udp", "udplite", "sctp", "dccp", "icmp", "icmpv6", "gre", "50", "200", "0", "6", "esp", "IPv6-ICMP"} {
		want, err := os.ReadFile("testdata/help-" + p + ".txt")
		if err != nil {
			t.Fatal(err)
		}
		c, err := Parse([]string{"-h", "-p", p}, testEnv())
		if err != nil {
			t.Errorf("-h -p %s: %v", p, err)
			continue
		}
		if got := c.HelpText(); got != string(want) {
			t.Errorf("-h -p %s:\n%s\nwant\n%s", p, got, want)
		}
	}
	if got := ProtoHelp("tcp"); got[:len("Proto `tcp' help:\n  --orig-port-src")] != "Proto `tcp' help:\n  --orig-port-src" {
		t.Errorf("ProtoHelp(tcp) = %q", got)
	}
	if got := ProtoHelp("esp"); got != "Proto `esp' help:\n  no options (unsupported)\n" {
		t.Errorf("ProtoHelp(esp) = %q", got)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"-V"}, {"--version"}, {"--vers"}, {"-V", "expect"}} {
		c, err := Parse(args, testEnv())
		if err != nil || c.Op != OpVersion {
			t.Errorf("%q: %v %+v", args, err, c)
		}
	}
	if Version != "conntrack v1.4.7 (conntrack-tools)" {
		t.Error(Version)
	}
}
