//go:build linux

package link

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"
	"ctq/sync/config"
)

func TestUDP(t *testing.T) {
	ns := nstest.New(t)
	ns.Run(t, "ip", "link", "add", "l1", "mtu", "1400", "type", "veth", "peer", "name", "l2")
	ns.Run(t, "ip", "addr", "add", "192.0.2.1/24", "dev", "l1")
	ns.Run(t, "ip", "addr", "add", "192.0.2.2/24", "dev", "l2")
	ns.Run(t, "ip", "link", "set", "l1", "up")
	ns.Run(t, "ip", "link", "set", "l2", "up")
	a1, a2 := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	c1 := config.Link{Transport: config.TransportUDP, Address: a1, Destination: a2, Port: 3780,
		Interface: "l1", Checksum: true, RcvSocketBuffer: 1 << 20, SndSocketBuffer: 1 << 20}
	c2 := config.Link{Transport: config.TransportUDP, Address: a2, Destination: a1, Port: 3780}
	var l1, l2 *UDP
	if err := ns.Do(func() error {
		var err error
		if l1, err = OpenUDP(&c1); err != nil {
			return err
		}
		l2, err = OpenUDP(&c2)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer l2.Close()

	if l1.MaxPayload() != 1372 || l2.MaxPayload() != 1472 {
		t.Errorf("max payload %d, %d; want 1372 (MTU 1400), 1472 (default)", l1.MaxPayload(), l2.MaxPayload())
	}
	if got := l1.LocalAddr(); got != netip.AddrPortFrom(a1, 3780) {
		t.Errorf("bound to %v", got)
	}
	sent1 := exchange(t, l1, l2, []byte("sync messages, whole"))
	sent2 := exchange(t, l2, l1, []byte("sync messages, whole"))
	want1 := Stats{SentBytes: 20 * sent1, SentDatagrams: sent1, RecvBytes: 20, RecvDatagrams: 1}
	want2 := Stats{SentBytes: 20 * sent2, SentDatagrams: sent2, RecvBytes: 20, RecvDatagrams: 1}
	if l1.Stats() != want1 || l2.Stats() != want2 {
		t.Errorf("stats %+v %+v, want %+v, %+v", l1.Stats(), l2.Stats(), want1, want2)
	}

	// Checksum off sets SO_NO_CHECK on the send socket; the buffers are
	// forced (the kernel reports twice the value asked).
	c2.Checksum = false
	c2.Port = 3781
	var l3 *UDP
	if err := ns.Do(func() (err error) { l3, err = OpenUDP(&c2); return err }); err != nil {
		t.Fatal(err)
	}
	defer l3.Close()
	for _, tc := range []struct {
		u    *UDP
		opt  int
		want int
	}{{l1, unix.SO_NO_CHECK, 0}, {l3, unix.SO_NO_CHECK, 1}, {l1, unix.SO_SNDBUF, 2 << 20}} {
		raw, err := tc.u.send.SyscallConn()
		if err != nil {
			t.Fatal(err)
		}
		var got int
		raw.Control(func(fd uintptr) { got, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, tc.opt) })
		if err != nil || got != tc.want {
			t.Errorf("option %d: %d, %v; want %d", tc.opt, got, err, tc.want)
		}
	}

	if err := l1.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l1.Recv(make([]byte, 10)); err == nil || l1.Stats().RecvErrors != 0 {
		t.Errorf("recv after close: %v, errors %d", err, l1.Stats().RecvErrors)
	}

	bad := config.Link{Transport: config.TransportTCP}
	if _, err := OpenUDP(&bad); err == nil {
		t.Error("TCP link opened as UDP")
	}
	missing := c1
	missing.Interface = "nosuch0"
	if err := ns.Do(func() error { _, err := OpenUDP(&missing); return err }); err == nil {
		t.Error("unknown interface: no error")
	}
}

// exchange sends msg from one link until the other receives it (a fresh
// veth pair may not carry traffic at once) and returns how many datagrams
// were sent.
func exchange(t *testing.T, from, to Link, msg []byte) uint64 {
	t.Helper()
	got := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 2000)
		n, err := to.Recv(buf)
		if err != nil {
			got <- nil
			return
		}
		got <- buf[:n]
	}()
	deadline := time.After(30 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for sent := uint64(1); ; sent++ {
		if err := from.Send(msg); err != nil {
			t.Fatal(err)
		}
		select {
		case b := <-got:
			if !bytes.Equal(b, msg) {
				t.Fatalf("received %q, want %q", b, msg)
			}
			return sent
		case <-tick.C:
		case <-deadline:
			t.Fatal("nothing received")
		}
	}
}
