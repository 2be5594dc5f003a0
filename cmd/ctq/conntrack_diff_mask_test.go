//go:build linux

package main

import (
	"strings"
	"testing"
)

func TestMaskLine(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"tcp      6 431972 ESTABLISHED src=192.0.2.1 dst=192.0.2.1 sport=42002 dport=80 packets=7 bytes=672 src=192.0.2.1 dst=192.0.2.1 sport=8080 dport=42002 packets=5 bytes=568 [ASSURED] mark=0 delta-time=28 use=1",
			"tcp      6 T ESTABLISHED src=192.0.2.1 dst=192.0.2.1 sport=42002 dport=80 packets=7 bytes=672 src=192.0.2.1 dst=192.0.2.1 sport=8080 dport=42002 packets=5 bytes=568 [ASSURED] mark=0 delta-time=# use=1"},
		{"ipv4     2 icmp     1 29 src=192.0.2.1 dst=192.0.2.1 type=8 code=0 id=4661 src=192.0.2.1 dst=192.0.2.1 type=0 code=0 id=4661 mark=42 delta-time=29 [start=Sun Nov 22 23:25:33 2026] use=1 id=4187866889",
			"ipv4     2 icmp     1 T src=192.0.2.1 dst=192.0.2.1 type=8 code=0 id=4661 src=192.0.2.1 dst=192.0.2.1 type=0 code=0 id=4661 mark=42 delta-time=# [start=#] use=1 id=#"},
		{"[1795390188.132295]\t    [NEW] tcp      6 300 SYN_SENT src=198.18.4.1 dst=198.18.4.2 sport=1 dport=2 [UNREPLIED] src=198.18.4.2 dst=198.18.4.1 sport=2 dport=1 mark=0 [USERSPACE] portid=16627 progname=conntrack",
			"[TS]\t    [NEW] tcp      6 T SYN_SENT src=198.18.4.1 dst=198.18.4.2 sport=1 dport=2 [UNREPLIED] src=198.18.4.2 dst=198.18.4.1 sport=2 dport=1 mark=0 [USERSPACE] portid=#"},
		{"[DESTROY] udp      17 src=1.2.3.4 dst=1.2.3.5 sport=1 dport=2 [USERSPACE] portid=3163355229",
			"[DESTROY] udp      17 src=1.2.3.4 dst=1.2.3.5 sport=1 dport=2 [USERSPACE] portid=#"},
		{"-A -t 431971 -u SEEN_REPLY,ASSURED -s 192.0.2.1 -d 192.0.2.1 -p tcp --sport 42002",
			"-A -t T -u SEEN_REPLY,ASSURED -s 192.0.2.1 -d 192.0.2.1 -p tcp --sport 42002"},
		{"298 proto=6 src=192.0.2.1 dst=192.0.2.1 sport=0 dport=50001",
			"T proto=6 src=192.0.2.1 dst=192.0.2.1 sport=0 dport=50001"},
		{"cpu=0   \tfound=0 invalid=3 insert=3758 ",
			"cpu=0   \tfound=# invalid=# insert=# "},
		{"<flow><meta direction=\"independent\"><timeout>431963</timeout><mark>0</mark><use>1</use><id>1814512562</id><deltatime>37</deltatime></meta><when><hour>23</hour></when></flow>",
			"<flow><meta direction=\"independent\"><timeout>#</timeout><mark>0</mark><use>1</use><id>#</id><deltatime>#</deltatime></meta><when>#</when></flow>"},
	} {
		if got := maskLine(c.in); got != c.want {
			t.Errorf("maskLine(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestNormalizeSortsEntriesNotFraming(t *testing.T) {
	in := "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<conntrack>\n<flow>b</flow>\n<flow>a</flow>\n</conntrack>\n"
	want := "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<conntrack>\n<flow>a</flow>\n<flow>b</flow>\n</conntrack>\n"
	if got := normalize(in, false); got != want {
		t.Errorf("normalize = %q, want %q", got, want)
	}
	if got := normalize("b\na", true); got != "b\na" {
		t.Errorf("ordered normalize = %q", got)
	}
}

func TestLineDiff(t *testing.T) {
	d := lineDiff("A", "B", "x\ny\nz\n", "x\nq\nz\n")
	if !strings.Contains(d, "A           | y") || !strings.Contains(d, "B           | q") || !strings.Contains(d, "(2 lines alike)") ||
		strings.Contains(d, "| x") {
		t.Errorf("lineDiff:\n%s", d)
	}
}
