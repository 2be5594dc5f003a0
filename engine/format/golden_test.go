package format

import (
	"bytes"
	"testing"
	"time"

	"ctq/engine"
)

const (
	sr   = engine.StatusSeenReply
	as   = engine.StatusAssured
	snat = engine.StatusSrcNAT | engine.StatusSrcNATDone
	dnat = engine.StatusDstNAT | engine.StatusDstNATDone
)

// ago is the unix second delta seconds before now0.
func ago(delta int64) int64 { return now0.Unix() - delta }

// Flows of the captures (conntrack-captures/*.txt), built by hand.
var (
	// formats_v4real.txt
	v4udp42005 = flow("ipv4", 17, "192.0.2.1", "192.0.2.1", 42005, 5001).reply("192.0.2.1", "192.0.2.1", 5001, 42005).
			timeout(2).status(sr).counters(2, 156, 2, 156).mark(42).started(ago(28), 0).use(1).id(4187866889).build()
	v4icmp4660 = flow("ipv4", 1, "192.0.2.1", "192.0.2.1", 0, 0).reply("192.0.2.1", "192.0.2.1", 0, 0).icmp(8, 0, 4660, 0, 0, 4660).
			timeout(2).status(sr).counters(1, 32, 1, 32).mark(0).started(ago(28), 0).use(1).id(2416446559).build()
	v4tcp42002 = flow("ipv4", 6, "192.0.2.1", "192.0.2.1", 42002, 80).reply("192.0.2.1", "192.0.2.1", 8080, 42002).
			timeout(431972).state(3).status(sr|as|dnat).counters(7, 672, 5, 568).mark(0).started(1795389933, 917535910).use(1).id(1814512562).build()
	v4udp41004 = flow("ipv4", 17, "192.0.2.1", "198.51.100.1", 41004, 5353).reply("198.51.100.1", "192.0.2.2", 5353, 41004).
			timeout(29).status(sr|snat).counters(2, 156, 2, 156).mark(0).started(ago(0), 0).use(1).id(4004027200).build()
	v4icmp4661 = flow("ipv4", 1, "192.0.2.1", "192.0.2.1", 0, 0).reply("192.0.2.1", "192.0.2.1", 0, 0).icmp(8, 0, 4661, 0, 0, 4661).
			timeout(28).status(sr).counters(1, 32, 1, 32).mark(0).started(ago(0), 0).use(1).id(1008888252).build()

	// formats_synth.txt
	v6tcp = flow("ipv6", 6, "2001:db8::1", "2001:db8::1", 42003, 8080).reply("2001:db8::1", "2001:db8::1", 8080, 42003).
		timeout(431958).state(3).status(sr|as).counters(7, 812, 5, 668).mark(0).started(ago(42), 0).use(1).id(1764219986).build()
	v6icmp = flow("ipv6", 58, "2001:db8::10", "2001:db8::20", 0, 0).reply("2001:db8::20", "2001:db8::10", 0, 0).icmp(128, 0, 99, 129, 0, 99).
		timeout(29).status(0).counters(0, 0, 0, 0).mark(0).started(ago(31), 0).use(1).id(198516705).build()
	v6udpMark = flow("ipv6", 17, "2001:db8::10", "2001:db8::20", 5000, 5001).reply("2001:db8::20", "2001:db8::10", 5001, 5000).
			timeout(59).status(0).counters(0, 0, 0, 0).mark(16).started(ago(31), 0).use(1).id(2360851502).build()
	snat5 = flow("ipv4", 6, "198.18.0.5", "203.0.113.10", 2000, 443).reply("203.0.113.10", "198.51.100.77", 443, 2000).
		timeout(268).state(3).status(snat).counters(0, 0, 0, 0).mark(0).started(ago(32), 0).use(1).id(3571198146).build()
	snat6 = flow("ipv4", 6, "198.18.0.6", "203.0.113.10", 2001, 443).reply("203.0.113.10", "198.51.100.77", 443, 61000).
		timeout(267).state(3).status(snat).counters(0, 0, 0, 0).mark(0).started(ago(33), 0).use(1).id(3395545853).build()
	dnat7 = flow("ipv4", 6, "198.18.0.7", "203.0.113.11", 2002, 80).reply("192.0.2.80", "198.18.0.7", 8080, 2002).
		timeout(266).state(3).status(dnat).counters(0, 0, 0, 0).mark(0).started(ago(34), 0).use(1).id(1981971538).build()
	explicit8 = flow("ipv4", 17, "198.18.0.8", "203.0.113.12", 2003, 53).reply("192.0.2.53", "198.51.100.99", 5353, 2003).
			timeout(274).status(0).counters(0, 0, 0, 0).mark(0).started(ago(25), 0).use(1).id(2793476584).build()
	zone11 = flow("ipv4", 17, "198.18.0.3", "198.18.0.4", 53000, 53).reply("198.18.0.4", "198.18.0.3", 53, 53000).
		timeout(63).status(0).counters(0, 0, 0, 0).mark(0).zone(11).started(ago(37), 0).use(1).id(751901661).build()
	origZone5 = flow("ipv4", 6, "198.18.0.19", "198.18.0.20", 1, 2).reply("198.18.0.20", "198.18.0.19", 2, 1).
			timeout(59).state(3).status(0).origZone(5).counters(0, 0, 0, 0).mark(0).started(ago(0), 0).use(1).build()
	replyZone6 = flow("ipv4", 6, "198.18.0.25", "198.18.0.26", 1, 2).reply("198.18.0.26", "198.18.0.25", 2, 1).
			timeout(30).state(3).status(0).replyZone(6).counters(0, 0, 0, 0).mark(0).started(ago(30), 0).use(1).id(2922834916).build()
	unknown50 = flow("ipv4", 50, "198.18.0.13", "198.18.0.14", 0, 0).reply("198.18.0.14", "198.18.0.13", 0, 0).
			timeout(19).status(0).counters(0, 0, 0, 0).mark(0).started(ago(41), 0).use(1).id(191868822).build()
	gre11 = flow("ipv4", 47, "198.18.0.11", "198.18.0.12", 5, 6).reply("198.18.0.12", "198.18.0.11", 6, 5).
		timeout(17).status(0).counters(0, 0, 0, 0).mark(0).started(ago(43), 0).use(1).id(2224765262).build()
	sctp15 = flow("ipv4", 132, "198.18.0.15", "198.18.0.16", 3000, 3001).reply("198.18.0.16", "198.18.0.15", 3001, 3000).
		timeout(16).state(4).vtags(1, 2).status(0).counters(0, 0, 0, 0).mark(0).started(ago(45), 0).use(1).id(978571780).build()
	udplite17 = flow("ipv4", 136, "198.18.0.17", "198.18.0.18", 4000, 4001).reply("198.18.0.18", "198.18.0.17", 4001, 4000).
			timeout(14).status(0).counters(0, 0, 0, 0).mark(0).started(ago(46), 0).use(1).id(4138001747).build()
	timeWait36 = flow("ipv4", 6, "198.18.0.36", "198.18.0.37", 1, 2).reply("198.18.0.37", "198.18.0.36", 2, 1).
			timeout(22).state(7).status(engine.StatusFixedTimeout).counters(0, 0, 0, 0).mark(0).started(ago(38), 0).use(1).id(3185743598).build()
	assured1 = flow("ipv4", 6, "198.18.0.1", "198.18.0.2", 1111, 80).reply("198.18.0.2", "198.18.0.1", 80, 1111).
			timeout(549).state(3).status(sr|as).counters(0, 0, 0, 0).mark(7).started(ago(51), 0).use(1).id(2851171218).build()
	synSent1 = flow("ipv4", 6, "198.18.0.1", "198.18.0.2", 1112, 80).reply("198.18.0.2", "198.18.0.1", 80, 1112).
			timeout(69).state(1).status(0).counters(0, 0, 0, 0).mark(0).started(ago(51), 0).use(1).id(4227291305).build()
	v6dnat = flow("ipv6", 6, "2001:db8::30", "2001:db8::40", 7, 8).reply("2001:db8::50", "2001:db8::30", 9, 7).
		timeout(3599).state(3).status(dnat).counters(0, 0, 0, 0).mark(0).started(ago(1), 0).use(1).build()

	// labels.txt, labels2.txt
	labelsWeb = flow("ipv4", 17, "192.0.2.1", "192.0.2.1", 44001, 5001).reply("192.0.2.1", "192.0.2.1", 5001, 44001).
			timeout(29).status(sr).counters(1, 29, 1, 29).mark(42).started(ago(0), 0).use(1).id(1797062006).labels(0).build()
	labelsDB = flow("ipv4", 17, "192.0.2.1", "198.51.100.1", 44002, 5353).reply("198.51.100.1", "192.0.2.2", 5353, 44002).
			timeout(29).status(sr|snat).counters(1, 29, 1, 29).mark(0).started(ago(0), 0).use(1).labels(1).build()
	labelsTwo = flow("ipv4", 6, "198.18.6.3", "198.18.6.4", 1, 2).reply("198.18.6.4", "198.18.6.3", 2, 1).
			timeout(899).state(3).status(0).counters(0, 0, 0, 0).mark(0).started(ago(0), 0).use(1).labels(3, 2).build()
	labelsNoName = flow("ipv4", 6, "198.18.6.3", "198.18.6.4", 1, 2).reply("198.18.6.4", "198.18.6.3", 2, 1).
			timeout(899).state(3).status(0).counters(0, 0, 0, 0).mark(0).started(ago(0), 0).use(1).labels(77).build()

	// conntrack-cli.md §4.1 and list_all.txt
	helperFTP = flow("ipv4", 6, "192.0.2.1", "192.0.2.1", 43021, 21).reply("192.0.2.1", "192.0.2.1", 21, 43021).
			timeout(431998).state(3).status(sr|as|engine.StatusHelper).counters(6, 349, 5, 331).mark(0).started(ago(2), 0).helper("ftp").use(1).build()
	synSent2 = flow("ipv4", 6, "198.18.0.38", "198.18.0.39", 1, 2).reply("198.18.0.39", "198.18.0.38", 2, 1).
			timeout(59).state(9).status(0).counters(0, 0, 0, 0).mark(0).started(ago(0), 0).use(1).build()
	markMax = flow("ipv4", 6, "198.18.0.46", "198.18.0.47", 1, 2).reply("198.18.0.47", "198.18.0.46", 2, 1).
		timeout(59).state(3).status(0).counters(0, 0, 0, 0).mark(4294967295).started(ago(0), 0).use(1).build()
	hugeTimeout = flow("ipv4", 6, "198.18.0.52", "198.18.0.53", 1, 2).reply("198.18.0.53", "198.18.0.52", 2, 1).
			timeout(8589934).state(3).status(0).counters(0, 0, 0, 0).mark(0).started(ago(0), 0).use(1).build()
	dccpNoState = flow("ipv4", 33, "198.18.0.56", "198.18.0.57", 0, 0).reply("198.18.0.57", "198.18.0.56", 0, 0).
			timeout(59).status(0).counters(0, 0, 0, 0).mark(0).started(ago(0), 0).use(1).build()
	noAcct = flow("ipv4", 17, "198.18.9.1", "198.18.9.2", 1, 2).reply("198.18.9.2", "198.18.9.1", 2, 1).
		timeout(899).status(0).mark(0).use(1).build()
	icmp77 = flow("ipv4", 1, "198.18.1.10", "198.18.1.11", 0, 0).reply("198.18.1.11", "198.18.1.10", 0, 0).icmp(8, 0, 77, 0, 0, 77).
		timeout(3594).status(0).counters(0, 0, 0, 0).mark(0).started(ago(6), 0).use(1).build()

	// Events (ev_*.out): kernel event payloads carry no use, and no mark
	// when it is 0 and unchanged.
	evNew = flow("ipv4", 6, "198.18.4.1", "198.18.4.2", 1, 2).reply("198.18.4.2", "198.18.4.1", 2, 1).
		timeout(300).state(1).status(0).mark(0).id(624821408).build()
	evUpdate = flow("ipv4", 6, "198.18.4.1", "198.18.4.2", 1, 2).reply("198.18.4.2", "198.18.4.1", 2, 1).
			timeout(299).state(3).status(0).mark(5).id(624821408).build()
	evDestroy = flow("ipv4", 6, "198.18.4.1", "198.18.4.2", 1, 2).reply("198.18.4.2", "198.18.4.1", 2, 1).
			timeout(299).state(3).status(0).counters(0, 0, 0, 0).mark(5).started(1795390200, 120000000).stopped(1795390201, 50000000).id(624821408).build()
	evDestroy6 = flow("ipv6", 17, "2001:db8::41", "2001:db8::42", 1, 2).reply("2001:db8::42", "2001:db8::41", 2, 1).
			timeout(299).status(0).counters(0, 0, 0, 0).started(1795390200, 500000000).stopped(1795390200, 900000000).id(3621994913).build()
	evAssured = flow("ipv4", 6, "192.0.2.1", "192.0.2.1", 49686, 8080).reply("192.0.2.1", "192.0.2.1", 8080, 49686).
			timeout(432000).state(3).status(sr | as).build()
)

