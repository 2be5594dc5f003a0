//go:build linux

package node

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/internal/nstest"
	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/link"
)

// The interop tests join two namespaces with a veth pair: ctq's node in A
// (192.0.2.1 on ctqa), conntrackd in B (192.0.2.2 on ctqb).
const (
	addrA = "192.0.2.1"
	addrB = "192.0.2.2"
)

// confText is a conntrackd.conf like tools/conntrackd-pair.sh's; %[1]s is
// the scratch directory, %[2]s the side, %[3]s the interface, %[4]s the
// local and %[5]s the peer address, %[6]s the mode block, %[7]s the link
// block made by linkBlock.
const confText = `Sync {
	%[6]s
	%[7]s
}
General {
	HashSize 65536
	HashLimit 262144
	LogFile %[1]s/%[2]s.log
	Syslog off
	LockFile %[1]s/%[2]s.lock
	UNIX {
		Path %[1]s/%[2]s.sock
	}
	NetlinkBufferSize 33554432
	NetlinkBufferSizeMaxGrowth 268435456
}
`

// pair is the test bench: both namespaces, conntrackd in B, ctq's node in A.
type pair struct {
	a, b  *nstest.NS
	confB string
	node  *Node
	liveA *ctnetlink.Live
	liveB *ctnetlink.Live
}

// linkBlock is the UDP or Multicast block of a side (as in the
// reference's recipe).
func linkBlock(mcast bool, iface, local, peer string) string {
	if mcast {
		return fmt.Sprintf(`Multicast Default {
		IPv4_address 225.0.0.50
		Group 3780
		IPv4_interface %s
		Interface %s
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}`, local, iface)
	}
	return fmt.Sprintf(`UDP Default {
		IPv4_address %s
		IPv4_Destination_Address %s
		Port 3780
		Interface %s
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}`, local, peer, iface)
}

// Mode blocks of the configurations.
const (
	modeNOTRACK = "Mode NOTRACK {\n\t\tDisableExternalCache off\n\t}"
	modeFTFW    = "Mode FTFW {\n\t\tResendQueueSize 131072\n\t\tACKWindowSize 300\n\t}"
)

// newPair builds the bench with both nodes in a mode (a Mode block), over
// UDP or multicast; everything goes when the test ends.
func newPair(t *testing.T, mode string, mcast bool) *pair {
	t.Helper()
	return newPairModes(t, mode, mode, mcast)
}

// newPairModes is newPair with ctq's node in modeA and conntrackd in modeB.
func newPairModes(t *testing.T, modeA, modeB string, mcast bool) *pair {
	t.Helper()
	return newPairGeneral(t, modeA, modeB, mcast, "")
}

