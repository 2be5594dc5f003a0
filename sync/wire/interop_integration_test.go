//go:build linux

package wire

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"ctq/engine"
	"ctq/internal/nstest"
)

// The interop test runs a real conntrackd (FTFW over UDP) in a namespace
// of its own and plays its peer with this package: it checks that every
// message conntrackd sends decodes and re-encodes to the same bytes, and
// that conntrackd takes what this package encodes and counts the bad
// messages under the counters Kind names.

// Addresses of the two ends, on the two sides of a veth pair in one
// namespace.
const (
	ctdAddr  = "192.0.2.1"
	peerAddr = "192.0.2.2"
	syncPort = 3780
)

// ctdConf is conntrackd's configuration; %[1]s is the scratch directory.
const ctdConf = `Sync {
	Mode FTFW {
		ResendQueueSize 131072
		ACKWindowSize 300
	}
	UDP Default {
		IPv4_address ` + ctdAddr + `
		IPv4_Destination_Address ` + peerAddr + `
		Port 3780
		Interface sync0
		Checksum on
	}
}
General {
	HashSize 8192
	HashLimit 65536
	LogFile %[1]s/ctd.log
	Syslog off
	LockFile %[1]s/ctd.lock
	UNIX {
		Path %[1]s/ctd.sock
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 8388608
}
`

// conntrackd is a running conntrackd and its peer socket.
type conntrackd struct {
	ns   *nstest.NS
	conf string
	conn *net.UDPConn
}

// startConntrackd makes a namespace, starts conntrackd in it and opens the
// peer's socket; everything goes when the test ends.
func startConntrackd(t *testing.T) *conntrackd {
	t.Helper()
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "add", "sync0", "type", "veth", "peer", "name", "sync1")
	ns.Run(t, "ip", "addr", "add", ctdAddr+"/24", "dev", "sync0")
	ns.Run(t, "ip", "addr", "add", peerAddr+"/24", "dev", "sync1")
	ns.Run(t, "ip", "link", "set", "sync0", "up")
	ns.Run(t, "ip", "link", "set", "sync1", "up")
	c := &conntrackd{ns: ns}
	// A socket keeps the namespace it was made in.
	if err := ns.Do(func() (err error) {
		c.conn, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(a4(peerAddr), syncPort)))
		return err
	}); err != nil {
		t.Fatalf("peer socket in %s: %v", ns.Name(), err)
	}
	t.Cleanup(func() { c.conn.Close() })

	dir := t.TempDir()
	c.conf = filepath.Join(dir, "ctd.conf")
	if err := os.WriteFile(c.conf, fmt.Appendf(nil, ctdConf, dir), 0o600); err != nil {
		t.Fatal(err)
	}
	ns.StartConntrackd(t, c.conf, filepath.Join(dir, "ctd.sock"), filepath.Join(dir, "ctd.log"))
	return c
}

// recv reads one datagram, failing the test after a generous wait.
func (c *conntrackd) recv(t *testing.T) []byte {
	t.Helper()
	buf := make([]byte, 65536)
	c.conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	n, err := c.conn.Read(buf)
	if err != nil {
		t.Fatalf("no datagram from conntrackd: %v", err)
	}
	return buf[:n]
}

// send sends one datagram to conntrackd.
func (c *conntrackd) send(t *testing.T, b []byte) {
	t.Helper()
	to := net.UDPAddrFromAddrPort(netip.AddrPortFrom(a4(ctdAddr), syncPort))
	if _, err := c.conn.WriteToUDP(b, to); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// ctl runs a conntrackd client command against the daemon.
func (c *conntrackd) ctl(t *testing.T, args ...string) string {
	t.Helper()
	return c.ns.Run(t, "conntrackd", append([]string{"-C", c.conf}, args...)...)
}

// flowSummary is the part of a flow the interop test compares.
func flowSummary(f *engine.Flow) string {
	s := fmt.Sprintf("%s %s %v:%d > %v:%d", f.Family, f.Proto, f.Src, f.Sport, f.Dst, f.Dport)
	if f.Has&engine.HasState != 0 {
		s += " " + f.State
	}
	if f.ProtoNum == engine.ProtoICMP || f.ProtoNum == engine.ProtoICMPv6 {
		s += fmt.Sprintf(" icmp=%d/%d/%#x", f.ICMPType, f.ICMPCode, f.ICMPID)
	}
	if f.Has&engine.HasVtags != 0 {
		s += fmt.Sprintf(" vtags=%d/%d", f.OrigVtag, f.ReplyVtag)
	}
	s += fmt.Sprintf(" status=%#x mark=%d", uint32(f.Status), f.Mark)
	if f.Has&engine.HasZone != 0 {
		s += fmt.Sprintf(" zone=%d", f.Zone)
	}
	return s + fmt.Sprintf(" reply %v:%d > %v:%d", f.ReplySrc, f.ReplySport, f.ReplyDst, f.ReplyDport)
}

func TestInteropConntrackd(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "conntrackd")
	c := startConntrackd(t)

	// conntrackd announces itself with ALIVE|HELLO once it runs.
	first := decodeAll(t, c.recv(t))
	if h := first[0].Header; !h.IsAlive() || !h.IsHello() {
		t.Fatalf("first message %v, want ALIVE|HELLO", h)
	}

	t.Run("receive", func(t *testing.T) { interopReceive(t, c) })
	t.Run("send", func(t *testing.T) { interopSend(t, c) })
}

