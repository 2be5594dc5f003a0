//go:build linux

package link

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"ctq/internal/nstest"
	"ctq/sync/config"
	"ctq/sync/wire"
)

// tcpPair opens two TCP links to each other in a new namespace, with
// short reconnect waits.
func tcpPair(t *testing.T) (ns *nstest.NS, c1, c2 config.Link, l1, l2 *TCP) {
	t.Helper()
	ns = nstest.New(t)
	ns.Run(t, "ip", "link", "add", "l1", "mtu", "1400", "type", "veth", "peer", "name", "l2")
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "l1")
	ns.Run(t, "ip", "addr", "add", "192.0.2.2/24", "dev", "l2")
	ns.Run(t, "ip", "link", "set", "l1", "up")
	ns.Run(t, "ip", "link", "set", "l2", "up")
	a1, a2 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	c1 = config.Link{Transport: config.TransportTCP, Address: a1, Destination: a2, Port: 3780, Interface: "l1"}
	c2 = config.Link{Transport: config.TransportTCP, Address: a2, Destination: a1, Port: 3780}
	if err := ns.Do(func() error {
		var err error
		if l1, err = openTCP(&c1, 4, 20*time.Millisecond, 100*time.Millisecond); err != nil {
			return err
		}
		l2, err = openTCP(&c2, 4, 20*time.Millisecond, 100*time.Millisecond)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l1.Close(); l2.Close() })
	return ns, c1, c2, l1, l2
}

// recvStream receives from l until want bytes came, failing after a
// generous bound (a guard against hanging, not a timing assertion).
func recvStream(t *testing.T, l *TCP, want int) []byte {
	t.Helper()
	type res struct {
		b   []byte
		err error
	}
	c := make(chan res, 1)
	go func() {
		var got []byte
		buf := make([]byte, maxMessage)
		for len(got) < want {
			n, err := l.Recv(buf)
			if err != nil {
				c <- res{got, err}
				return
			}
			if err := wire.Decode(buf[:n], func(_ *wire.Message, err error) error { return err }); err != nil {
				c <- res{got, err}
				return
			}
			got = append(got, buf[:n]...)
		}
		c <- res{got, nil}
	}()
	select {
	case r := <-c:
		if r.err != nil {
			t.Fatalf("receive: %v", r.err)
		}
		return r.b
	case <-time.After(20 * time.Second):
		t.Fatalf("gave up waiting for %d bytes", want)
	}
	return nil
}

func TestTCP(t *testing.T) {
	nstest.Require(t)
	ns, _, c2, l1, l2 := tcpPair(t)
	if l1.MaxPayload() != 1360 || l2.MaxPayload() != 1460 {
		t.Errorf("max payload %d, %d; want 1360 (MTU 1400), 1460 (default)", l1.MaxPayload(), l2.MaxPayload())
	}
	if got := l1.LocalAddr(); got != netip.MustParseAddrPort("192.0.2.1:3780") {
		t.Errorf("listening on %v", got)
	}

	// Both ways. What is sent before the connection is up waits in the
	// error queue and goes out first, in order.
	one, two := stream(t, 40, 1), stream(t, 30, 500)
	l1.Send(one[:240])
	l2.Send(two)
	l1.Send(one[240:])
	if got := recvStream(t, l2, len(one)); !bytes.Equal(got, one) {
		t.Errorf("l2 received %d bytes, want the %d sent", len(got), len(one))
	}
	if got := recvStream(t, l1, len(two)); !bytes.Equal(got, two) {
		t.Errorf("l1 received %d bytes, want the %d sent", len(got), len(two))
	}

	// The peer restarts: l1 connects again and its queued messages go out
	// in order on the new connection. What l1 wrote before it noticed is
	// lost, as with conntrackd.
	l2.Close()
	for l1.Send(stream(t, 1, 9)) == nil {
		time.Sleep(10 * time.Millisecond) // until l1 notices
	}
	queued := append(stream(t, 1, 9), stream(t, 3, 1000)...)
	l1.Send(queued[8:])
	var err error
	if err := ns.Do(func() error { l2, err = openTCP(&c2, 4, 20*time.Millisecond, 100*time.Millisecond); return err }); err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	after := stream(t, 2, 2000)
	l1.Send(after)
	got := recvStream(t, l2, len(queued)+len(after))
	if !bytes.Equal(got, append(queued, after...)) {
		t.Errorf("after the restart l2 received %x", got)
	}
	if st := l1.Stats(); st.SendErrors == 0 || st.SentDatagrams < 3 {
		t.Errorf("l1 stats %+v", st)
	}

	// Close ends a blocked Recv.
	errc := make(chan error, 1)
	go func() {
		_, err := l1.Recv(make([]byte, maxMessage))
		errc <- err
	}()
	l1.Close()
	if err := <-errc; err == nil {
		t.Error("Recv on a closed link succeeded")
	}
}

// TestTCPPeerBackResetsBackoff: a link whose peer stayed down long enough
// for its reconnect wait to grow connects again as soon as the peer's own
// connection comes in (the peer is back), not when the wait ends; what it
// sends then reaches the peer at once, as a resync's answer must. The wait
// is an hour here: the message arriving at all shows it was cut short.
func TestTCPPeerBackResetsBackoff(t *testing.T) {
	nstest.Require(t)
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "add", "l1", "type", "veth", "peer", "name", "l2")
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "l1")
	ns.Run(t, "ip", "addr", "add", "192.0.2.2/24", "dev", "l2")
	ns.Run(t, "ip", "link", "set", "l1", "up")
	ns.Run(t, "ip", "link", "set", "l2", "up")
	a1, a2 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	c1 := config.Link{Transport: config.TransportTCP, Address: a1, Destination: a2, Port: 3780}
	c2 := config.Link{Transport: config.TransportTCP, Address: a2, Destination: a1, Port: 3780}
	var l1, l2 *TCP
	if err := ns.Do(func() error {
		var err error
		l1, err = openTCP(&c1, 4, time.Hour, time.Hour)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l1.Close()
	// The peer is down: l1's first attempt is refused and it waits.
	for l1.dialFailures.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	if err := ns.Do(func() error {
		var err error
		l2, err = openTCP(&c2, 4, 20*time.Millisecond, 100*time.Millisecond)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	// l2 connects to l1 at once; l1 learns the peer is back.
	for l1.accepted.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	m := stream(t, 3, 77)
	l1.Send(m)
	if got := recvStream(t, l2, len(m)); !bytes.Equal(got, m) {
		t.Errorf("l2 received %x, want %x", got, m)
	}
}
