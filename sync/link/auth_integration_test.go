//go:build linux

package link

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"
	"ctq/sync/config"
)

// authHex is the AuthKey of the authenticated link tests.
var authHex = bytes.Repeat([]byte{0x3c}, 32)

// sniffer keeps the payloads of the IPv4 UDP datagrams to port 3780 that
// an interface of a namespace sees, as an attacker on the wire would.
type sniffer struct {
	fd   int
	mu   sync.Mutex
	got  [][]byte
	done chan struct{}
}

// sniff starts a sniffer on interface ifname of ns until the test ends.
func sniff(t *testing.T, ns *nstest.NS, ifname string) *sniffer {
	t.Helper()
	s := &sniffer{done: make(chan struct{})}
	if err := ns.Do(func() error {
		ifi, err := netInterface(ifname)
		if err != nil {
			return err
		}
		proto := int(htons(unix.ETH_P_IP))
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, proto)
		if err != nil {
			return err
		}
		s.fd = fd
		tv := unix.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return err
		}
		return unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: htons(unix.ETH_P_IP), Ifindex: ifi})
	}); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		buf := make([]byte, 70000)
		for {
			n, _, err := unix.Recvfrom(s.fd, buf, 0)
			if err == unix.EAGAIN || err == unix.EINTR {
				continue
			}
			if err != nil {
				return
			}
			p := buf[:n]
			if n < 20 || p[0]>>4 != 4 || p[9] != unix.IPPROTO_UDP {
				continue
			}
			ihl := int(p[0]&0x0f) * 4
			if n < ihl+8 || binary.BigEndian.Uint16(p[ihl+2:]) != 3780 {
				continue
			}
			s.mu.Lock()
			s.got = append(s.got, append([]byte(nil), p[ihl+8:]...))
			s.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		unix.Shutdown(s.fd, unix.SHUT_RDWR)
		unix.Close(s.fd)
		<-s.done
	})
	return s
}

// datagrams returns what the sniffer caught so far that contains text.
func (s *sniffer) datagrams(text string) [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	for _, d := range s.got {
		if bytes.Contains(d, []byte(text)) {
			out = append(out, d)
		}
	}
	return out
}

// caught waits for the sniffer to catch a datagram containing text and
// returns all it caught of it.
func (s *sniffer) caught(t *testing.T, text string) [][]byte {
	t.Helper()
	var ds [][]byte
	nstest.WaitFor(t, "a datagram caught on the wire", func() bool {
		ds = s.datagrams(text)
		return len(ds) > 0
	})
	return ds
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// netInterface is the index of the named interface of the calling
// thread's namespace.
func netInterface(name string) (int, error) {
	idx, _, err := iface(name)
	return idx, err
}

// sendRaw sends d from a plain UDP socket of ns to dst, as an attacker
// replaying a datagram.
func sendRaw(t *testing.T, ns *nstest.NS, dst string, d []byte) {
	t.Helper()
	if err := ns.Do(func() error {
		ap := netip.MustParseAddrPort(dst)
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fd)
		return unix.Sendto(fd, d, 0, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()})
	}); err != nil {
		t.Fatal(err)
	}
}

// receiver reads a Link into a channel until it closes.
func receiver(l Link) <-chan []byte {
	c := make(chan []byte, 64)
	go func() {
		defer close(c)
		buf := make([]byte, maxMessage)
		for {
			n, err := l.Recv(buf)
			if err != nil {
				return
			}
			c <- append([]byte(nil), buf[:n]...)
		}
	}()
	return c
}

// sendUntil sends msg on from until it comes out of in (a fresh link may
// drop the first ones, an authenticated one until the peers know each
// other); datagrams of other text are skipped.
func sendUntil(t *testing.T, from Link, in <-chan []byte, msg []byte) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := from.Send(msg); err != nil {
			t.Fatal(err)
		}
		for wait := true; wait; {
			select {
			case b, ok := <-in:
				if !ok {
					t.Fatal("link closed")
				}
				if bytes.Equal(b, msg) {
					return
				}
			case <-tick.C:
				wait = false
			case <-deadline:
				t.Fatalf("%q not received", msg)
			}
		}
	}
}

// expectNone fails when in hands out a datagram containing text within d.
func expectNone(t *testing.T, in <-chan []byte, text string, d time.Duration) {
	t.Helper()
	timeout := time.After(d)
	for {
		select {
		case b := <-in:
			if bytes.Contains(b, []byte(text)) {
				t.Fatalf("replayed datagram %q taken", b)
			}
		case <-timeout:
			return
		}
	}
}

// authPair joins namespaces a and b by two veth pairs, x1 (192.0.2.0/24,
// the Default link) and x2 (198.51.100.0/24), and returns the Sets of two
// authenticated UDP links of each side's blocks.
func authPair(t *testing.T) (a, b *nstest.NS, ca, cb []config.Link) {
	a, b = nstest.Joined(t, "xa1", "192.0.2.1", "xb1", "192.0.2.2")
	a.Run(t, "ip", "link", "add", "xa2", "type", "veth", "peer", "name", "xb2", "netns", b.Name())
	a.Run(t, "ip", "addr", "add", "198.51.100.1/24", "dev", "xa2")
	b.Run(t, "ip", "addr", "add", "198.51.100.2/24", "dev", "xb2")
	a.Run(t, "ip", "link", "set", "xa2", "up")
	b.Run(t, "ip", "link", "set", "xb2", "up")
	udp := func(local, remote, ifname string, def bool) config.Link {
		return config.Link{Transport: config.TransportUDP, Address: netip.MustParseAddr(local),
			Destination: netip.MustParseAddr(remote), Port: 3780, Interface: ifname, Checksum: true,
			Default: def, AuthKey: authHex, AuthKeyLine: 1}
	}
	ca = []config.Link{udp("192.0.2.1", "192.0.2.2", "xa1", true), udp("198.51.100.1", "198.51.100.2", "xa2", false)}
	cb = []config.Link{udp("192.0.2.2", "192.0.2.1", "xb1", true), udp("198.51.100.2", "198.51.100.1", "xb2", false)}
	return a, b, ca, cb
}