// interopReceive makes kernel entries and checks what conntrackd sends
// for them.
func interopReceive(t *testing.T, c *conntrackd) {
	entries := []struct {
		args  string
		attrs string
		flow  string
	}{
		{"-t 600 -u ASSURED,SEEN_REPLY -m 7 -p tcp --state ESTABLISHED -s 198.51.100.10 -d 198.51.100.20 --sport 40000 --dport 22",
			"IPV4|L4PROTO|PORT|TCP_STATE|STATUS|TIMEOUT|MARK|SYNPROXY",
			"ipv4 tcp 198.51.100.10:40000 > 198.51.100.20:22 ESTABLISHED status=0xe mark=7 reply 198.51.100.20:22 > 198.51.100.10:40000"},
		{"-t 120 -p udp -s 198.51.100.10 -d 198.51.100.30 --sport 5353 --dport 53 -w 5",
			"IPV4|L4PROTO|PORT|STATUS|TIMEOUT|MARK|SYNPROXY|ZONE",
			"ipv4 udp 198.51.100.10:5353 > 198.51.100.30:53 status=0x8 mark=0 zone=5 reply 198.51.100.30:53 > 198.51.100.10:5353"},
		{"-t 30 -p icmp -s 198.51.100.10 -d 198.51.100.40 --icmp-type 8 --icmp-code 0 --icmp-id 4660",
			"IPV4|L4PROTO|STATUS|TIMEOUT|MARK|ICMP_TYPE|ICMP_CODE|ICMP_ID|SYNPROXY",
			"ipv4 icmp 198.51.100.10:0 > 198.51.100.40:0 icmp=8/0/0x1234 status=0x8 mark=0 reply 198.51.100.40:0 > 198.51.100.10:0"},
		{"-t 30 -p icmpv6 -s 2001:db8::10 -d 2001:db8::20 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id 99",
			"IPV6|L4PROTO|STATUS|TIMEOUT|MARK|ICMP_TYPE|ICMP_CODE|ICMP_ID|SYNPROXY",
			"ipv6 icmpv6 2001:db8::10:0 > 2001:db8::20:0 icmp=128/0/0x63 status=0x8 mark=0 reply 2001:db8::20:0 > 2001:db8::10:0"},
		{"-t 300 -u ASSURED,SEEN_REPLY -p tcp --state ESTABLISHED -s 198.51.100.14 -d 198.51.100.24 --sport 42000 --dport 443" +
			" --src-nat 198.51.100.200:61001",
			"IPV4|L4PROTO|PORT|TCP_STATE|STATUS|TIMEOUT|MARK|SNAT_IPV4|SPAT_PORT|SYNPROXY",
			"ipv4 tcp 198.51.100.14:42000 > 198.51.100.24:443 ESTABLISHED status=0x19e mark=0 reply 198.51.100.24:443 > 198.51.100.200:61001"},
		{"-t 300 -p tcp --state SYN_SENT -s 2001:db8::1 -d 2001:db8::2 --sport 1000 --dport 80 --dst-nat [2001:db8::99]:8080",
			"IPV6|L4PROTO|PORT|TCP_STATE|STATUS|TIMEOUT|MARK|DPAT_PORT|DNAT_IPV6|SYNPROXY",
			"ipv6 tcp 2001:db8::1:1000 > 2001:db8::2:80 SYN_SENT status=0x1a8 mark=0 reply 2001:db8::99:8080 > 2001:db8::1:1000"},
		{"-t 50 -p sctp --state ESTABLISHED -s 198.18.0.15 -d 198.18.0.16 --sport 3000 --dport 3001 --orig-vtag 1 --reply-vtag 2",
			"IPV4|L4PROTO|PORT|STATUS|TIMEOUT|MARK|SCTP_STATE|SCTP_VTAG_ORIG|SCTP_VTAG_REPL|SYNPROXY",
			"ipv4 sctp 198.18.0.15:3000 > 198.18.0.16:3001 ESTABLISHED vtags=1/2 status=0x8 mark=0 reply 198.18.0.16:3001 > 198.18.0.15:3000"},
		// conntrackd sends no ports for GRE and UDPLITE.
		{"-t 50 -p gre -s 198.18.0.11 -d 198.18.0.12 --srckey 5 --dstkey 6",
			"IPV4|L4PROTO|STATUS|TIMEOUT|MARK|SYNPROXY",
			"ipv4 gre 198.18.0.11:0 > 198.18.0.12:0 status=0x8 mark=0 reply 198.18.0.12:0 > 198.18.0.11:0"},
		{"-t 30 -p udplite -s 203.0.113.5 -d 203.0.113.6 --sport 4000 --dport 4001",
			"IPV4|L4PROTO|STATUS|TIMEOUT|MARK|SYNPROXY",
			"ipv4 udplite 203.0.113.5:0 > 203.0.113.6:0 status=0x8 mark=0 reply 203.0.113.6:0 > 203.0.113.5:0"},
	}
	for _, e := range entries {
		c.ns.Run(t, "conntrack", append([]string{"-I"}, strings.Fields(e.args)...)...)
		// The CT NEW for the entry may follow control messages.
		var m *Message
		for m == nil {
			b := c.recv(t)
			err := Decode(b, func(got *Message, err error) error {
				if err != nil {
					return err
				}
				enc, err := AppendMessage(nil, got)
				if err != nil {
					return fmt.Errorf("re-encode: %w", err)
				}
				if !bytes.Equal(enc, b[:len(enc)]) {
					return fmt.Errorf("re-encoded %x", enc)
				}
				b = b[len(enc):]
				if got.CT != nil {
					m = got
				}
				return nil
			})
			if err != nil {
				t.Fatalf("%s: datagram %x: %v", e.args, b, err)
			}
		}
		if m.Header.Type != MsgCTNew {
			t.Errorf("%s: type %v, want CT_NEW", e.args, m.Header.Type)
		}
		if got := m.CT.Attrs.String(); got != e.attrs {
			t.Errorf("%s: attributes %s, want %s", e.args, got, e.attrs)
		}
		var f engine.Flow
		m.CT.ToFlow(&f)
		if got := flowSummary(&f); got != e.flow {
			t.Errorf("%s: flow\n%s\nwant\n%s", e.args, got, e.flow)
		}
	}
}