// golden is one captured output line and the flow behind it.
type golden struct {
	name   string
	flow   engine.Flow
	format string // a New name, or "event-text", "event-save", "event-xml"
	ev     Event
	flags  TextFlags // for the event formats
	now    time.Time // zero: now0
	labels map[int]string
	want   string // one line, without the newline
}

var goldens = []golden{
	// formats_v4real.txt
	{name: "udp text", flow: v4udp42005, format: "text",
		want: "udp      17 2 src=192.0.2.1 dst=192.0.2.1 sport=42005 dport=5001 packets=2 bytes=156 src=192.0.2.1 dst=192.0.2.1 sport=5001 dport=42005 packets=2 bytes=156 mark=42 delta-time=28 use=1"},
	{name: "udp extended", flow: v4udp42005, format: "extended",
		want: "ipv4     2 udp      17 2 src=192.0.2.1 dst=192.0.2.1 sport=42005 dport=5001 packets=2 bytes=156 src=192.0.2.1 dst=192.0.2.1 sport=5001 dport=42005 packets=2 bytes=156 mark=42 delta-time=28 use=1"},
	{name: "udp id", flow: v4udp42005, format: "id",
		want: "udp      17 2 src=192.0.2.1 dst=192.0.2.1 sport=42005 dport=5001 packets=2 bytes=156 src=192.0.2.1 dst=192.0.2.1 sport=5001 dport=42005 packets=2 bytes=156 mark=42 delta-time=28 use=1 id=4187866889"},
	{name: "udp ktimestamp", flow: v4udp42005, format: "ktimestamp",
		want: "udp      17 2 src=192.0.2.1 dst=192.0.2.1 sport=42005 dport=5001 packets=2 bytes=156 src=192.0.2.1 dst=192.0.2.1 sport=5001 dport=42005 packets=2 bytes=156 mark=42 delta-time=28 [start=Sun Nov 22 23:25:33 2026] use=1"},
	{name: "udp extended,id,ktimestamp", flow: v4udp42005, format: "extended,id,ktimestamp", now: now0.Add(time.Second),
		want: "ipv4     2 udp      17 2 src=192.0.2.1 dst=192.0.2.1 sport=42005 dport=5001 packets=2 bytes=156 src=192.0.2.1 dst=192.0.2.1 sport=5001 dport=42005 packets=2 bytes=156 mark=42 delta-time=29 [start=Sun Nov 22 23:25:33 2026] use=1 id=4187866889"},
	{name: "udp save", flow: v4udp42005, format: "save",
		want: "-A -t 2 -u SEEN_REPLY -s 192.0.2.1 -d 192.0.2.1 -r 192.0.2.1 -q 192.0.2.1 -p udp --sport 42005 --dport 5001 --reply-port-src 5001 --reply-port-dst 42005"},
	{name: "icmp text", flow: v4icmp4660, format: "text",
		want: "icmp     1 2 src=192.0.2.1 dst=192.0.2.1 type=8 code=0 id=4660 packets=1 bytes=32 src=192.0.2.1 dst=192.0.2.1 type=0 code=0 id=4660 packets=1 bytes=32 mark=0 delta-time=28 use=1"},
	{name: "icmp id", flow: v4icmp4660, format: "id",
		want: "icmp     1 2 src=192.0.2.1 dst=192.0.2.1 type=8 code=0 id=4660 packets=1 bytes=32 src=192.0.2.1 dst=192.0.2.1 type=0 code=0 id=4660 packets=1 bytes=32 mark=0 delta-time=28 use=1 id=2416446559"},
	{name: "icmp extended,id,ktimestamp", flow: v4icmp4661, format: "extended,id,ktimestamp", now: now0.Add(time.Second),
		want: "ipv4     2 icmp     1 28 src=192.0.2.1 dst=192.0.2.1 type=8 code=0 id=4661 packets=1 bytes=32 src=192.0.2.1 dst=192.0.2.1 type=0 code=0 id=4661 packets=1 bytes=32 mark=0 delta-time=1 [start=Sun Nov 22 23:26:01 2026] use=1 id=1008888252"},
	{name: "icmp save", flow: v4icmp4661, format: "save",
		want: "-A -t 28 -u SEEN_REPLY -s 192.0.2.1 -d 192.0.2.1 -r 192.0.2.1 -q 192.0.2.1 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 4661"},
	{name: "tcp port dnat text", flow: v4tcp42002, format: "text",
		want: "tcp      6 431972 ESTABLISHED src=192.0.2.1 dst=192.0.2.1 sport=42002 dport=80 packets=7 bytes=672 src=192.0.2.1 dst=192.0.2.1 sport=8080 dport=42002 packets=5 bytes=568 [ASSURED] mark=0 delta-time=28 use=1"},
	{name: "tcp port dnat ktimestamp", flow: v4tcp42002, format: "ktimestamp",
		want: "tcp      6 431972 ESTABLISHED src=192.0.2.1 dst=192.0.2.1 sport=42002 dport=80 packets=7 bytes=672 src=192.0.2.1 dst=192.0.2.1 sport=8080 dport=42002 packets=5 bytes=568 [ASSURED] mark=0 delta-time=28 [start=Sun Nov 22 23:25:33 2026] use=1"},
	{name: "tcp port dnat save", flow: v4tcp42002, format: "save",
		want: "-A -t 431972 -u SEEN_REPLY,ASSURED -s 192.0.2.1 -d 192.0.2.1 -r 192.0.2.1 -q 192.0.2.1 -p tcp --sport 42002 --dport 80 --reply-port-src 8080 --reply-port-dst 42002 --state ESTABLISHED"},
	{name: "udp snat text", flow: v4udp41004, format: "text",
		want: "udp      17 29 src=192.0.2.1 dst=198.51.100.1 sport=41004 dport=5353 packets=2 bytes=156 src=198.51.100.1 dst=192.0.2.2 sport=5353 dport=41004 packets=2 bytes=156 mark=0 delta-time=0 use=1"},
	{name: "udp snat save", flow: v4udp41004, format: "save",
		want: "-A -t 29 -u SEEN_REPLY -s 192.0.2.1 -d 198.51.100.1 -r 198.51.100.1 -n 192.0.2.2 -p udp --sport 41004 --dport 5353 --reply-port-src 5353 --reply-port-dst 41004"},

	// formats_synth.txt
	{name: "ipv6 tcp text", flow: v6tcp, format: "text",
		want: "tcp      6 431958 ESTABLISHED src=2001:db8::1 dst=2001:db8::1 sport=42003 dport=8080 packets=7 bytes=812 src=2001:db8::1 dst=2001:db8::1 sport=8080 dport=42003 packets=5 bytes=668 [ASSURED] mark=0 delta-time=42 use=1"},
	{name: "ipv6 tcp extended", flow: v6tcp, format: "extended",
		want: "ipv6     10 tcp      6 431958 ESTABLISHED src=2001:db8::1 dst=2001:db8::1 sport=42003 dport=8080 packets=7 bytes=812 src=2001:db8::1 dst=2001:db8::1 sport=8080 dport=42003 packets=5 bytes=668 [ASSURED] mark=0 delta-time=42 use=1"},
	{name: "ipv6 tcp save", flow: v6tcp, format: "save",
		want: "-A -t 431958 -u SEEN_REPLY,ASSURED -s 2001:db8::1 -d 2001:db8::1 -r 2001:db8::1 -q 2001:db8::1 -p tcp --sport 42003 --dport 8080 --reply-port-src 8080 --reply-port-dst 42003 --state ESTABLISHED"},
	{name: "ipv6 tcp xml", flow: v6tcp, format: "xml",
		want: `<flow><meta direction="original"><layer3 protonum="10" protoname="ipv6"><src>2001:db8::1</src><dst>2001:db8::1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>42003</sport><dport>8080</dport></layer4><counters><packets>7</packets><bytes>812</bytes></counters></meta><meta direction="reply"><layer3 protonum="10" protoname="ipv6"><src>2001:db8::1</src><dst>2001:db8::1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>8080</sport><dport>42003</dport></layer4><counters><packets>5</packets><bytes>668</bytes></counters></meta><meta direction="independent"><state>ESTABLISHED</state><timeout>431958</timeout><mark>0</mark><use>1</use><id>1764219986</id><assured/><deltatime>42</deltatime></meta></flow>`},
	{name: "icmpv6 text", flow: v6icmp, format: "text",
		want: "icmpv6   58 29 src=2001:db8::10 dst=2001:db8::20 type=128 code=0 id=99 packets=0 bytes=0 [UNREPLIED] src=2001:db8::20 dst=2001:db8::10 type=129 code=0 id=99 packets=0 bytes=0 mark=0 delta-time=31 use=1"},
	{name: "icmpv6 extended", flow: v6icmp, format: "extended",
		want: "ipv6     10 icmpv6   58 29 src=2001:db8::10 dst=2001:db8::20 type=128 code=0 id=99 packets=0 bytes=0 [UNREPLIED] src=2001:db8::20 dst=2001:db8::10 type=129 code=0 id=99 packets=0 bytes=0 mark=0 delta-time=31 use=1"},
	{name: "icmpv6 save", flow: v6icmp, format: "save",
		want: "-A -t 29 -u UNSET -s 2001:db8::10 -d 2001:db8::20 -r 2001:db8::20 -q 2001:db8::10 -p icmpv6 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 99"},
	{name: "icmpv6 xml", flow: v6icmp, format: "xml",
		want: `<flow><meta direction="original"><layer3 protonum="10" protoname="ipv6"><src>2001:db8::10</src><dst>2001:db8::20</dst></layer3><layer4 protonum="58" protoname="icmpv6"></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="reply"><layer3 protonum="10" protoname="ipv6"><src>2001:db8::20</src><dst>2001:db8::10</dst></layer3><layer4 protonum="58" protoname="icmpv6"></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="independent"><timeout>29</timeout><mark>0</mark><use>1</use><id>198516705</id><unreplied/><deltatime>31</deltatime></meta></flow>`},
	{name: "ipv6 udp mark xml", flow: v6udpMark, format: "xml",
		want: `<flow><meta direction="original"><layer3 protonum="10" protoname="ipv6"><src>2001:db8::10</src><dst>2001:db8::20</dst></layer3><layer4 protonum="17" protoname="udp"><sport>5000</sport><dport>5001</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="reply"><layer3 protonum="10" protoname="ipv6"><src>2001:db8::20</src><dst>2001:db8::10</dst></layer3><layer4 protonum="17" protoname="udp"><sport>5001</sport><dport>5000</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="independent"><timeout>59</timeout><mark>16</mark><use>1</use><id>2360851502</id><unreplied/><deltatime>31</deltatime></meta></flow>`},
	{name: "snat text", flow: snat5, format: "text",
		want: "tcp      6 268 ESTABLISHED src=198.18.0.5 dst=203.0.113.10 sport=2000 dport=443 packets=0 bytes=0 [UNREPLIED] src=203.0.113.10 dst=198.51.100.77 sport=443 dport=2000 packets=0 bytes=0 mark=0 delta-time=32 use=1"},
	{name: "snat save", flow: snat5, format: "save",
		want: "-A -t 268 -u UNSET -s 198.18.0.5 -d 203.0.113.10 -r 203.0.113.10 -n 198.51.100.77 -p tcp --sport 2000 --dport 443 --reply-port-src 443 --reply-port-dst 2000 --state ESTABLISHED"},
	{name: "snat port save", flow: snat6, format: "save",
		want: "-A -t 267 -u UNSET -s 198.18.0.6 -d 203.0.113.10 -r 203.0.113.10 -n 198.51.100.77 -p tcp --sport 2001 --dport 443 --reply-port-src 443 --reply-port-dst 61000 --state ESTABLISHED"},
	{name: "dnat extended", flow: dnat7, format: "extended",
		want: "ipv4     2 tcp      6 266 ESTABLISHED src=198.18.0.7 dst=203.0.113.11 sport=2002 dport=80 packets=0 bytes=0 [UNREPLIED] src=192.0.2.80 dst=198.18.0.7 sport=8080 dport=2002 packets=0 bytes=0 mark=0 delta-time=34 use=1"},
	{name: "dnat save", flow: dnat7, format: "save",
		want: "-A -t 266 -u UNSET -s 198.18.0.7 -d 203.0.113.11 -g 192.0.2.80 -q 198.18.0.7 -p tcp --sport 2002 --dport 80 --reply-port-src 8080 --reply-port-dst 2002 --state ESTABLISHED"},
	{name: "explicit reply save", flow: explicit8, format: "save",
		want: "-A -t 274 -u UNSET -s 198.18.0.8 -d 203.0.113.12 -r 192.0.2.53 -q 198.51.100.99 -p udp --sport 2003 --dport 53 --reply-port-src 5353 --reply-port-dst 2003"},
	{name: "explicit reply text", flow: explicit8, format: "text",
		want: "udp      17 274 src=198.18.0.8 dst=203.0.113.12 sport=2003 dport=53 packets=0 bytes=0 [UNREPLIED] src=192.0.2.53 dst=198.51.100.99 sport=5353 dport=2003 packets=0 bytes=0 mark=0 delta-time=25 use=1"},
	{name: "zone extended", flow: zone11, format: "extended",
		want: "ipv4     2 udp      17 63 src=198.18.0.3 dst=198.18.0.4 sport=53000 dport=53 packets=0 bytes=0 [UNREPLIED] src=198.18.0.4 dst=198.18.0.3 sport=53 dport=53000 packets=0 bytes=0 mark=0 zone=11 delta-time=37 use=1"},
	{name: "zone save", flow: zone11, format: "save",
		want: "-A -t 63 -u UNSET -w 11 -s 198.18.0.3 -d 198.18.0.4 -r 198.18.0.4 -q 198.18.0.3 -p udp --sport 53000 --dport 53 --reply-port-src 53 --reply-port-dst 53000"},
	{name: "zone xml", flow: zone11, format: "xml",
		want: `<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.3</src><dst>198.18.0.4</dst></layer3><layer4 protonum="17" protoname="udp"><sport>53000</sport><dport>53</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.4</src><dst>198.18.0.3</dst></layer3><layer4 protonum="17" protoname="udp"><sport>53</sport><dport>53000</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="independent"><timeout>63</timeout><mark>0</mark><zone>11</zone><use>1</use><id>751901661</id><unreplied/><deltatime>37</deltatime></meta></flow>`},
	{name: "orig zone text", flow: origZone5, format: "text",
		want: "tcp      6 59 ESTABLISHED src=198.18.0.19 dst=198.18.0.20 sport=1 dport=2 zone-orig=5 packets=0 bytes=0 [UNREPLIED] src=198.18.0.20 dst=198.18.0.19 sport=2 dport=1 packets=0 bytes=0 mark=0 delta-time=0 use=1"},
	{name: "orig zone save", flow: origZone5, format: "save",
		want: "-A -t 59 -u UNSET --orig-zone 5 -s 198.18.0.19 -d 198.18.0.20 -r 198.18.0.20 -q 198.18.0.19 -p tcp --sport 1 --dport 2 --reply-port-src 2 --reply-port-dst 1 --state ESTABLISHED"},
	{name: "reply zone extended", flow: replyZone6, format: "extended",
		want: "ipv4     2 tcp      6 30 ESTABLISHED src=198.18.0.25 dst=198.18.0.26 sport=1 dport=2 packets=0 bytes=0 [UNREPLIED] src=198.18.0.26 dst=198.18.0.25 sport=2 dport=1 zone-reply=6 packets=0 bytes=0 mark=0 delta-time=30 use=1"},
	{name: "reply zone save", flow: replyZone6, format: "save",
		want: "-A -t 30 -u UNSET --reply-zone 6 -s 198.18.0.25 -d 198.18.0.26 -r 198.18.0.26 -q 198.18.0.25 -p tcp --sport 1 --dport 2 --reply-port-src 2 --reply-port-dst 1 --state ESTABLISHED"},
	{name: "reply zone xml", flow: replyZone6, format: "xml",
		want: `<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.25</src><dst>198.18.0.26</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>1</sport><dport>2</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.26</src><dst>198.18.0.25</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>2</sport><dport>1</dport></layer4><zone>6</zone><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="independent"><state>ESTABLISHED</state><timeout>30</timeout><mark>0</mark><use>1</use><id>2922834916</id><unreplied/><deltatime>30</deltatime></meta></flow>`},
	{name: "unknown proto text", flow: unknown50, format: "text",
		want: "unknown  50 19 src=198.18.0.13 dst=198.18.0.14 packets=0 bytes=0 [UNREPLIED] src=198.18.0.14 dst=198.18.0.13 packets=0 bytes=0 mark=0 delta-time=41 use=1"},
	{name: "unknown proto extended", flow: unknown50, format: "extended",
		want: "ipv4     2 unknown  50 19 src=198.18.0.13 dst=198.18.0.14 packets=0 bytes=0 [UNREPLIED] src=198.18.0.14 dst=198.18.0.13 packets=0 bytes=0 mark=0 delta-time=41 use=1"},
	{name: "unknown proto save", flow: unknown50, format: "save",
		want: "-A -t 19 -u UNSET -s 198.18.0.13 -d 198.18.0.14 -r 198.18.0.14 -q 198.18.0.13 -p 50"},
	{name: "unknown proto xml", flow: unknown50, format: "xml",
		want: `<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.13</src><dst>198.18.0.14</dst></layer3><layer4 protonum="50" protoname="unknown"></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.14</src><dst>198.18.0.13</dst></layer3><layer4 protonum="50" protoname="unknown"></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="independent"><timeout>19</timeout><mark>0</mark><use>1</use><id>191868822</id><unreplied/><deltatime>41</deltatime></meta></flow>`},
	{name: "gre text", flow: gre11, format: "text",
		want: "gre      47 17 src=198.18.0.11 dst=198.18.0.12 srckey=0x5 dstkey=0x6 packets=0 bytes=0 [UNREPLIED] src=198.18.0.12 dst=198.18.0.11 srckey=0x6 dstkey=0x5 packets=0 bytes=0 mark=0 delta-time=43 use=1"},
	{name: "gre save", flow: gre11, format: "save",
		want: "-A -t 17 -u UNSET -s 198.18.0.11 -d 198.18.0.12 -r 198.18.0.12 -q 198.18.0.11 -p gre --srckey 5 --dstkey 6 --reply-key-src 6 --reply-key-dst 5"},
	{name: "gre xml", flow: gre11, format: "xml", now: now0.Add(time.Second),
		want: `<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.11</src><dst>198.18.0.12</dst></layer3><layer4 protonum="47" protoname="gre"><srckey>0x5</srckey><dstkey>0x6</dstkey></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.12</src><dst>198.18.0.11</dst></layer3><layer4 protonum="47" protoname="gre"><srckey>0x6</srckey><dstkey>0x5</dstkey></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="independent"><timeout>17</timeout><mark>0</mark><use>1</use><id>2224765262</id><unreplied/><deltatime>44</deltatime></meta></flow>`},
	{name: "sctp text", flow: sctp15, format: "text",
		want: "sctp     132 16 ESTABLISHED src=198.18.0.15 dst=198.18.0.16 sport=3000 dport=3001 packets=0 bytes=0 [UNREPLIED] src=198.18.0.16 dst=198.18.0.15 sport=3001 dport=3000 packets=0 bytes=0 mark=0 delta-time=45 use=1"},
	{name: "sctp save", flow: sctp15, format: "save",
		want: "-A -t 16 -u UNSET -s 198.18.0.15 -d 198.18.0.16 -r 198.18.0.16 -q 198.18.0.15 -p sctp --sport 3000 --dport 3001 --reply-port-src 3001 --reply-port-dst 3000 --state ESTABLISHED --orig-vtag 1 --reply-vtag 2"},
	// conntrack prints <state>FIN_WAIT</state> here (bug 18): fixed.
	{name: "sctp xml (state fixed)", flow: sctp15, format: "xml",
		want: `<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.15</src><dst>198.18.0.16</dst></layer3><layer4 protonum="132" protoname="sctp"><sport>3000</sport><dport>3001</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.16</src><dst>198.18.0.15</dst></layer3><layer4 protonum="132" protoname="sctp"><sport>3001</sport><dport>3000</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="independent"><state>ESTABLISHED</state><timeout>16</timeout><mark>0</mark><use>1</use><id>978571780</id><unreplied/><deltatime>45</deltatime></meta></flow>`},
	{name: "udplite extended", flow: udplite17, format: "extended",
		want: "ipv4     2 udplite  136 14 src=198.18.0.17 dst=198.18.0.18 sport=4000 dport=4001 packets=0 bytes=0 [UNREPLIED] src=198.18.0.18 dst=198.18.0.17 sport=4001 dport=4000 packets=0 bytes=0 mark=0 delta-time=46 use=1"},
	{name: "udplite save", flow: udplite17, format: "save",
		want: "-A -t 14 -u UNSET -s 198.18.0.17 -d 198.18.0.18 -r 198.18.0.18 -q 198.18.0.17 -p udplite --sport 4000 --dport 4001 --reply-port-src 4001 --reply-port-dst 4000"},
	{name: "time_wait text", flow: timeWait36, format: "text",
		want: "tcp      6 22 TIME_WAIT src=198.18.0.36 dst=198.18.0.37 sport=1 dport=2 packets=0 bytes=0 [UNREPLIED] src=198.18.0.37 dst=198.18.0.36 sport=2 dport=1 packets=0 bytes=0 mark=0 delta-time=38 use=1"},
	{name: "fixed timeout save", flow: timeWait36, format: "save",
		want: "-A -t 22 -u FIXED_TIMEOUT -s 198.18.0.36 -d 198.18.0.37 -r 198.18.0.37 -q 198.18.0.36 -p tcp --sport 1 --dport 2 --reply-port-src 2 --reply-port-dst 1 --state TIME_WAIT"},
	{name: "assured mark text", flow: assured1, format: "text",
		want: "tcp      6 549 ESTABLISHED src=198.18.0.1 dst=198.18.0.2 sport=1111 dport=80 packets=0 bytes=0 src=198.18.0.2 dst=198.18.0.1 sport=80 dport=1111 packets=0 bytes=0 [ASSURED] mark=7 delta-time=51 use=1"},
	{name: "assured mark save", flow: assured1, format: "save",
		want: "-A -t 549 -u SEEN_REPLY,ASSURED -s 198.18.0.1 -d 198.18.0.2 -r 198.18.0.2 -q 198.18.0.1 -p tcp --sport 1111 --dport 80 --reply-port-src 80 --reply-port-dst 1111 --state ESTABLISHED"},
	{name: "assured mark xml", flow: assured1, format: "xml", now: now0.Add(time.Second),
		want: `<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.1</src><dst>198.18.0.2</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>1111</sport><dport>80</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>198.18.0.2</src><dst>198.18.0.1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>80</sport><dport>1111</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="independent"><state>ESTABLISHED</state><timeout>549</timeout><mark>7</mark><use>1</use><id>2851171218</id><assured/><deltatime>52</deltatime></meta></flow>`},
	{name: "syn_sent text", flow: synSent1, format: "text",
		want: "tcp      6 69 SYN_SENT src=198.18.0.1 dst=198.18.0.2 sport=1112 dport=80 packets=0 bytes=0 [UNREPLIED] src=198.18.0.2 dst=198.18.0.1 sport=80 dport=1112 packets=0 bytes=0 mark=0 delta-time=51 use=1"},
	{name: "ipv6 dnat save", flow: v6dnat, format: "save",
		want: "-A -t 3599 -u UNSET -s 2001:db8::30 -d 2001:db8::40 -g 2001:db8::50 -q 2001:db8::30 -p tcp --sport 7 --dport 8 --reply-port-src 9 --reply-port-dst 7 --state ESTABLISHED"},

	// xml1.txt
	{name: "xml1", flow: v4tcp42002, format: "xml", now: time.Unix(1795389970, 0),
		want: `<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>192.0.2.1</src><dst>192.0.2.1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>42002</sport><dport>80</dport></layer4><counters><packets>7</packets><bytes>672</bytes></counters></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>192.0.2.1</src><dst>192.0.2.1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>8080</sport><dport>42002</dport></layer4><counters><packets>5</packets><bytes>568</bytes></counters></meta><meta direction="independent"><state>ESTABLISHED</state><timeout>431972</timeout><mark>0</mark><use>1</use><id>1814512562</id><assured/><deltatime>37</deltatime></meta></flow>`},
	{name: "xml,ktimestamp", flow: v4tcp42002, format: "xml,ktimestamp", now: time.Unix(1795389971, 0),
		want: `<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>192.0.2.1</src><dst>192.0.2.1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>42002</sport><dport>80</dport></layer4><counters><packets>7</packets><bytes>672</bytes></counters></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>192.0.2.1</src><dst>192.0.2.1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>8080</sport><dport>42002</dport></layer4><counters><packets>5</packets><bytes>568</bytes></counters></meta><meta direction="independent"><state>ESTABLISHED</state><timeout>431972</timeout><mark>0</mark><use>1</use><id>1814512562</id><assured/><timestamp><start>1795389933917535910</start></timestamp><deltatime>38</deltatime></meta></flow>`},
	{name: "xml,extended,id,timestamp", flow: v4tcp42002, format: "xml,extended,id,timestamp", now: time.Unix(1795389971, 0),
		want: `<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>192.0.2.1</src><dst>192.0.2.1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>42002</sport><dport>80</dport></layer4><counters><packets>7</packets><bytes>672</bytes></counters></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>192.0.2.1</src><dst>192.0.2.1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>8080</sport><dport>42002</dport></layer4><counters><packets>5</packets><bytes>568</bytes></counters></meta><meta direction="independent"><state>ESTABLISHED</state><timeout>431972</timeout><mark>0</mark><use>1</use><id>1814512562</id><assured/><deltatime>38</deltatime></meta></flow>`},

	// labels.txt, labels2.txt
	{name: "labels", flow: labelsWeb, format: "labels", labels: labelMap,
		want: "udp      17 29 src=192.0.2.1 dst=192.0.2.1 sport=44001 dport=5001 packets=1 bytes=29 src=192.0.2.1 dst=192.0.2.1 sport=5001 dport=44001 packets=1 bytes=29 mark=42 delta-time=0 use=1 labels=web"},
	{name: "labels without label map", flow: labelsWeb, format: "labels",
		want: "udp      17 29 src=192.0.2.1 dst=192.0.2.1 sport=44001 dport=5001 packets=1 bytes=29 src=192.0.2.1 dst=192.0.2.1 sport=5001 dport=44001 packets=1 bytes=29 mark=42 delta-time=0 use=1"},
	{name: "labels,extended", flow: labelsDB, format: "labels,extended", labels: labelMap,
		want: "ipv4     2 udp      17 29 src=192.0.2.1 dst=198.51.100.1 sport=44002 dport=5353 packets=1 bytes=29 src=198.51.100.1 dst=192.0.2.2 sport=5353 dport=44002 packets=1 bytes=29 mark=0 delta-time=0 use=1 labels=db"},
	{name: "two labels", flow: labelsTwo, format: "labels", labels: labelMap,
		want: "tcp      6 899 ESTABLISHED src=198.18.6.3 dst=198.18.6.4 sport=1 dport=2 packets=0 bytes=0 [UNREPLIED] src=198.18.6.4 dst=198.18.6.3 sport=2 dport=1 packets=0 bytes=0 mark=0 delta-time=0 use=1 labels=blocked,vip"},
	{name: "labels without names", flow: labelsNoName, format: "text", labels: labelMap,
		want: "tcp      6 899 ESTABLISHED src=198.18.6.3 dst=198.18.6.4 sport=1 dport=2 packets=0 bytes=0 [UNREPLIED] src=198.18.6.4 dst=198.18.6.3 sport=2 dport=1 packets=0 bytes=0 mark=0 delta-time=0 use=1 labels"},
	{name: "labels save", flow: labelsWeb, format: "save", labels: labelMap,
		want: "-A -t 29 -u SEEN_REPLY -s 192.0.2.1 -d 192.0.2.1 -r 192.0.2.1 -q 192.0.2.1 -p udp --sport 44001 --dport 5001 --reply-port-src 5001 --reply-port-dst 44001"},
	{name: "xml,labels", flow: labelsWeb, format: "xml,labels", labels: labelMap, now: now0.Add(time.Second),
		want: `<flow><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>192.0.2.1</src><dst>192.0.2.1</dst></layer3><layer4 protonum="17" protoname="udp"><sport>44001</sport><dport>5001</dport></layer4><counters><packets>1</packets><bytes>29</bytes></counters></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>192.0.2.1</src><dst>192.0.2.1</dst></layer3><layer4 protonum="17" protoname="udp"><sport>5001</sport><dport>44001</dport></layer4><counters><packets>1</packets><bytes>29</bytes></counters></meta><meta direction="independent"><timeout>29</timeout><mark>42</mark><labels><label>web</label></labels><use>1</use><id>1797062006</id><deltatime>1</deltatime></meta></flow>`},

	// conntrack-cli.md §4.1, list_all.txt
	{name: "helper", flow: helperFTP, format: "text",
		want: "tcp      6 431998 ESTABLISHED src=192.0.2.1 dst=192.0.2.1 sport=43021 dport=21 packets=6 bytes=349 src=192.0.2.1 dst=192.0.2.1 sport=21 dport=43021 packets=5 bytes=331 [ASSURED] mark=0 delta-time=2 helper=ftp use=1"},
	{name: "syn_sent2", flow: synSent2, format: "text",
		want: "tcp      6 59 SYN_SENT2 src=198.18.0.38 dst=198.18.0.39 sport=1 dport=2 packets=0 bytes=0 [UNREPLIED] src=198.18.0.39 dst=198.18.0.38 sport=2 dport=1 packets=0 bytes=0 mark=0 delta-time=0 use=1"},
	{name: "mark max", flow: markMax, format: "text",
		want: "tcp      6 59 ESTABLISHED src=198.18.0.46 dst=198.18.0.47 sport=1 dport=2 packets=0 bytes=0 [UNREPLIED] src=198.18.0.47 dst=198.18.0.46 sport=2 dport=1 packets=0 bytes=0 mark=4294967295 delta-time=0 use=1"},
	{name: "huge timeout", flow: hugeTimeout, format: "text",
		want: "tcp      6 8589934 ESTABLISHED src=198.18.0.52 dst=198.18.0.53 sport=1 dport=2 packets=0 bytes=0 [UNREPLIED] src=198.18.0.53 dst=198.18.0.52 sport=2 dport=1 packets=0 bytes=0 mark=0 delta-time=0 use=1"},
	{name: "dccp without state", flow: dccpNoState, format: "text",
		want: "dccp     33 59 src=198.18.0.56 dst=198.18.0.57 sport=0 dport=0 packets=0 bytes=0 [UNREPLIED] src=198.18.0.57 dst=198.18.0.56 sport=0 dport=0 packets=0 bytes=0 mark=0 delta-time=0 use=1"},
	{name: "no acct, no timestamp", flow: noAcct, format: "text",
		want: "udp      17 899 src=198.18.9.1 dst=198.18.9.2 sport=1 dport=2 [UNREPLIED] src=198.18.9.2 dst=198.18.9.1 sport=2 dport=1 mark=0 use=1"},

	// Events: ev_default.out, ev_kts.out, ev_extid.out, ev_save.out,
	// ev_xml.out, ev_xmlts.out (without the [USERSPACE] suffix).
	{name: "event new", flow: evNew, format: "event-text", ev: EventNew,
		want: "    [NEW] tcp      6 300 SYN_SENT src=198.18.4.1 dst=198.18.4.2 sport=1 dport=2 [UNREPLIED] src=198.18.4.2 dst=198.18.4.1 sport=2 dport=1 mark=0"},
	{name: "event update", flow: evUpdate, format: "event-text", ev: EventUpdate,
		want: " [UPDATE] tcp      6 299 ESTABLISHED src=198.18.4.1 dst=198.18.4.2 sport=1 dport=2 [UNREPLIED] src=198.18.4.2 dst=198.18.4.1 sport=2 dport=1 mark=5"},
	{name: "event update assured", flow: evAssured, format: "event-text", ev: EventUpdate,
		want: " [UPDATE] tcp      6 432000 ESTABLISHED src=192.0.2.1 dst=192.0.2.1 sport=49686 dport=8080 src=192.0.2.1 dst=192.0.2.1 sport=8080 dport=49686 [ASSURED]"},
	{name: "event destroy ktimestamp", flow: evDestroy, format: "event-text", ev: EventDestroy, flags: FlagKTimestamp,
		want: "[DESTROY] tcp      6 299 ESTABLISHED src=198.18.4.1 dst=198.18.4.2 sport=1 dport=2 packets=0 bytes=0 [UNREPLIED] src=198.18.4.2 dst=198.18.4.1 sport=2 dport=1 packets=0 bytes=0 mark=5 delta-time=1 [start=Sun Nov 22 23:30:00 2026] [stop=Sun Nov 22 23:30:01 2026]"},
	{name: "event destroy ipv6", flow: evDestroy6, format: "event-text", ev: EventDestroy,
		want: "[DESTROY] udp      17 299 src=2001:db8::41 dst=2001:db8::42 sport=1 dport=2 packets=0 bytes=0 [UNREPLIED] src=2001:db8::42 dst=2001:db8::41 sport=2 dport=1 packets=0 bytes=0 delta-time=0"},
	{name: "event extended,id", flow: evNew, format: "event-text", ev: EventNew, flags: FlagExtended | FlagID,
		want: "    [NEW] ipv4     2 tcp      6 300 SYN_SENT src=198.18.4.1 dst=198.18.4.2 sport=1 dport=2 [UNREPLIED] src=198.18.4.2 dst=198.18.4.1 sport=2 dport=1 mark=0 id=624821408"},
	{name: "event save new", flow: evNew, format: "event-save", ev: EventNew,
		want: "-A -t 300 -u UNSET -s 198.18.4.1 -d 198.18.4.2 -r 198.18.4.2 -q 198.18.4.1 -p tcp --sport 1 --dport 2 --reply-port-src 2 --reply-port-dst 1 --state SYN_SENT"},
	{name: "event save update", flow: evUpdate, format: "event-save", ev: EventUpdate,
		want: "-U -t 299 -u UNSET -s 198.18.4.1 -d 198.18.4.2 -r 198.18.4.2 -q 198.18.4.1 -p tcp --sport 1 --dport 2 --reply-port-src 2 --reply-port-dst 1 --state ESTABLISHED"},
	{name: "event save destroy", flow: evDestroy6, format: "event-save", ev: EventDestroy,
		want: "-D -t 299 -u UNSET -s 2001:db8::41 -d 2001:db8::42 -r 2001:db8::42 -q 2001:db8::41 -p udp --sport 1 --dport 2 --reply-port-src 2 --reply-port-dst 1"},
	{name: "delete save icmp", flow: icmp77, format: "event-save", ev: EventDestroy,
		want: "-D -t 3594 -u UNSET -s 198.18.1.10 -d 198.18.1.11 -r 198.18.1.11 -q 198.18.1.10 -p icmp --icmp-type 8 --icmp-code 0 --icmp-id 77"},
	{name: "event xml new", flow: evNew, format: "event-xml", ev: EventNew,
		want: `<flow type="new"><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>198.18.4.1</src><dst>198.18.4.2</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>1</sport><dport>2</dport></layer4></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>198.18.4.2</src><dst>198.18.4.1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>2</sport><dport>1</dport></layer4></meta><meta direction="independent"><state>SYN_SENT</state><timeout>300</timeout><mark>0</mark><id>624821408</id><unreplied/></meta></flow>`},
	{name: "event xml destroy ipv6", flow: evDestroy6, format: "event-xml", ev: EventDestroy,
		want: `<flow type="destroy"><meta direction="original"><layer3 protonum="10" protoname="ipv6"><src>2001:db8::41</src><dst>2001:db8::42</dst></layer3><layer4 protonum="17" protoname="udp"><sport>1</sport><dport>2</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="reply"><layer3 protonum="10" protoname="ipv6"><src>2001:db8::42</src><dst>2001:db8::41</dst></layer3><layer4 protonum="17" protoname="udp"><sport>2</sport><dport>1</dport></layer4><counters><packets>0</packets><bytes>0</bytes></counters></meta><meta direction="independent"><timeout>299</timeout><id>3621994913</id><unreplied/><deltatime>0</deltatime></meta></flow>`},
	{name: "event xml timestamp", flow: evUpdate, format: "event-xml", ev: EventUpdate, flags: FlagTime, now: time.Unix(1795390203, 0),
		want: `<flow type="update"><meta direction="original"><layer3 protonum="2" protoname="ipv4"><src>198.18.4.1</src><dst>198.18.4.2</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>1</sport><dport>2</dport></layer4></meta><meta direction="reply"><layer3 protonum="2" protoname="ipv4"><src>198.18.4.2</src><dst>198.18.4.1</dst></layer3><layer4 protonum="6" protoname="tcp"><sport>2</sport><dport>1</dport></layer4></meta><meta direction="independent"><state>ESTABLISHED</state><timeout>299</timeout><mark>5</mark><id>624821408</id><unreplied/></meta><when><hour>23</hour><min>30</min><sec>03</sec><wday>1</wday><day>22</day><month>11</month><year>2026</year></when></flow>`},
}

// render produces the output of one golden case: a whole document for the
// New formats, one line for the event formats.
func (g *golden) render(t *testing.T) string {
	t.Helper()
	now := g.now
	if now.IsZero() {
		now = now0
	}
	opts := Options{Now: func() time.Time { return now }, LabelNames: g.labels, Location: time.UTC}
	f := g.flow
	switch g.format {
	case "event-text":
		return string(AppendText(nil, &f, g.ev, g.flags, &opts))
	case "event-save":
		b, err := AppendSave(nil, &f, g.ev)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	case "event-xml":
		return string(AppendXML(nil, &f, g.ev, g.flags, &opts))
	}
	var out bytes.Buffer
	w, err := New(g.format, &out, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&f); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

func TestGoldenConntrack(t *testing.T) {
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			want := g.want
			switch {
			case g.format == "xml" || len(g.format) > 4 && g.format[:4] == "xml,":
				want = XMLHeader + want + "\n" + XMLFooter
			case len(g.format) < 6 || g.format[:6] != "event-":
				want += "\n"
			}
			if got := g.render(t); got != want {
				t.Errorf("output differs\n got: %q\nwant: %q", got, want)
			}
		})
	}
}