// newPairGeneral is newPairModes with generalA added to the General
// section of ctq's node.
func newPairGeneral(t *testing.T, modeA, modeB string, mcast bool, generalA string) *pair {
	t.Helper()
	p := &pair{}
	p.a, p.b = nstest.Joined(t, "ctqa", addrA, "ctqb", addrB)

	dir := t.TempDir()
	p.confB = filepath.Join(dir, "b.conf")
	if err := os.WriteFile(p.confB, fmt.Appendf(nil, confText, dir, "b", "ctqb", addrB, addrA, modeB, linkBlock(mcast, "ctqb", addrB, addrA)), 0o600); err != nil {
		t.Fatal(err)
	}
	p.b.StartConntrackd(t, p.confB, filepath.Join(dir, "b.sock"), filepath.Join(dir, "b.log"))

	textA := fmt.Sprintf(confText, dir, "a", "ctqa", addrA, addrB, modeA, linkBlock(mcast, "ctqa", addrA, addrB))
	textA = strings.Replace(textA, "General {\n", "General {\n\t"+generalA+"\n", 1)
	cfg, err := config.Parse("a.conf", []byte(textA))
	if err != nil {
		t.Fatal(err)
	}
	var l link.Link
	if err := p.a.Do(func() error {
		var err error
		l, err = link.Open(&cfg.Sync.Links[0], cfg.Sync.ErrorQueueLength)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	p.liveA = openLive(t, p.a)
	p.liveB = openLive(t, p.b)
	p.node, err = New(cfg, Options{Kernel: p.liveA, Link: l})
	if err != nil {
		t.Fatal(err)
	}
	runNode(t, p.node, "a")
	return p
}

// openLive opens a namespace's conntrack table.
func openLive(t *testing.T, ns *nstest.NS) *ctnetlink.Live {
	t.Helper()
	l, err := ctnetlink.OpenLive(&ctnetlink.LiveConfig{NetNS: ns.Name()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// ctl runs a conntrackd client command against B's daemon.
func (p *pair) ctl(t *testing.T, args ...string) string {
	t.Helper()
	return p.b.Run(t, "conntrackd", append([]string{"-C", p.confB}, args...)...)
}

// externalB parses `conntrackd -e` of B: key → mark.
func (p *pair) externalB(t *testing.T) map[cache.Key]int {
	t.Helper()
	m := map[cache.Key]int{}
	for _, line := range strings.Split(strings.TrimSpace(p.ctl(t, "-e")), "\n") {
		if line == "" {
			continue
		}
		k, mark, err := parseDumpLine(line)
		if err != nil {
			t.Fatalf("conntrackd -e line %q: %v", line, err)
		}
		m[k] = mark
	}
	return m
}

// parseDumpLine reads the key and mark of a line of `conntrackd -e`, e.g.
// "tcp      6 ESTABLISHED src=198.51.100.10 dst=198.51.100.20 sport=40000
// dport=22 [ASSURED] mark=7 [active since 1s]". The first src/dst/port
// fields are the original direction.
func parseDumpLine(line string) (cache.Key, int, error) {
	f := strings.Fields(line)
	var k cache.Key
	mark := 0
	if len(f) < 2 {
		return k, 0, fmt.Errorf("short line")
	}
	proto, err := strconv.Atoi(f[1])
	if err != nil {
		return k, 0, err
	}
	k.Proto = uint8(proto)
	seen := map[string]bool{}
	for _, w := range f[2:] {
		name, val, ok := strings.Cut(w, "=")
		if !ok || seen[name] {
			continue
		}
		seen[name] = true
		var err error
		switch name {
		case "src":
			k.Src, err = netip.ParseAddr(val)
		case "dst":
			k.Dst, err = netip.ParseAddr(val)
		case "sport", "dport", "type", "code", "id", "zone", "mark":
			var n int
			n, err = strconv.Atoi(val)
			switch name {
			case "sport":
				k.Sport = uint16(n)
			case "dport":
				k.Dport = uint16(n)
			case "type":
				k.ICMPType = uint8(n)
			case "code":
				k.ICMPCode = uint8(n)
			case "id":
				k.ICMPID = uint16(n)
			case "zone":
				k.Zone = uint16(n)
			case "mark":
				mark = n
			}
		}
		if err != nil {
			return k, 0, fmt.Errorf("%s: %w", w, err)
		}
	}
	return k, mark, nil
}

// scan reads a kernel table: key → flow.
func scan(t *testing.T, l *ctnetlink.Live) map[cache.Key]engine.Flow {
	t.Helper()
	m := map[cache.Key]engine.Flow{}
	if _, err := l.Scan(context.Background(), engine.TableConntrack, nil, func(f *engine.Flow) error {
		m[cache.KeyOf(f)] = *f
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return m
}

// summary is what must survive a replication and commit: both tuples, the
// state, the status bits of carried, mark and zone.
func summary(f *engine.Flow, carried engine.Status) string {
	return fmt.Sprintf("%s %s:%d > %s:%d state=%q status=%#x mark=%d zone=%d reply %s:%d > %s:%d icmp=%d/%d/%d",
		f.Proto, f.Src, f.Sport, f.Dst, f.Dport, f.State, uint32(f.Status&carried), f.Mark, f.Zone,
		f.ReplySrc, f.ReplySport, f.ReplyDst, f.ReplyDport, f.ICMPType, f.ICMPCode, f.ICMPID)
}