// interopSend sends good and bad messages to conntrackd and checks its
// external cache, its commit and its error counters.
func interopSend(t *testing.T, c *conntrackd) {
	var seq uint32 = 1000
	hello := func(typ MsgType) Header {
		seq++
		return Header{Type: typ, Flags: FlagHello, Seq: seq}
	}
	encode := func(m *Message) []byte {
		b, err := AppendMessage(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}

	// A plain entry and a NATed one, as FromFlow makes them.
	plain := flowOf(engine.FamilyIPv6, engine.ProtoTCP, "2001:db8::50", "2001:db8::60", 1000, 22)
	plain.SetState(3)
	plain.Mark, plain.Has = 0x67, plain.Has|engine.HasMark
	nat := flowOf(engine.FamilyIPv4, engine.ProtoTCP, "198.51.100.70", "198.51.100.71", 42000, 443)
	nat.SetState(3)
	nat.SetStatus(nat.Status | engine.StatusSrcNAT | engine.StatusDstNAT | engine.StatusSrcNATDone | engine.StatusDstNATDone)
	nat.ReplySrc, nat.ReplySport = a4("198.51.100.73"), 8080
	nat.ReplyDst, nat.ReplyDport = a4("198.51.100.72"), 61001
	var good []byte
	for _, f := range []*engine.Flow{&plain, &nat} {
		var ct Conntrack
		ct.FromFlow(f)
		good = append(good, encode(&Message{Header: hello(MsgCTNew), CT: &ct})...)
	}
	// hdr is a header in hex with HELLO set, which makes conntrackd
	// skip its sequence check.
	hdr := func(b0 byte, flags Flags, length int) string {
		seq++
		return fmt.Sprintf("%02x%02x%04x%08x", b0, byte(flags|FlagHello), length, seq)
	}
	n := HeaderLen + len(helloBody)/2
	bad := []string{
		hdr(0x20, 0, n) + helloBody,                                   // version 2
		hdr(0x10, 0, n+8) + helloBody + "0008002800000001",            // unknown attribute
		hdr(0x10, 0, 28) + "000c0000c6336434c633643e0008000206000000", // L4PROTO of length 8
		hdr(0x10, FlagACK, n) + helloBody,                             // data with ACK
		hdr(0x16, 0, 8),                                               // type 6
		hdr(0x1a, FlagACK, 16) + "0000000900000008",                   // ACK backwards
		hdr(0x1a, FlagAlive, 8)[:14],                                  // 7 bytes
		hdr(0x1a, FlagAlive, 0),                                       // length 0
		hdr(0x1a, FlagAlive, 12),                                      // length past the end
		hdr(0x1a, FlagACK, 8) + "0000000000000000",                    // ACK of length 8
		hdr(0x1a, FlagACK, 8),                                         // ACK, 8 bytes left
	}
	// What this package makes of the bad datagrams, under conntrackd's
	// counters (its FTFW mode counts unknown types as malformed headers).
	want := map[string]int{}
	for _, h := range bad {
		if err := Decode(unhex(t, h), func(_ *Message, err error) error {
			var werr *Error
			if !errors.As(err, &werr) {
				return fmt.Errorf("accepted %s", h)
			}
			k := werr.Kind
			if k == KindBadType {
				k = KindBadHeader
			}
			want[k.String()]++
			want["Malformed messages"]++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []Kind{KindTruncated, KindBadSize, KindBadVersion, KindBadHeader, KindBadPayload} {
		if want[k.String()] == 0 {
			t.Fatalf("no bad datagram of kind %v", k)
		}
	}

	c.send(t, good)
	for _, h := range bad {
		c.send(t, unhex(t, h))
	}

	var got map[string]int
	for range 50 {
		got = networkStats(t, c.ctl(t, "-s", "network"))
		if got["Malformed messages"] >= want["Malformed messages"] {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for k, n := range got {
		if n != want[k] {
			t.Errorf("conntrackd counter %q = %d, want %d (all: %v)", k, n, want[k], got)
		}
	}

	ext := c.ctl(t, "-e")
	for _, w := range []string{
		"src=2001:db8::50 dst=2001:db8::60 sport=1000 dport=22 [ASSURED] mark=103",
		"src=198.51.100.70 dst=198.51.100.71 sport=42000 dport=443 [ASSURED] [active",
	} {
		if !strings.Contains(ext, w) {
			t.Errorf("external cache lacks %q:\n%s", w, ext)
		}
	}

	// A commit puts the NATed entry in the kernel with the reply tuple
	// the NAT attributes describe.
	c.ctl(t, "-c")
	list := c.ns.Run(t, "conntrack", "-L", "-s", "198.51.100.70")
	w := "src=198.51.100.73 dst=198.51.100.72 sport=8080 dport=61001"
	if !strings.Contains(list, w) {
		t.Errorf("committed entry lacks %q:\n%s", w, list)
	}
}

// statLine matches a counter of `conntrackd -s network`.
var statLine = regexp.MustCompile(`^\s*([A-Za-z ]+):\s+(\d+)$`)

// networkStats reads the receive error counters of `conntrackd -s
// network` (the lines between "recv:" and "send:").
func networkStats(t *testing.T, out string) map[string]int {
	t.Helper()
	stats := map[string]int{}
	_, recv, ok := strings.Cut(out, "recv:")
	recv, _, ok2 := strings.Cut(recv, "send:")
	if !ok || !ok2 {
		t.Fatalf("unexpected conntrackd -s network output:\n%s", out)
	}
	for _, line := range strings.Split(recv, "\n") {
		if m := statLine.FindStringSubmatch(line); m != nil {
			n, err := strconv.Atoi(m[2])
			if err != nil {
				t.Fatal(err)
			}
			stats[m[1]] = n
		}
	}
	if len(stats) != 7 {
		t.Fatalf("read %d counters from:\n%s", len(stats), out)
	}
	return stats
}