// openIn opens links in ns as a sync node does.
func openIn(t *testing.T, ns *nstest.NS, links []config.Link) Link {
	t.Helper()
	var l Link
	if err := ns.Do(func() (err error) { l, err = OpenSet(links, 0); return err }); err != nil {
		t.Fatal(err)
	}
	return l
}

// authDrops is the authentication counters of a link: a Set's or an
// Auth's.
func authDrops(l Link) AuthStats {
	switch l := l.(type) {
	case *Set:
		return l.AuthStats()
	case *Auth:
		return l.AuthStats()
	}
	return AuthStats{}
}

// TestAuthSetReflection: a node's own datagram, captured on its Default
// link and sent back to it on either link, is dropped and counted; it
// leaves the backup link's replay state alone, so that the peer's
// datagrams on the backup link are taken when it fails over.
func TestAuthSetReflection(t *testing.T) {
	a, b, ca, cb := authPair(t)
	// B first: A's epochs are the later ones, which is what moved the
	// backup link's window past B's.
	lb := openIn(t, b, cb)
	defer lb.Close()
	time.Sleep(5 * time.Millisecond) // past the epochs' random low bits
	la := openIn(t, a, ca)
	defer la.Close()
	sn := sniff(t, b, "xb1")
	inA, inB := receiver(la), receiver(lb)

	sendUntil(t, la, inB, []byte("A to B on link 1"))
	sendUntil(t, lb, inA, []byte("B to A on link 1"))
	own := sn.caught(t, "A to B on link 1")
	before := authDrops(la)
	// A's own datagram back to both its links (to link 2 first).
	sendRaw(t, b, "198.51.100.1:3780", own[0])
	sendRaw(t, b, "192.0.2.1:3780", own[0])
	expectNone(t, inA, "A to B", time.Second)
	// On link 2 the MAC (of link 1) is wrong; on link 1 the epoch is A's.
	if got := authDrops(la); got.BadMAC != before.BadMAC+1 || got.Reflected != before.Reflected+1 ||
		got.Dropped() != before.Dropped()+2 || got.Accepted != before.Accepted {
		t.Errorf("A's auth counters %+v, before %+v; want a forgery and a reflection more", got, before)
	}
	if ls := la.(*Set).Links(); !ls[0].Active {
		t.Errorf("A moved off link 1: %+v", ls)
	}

	// B fails over to link 2: A takes what B sends there.
	b.Run(t, "ip", "link", "set", "xb1", "down")
	nstest.WaitFor(t, "B on link 2", func() bool { return activeOf(lb.(*Set)) == 1 })
	sendUntil(t, lb, inA, []byte("B to A on link 2"))
	if st := authDrops(la); st.Stale != 0 || st.Replayed != 0 {
		t.Errorf("A dropped B's datagrams: %+v", st)
	}
}

// TestAuthRestartReplay: a datagram of A's recorded on the wire is not
// taken again after B restarts (its replay state gone), nor after A
// restarts; the restarted sides talk at once.
func TestAuthRestartReplay(t *testing.T) {
	a, b, ca, cb := authPair(t)
	ca, cb = ca[:1], cb[:1]
	la := openIn(t, a, ca)
	defer func() { la.Close() }()
	lb := openIn(t, b, cb)
	sn := sniff(t, b, "xb1")
	inA, inB := receiver(la), receiver(lb)
	sendUntil(t, la, inB, []byte("A to B before"))
	sendUntil(t, lb, inA, []byte("B to A before"))
	rec := sn.caught(t, "A to B before")

	// B restarts: the recorded datagrams are refused, A's new ones taken.
	lb.Close()
	lb = openIn(t, b, cb)
	defer func() { lb.Close() }()
	inB = receiver(lb)
	for _, d := range rec {
		sendRaw(t, a, "192.0.2.2:3780", d)
	}
	expectNone(t, inB, "A to B before", time.Second)
	sendUntil(t, la, inB, []byte("A to B after B's restart"))
	sendUntil(t, lb, inA, []byte("B to A after B's restart"))
	for _, d := range rec {
		sendRaw(t, a, "192.0.2.2:3780", d)
	}
	expectNone(t, inB, "A to B before", 500*time.Millisecond)

	// A restarts: its recorded datagrams (of both runs) are refused.
	rec = append(rec, sn.caught(t, "A to B after")...)
	la.Close()
	la = openIn(t, a, ca)
	inA = receiver(la)
	for _, d := range rec {
		sendRaw(t, a, "192.0.2.2:3780", d)
	}
	expectNone(t, inB, "A to B", time.Second)
	sendUntil(t, la, inB, []byte("C to B after A's restart"))
	sendUntil(t, lb, inA, []byte("B to A after A's restart"))
	for _, d := range rec {
		sendRaw(t, a, "192.0.2.2:3780", d)
	}
	expectNone(t, inB, "A to B", 500*time.Millisecond)
	st := authDrops(lb)
	if st.Dropped() == 0 || st.BadMAC != 0 {
		t.Errorf("B's auth counters %+v", st)
	}
}
