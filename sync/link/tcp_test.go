package link

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
	"testing/iotest"
	"time"

	"ctq/internal/nstest"
	"ctq/sync/config"
	"ctq/sync/wire"
)

// stream is n control messages back to back (ALIVE and ACK, 8 and 16
// bytes), sequence numbers from seq.
func stream(t testing.TB, n int, seq uint32) []byte {
	t.Helper()
	var b []byte
	for i := range n {
		m := &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagAlive, Seq: seq + uint32(i)}}
		if i%2 == 1 {
			m = &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagACK, Seq: seq + uint32(i)},
				Control: &wire.Control{From: 1, To: 2}}
		}
		var err error
		if b, err = wire.AppendMessage(b, m); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

// frameAll reads r through a framer and returns the chunks it yields,
// and the fill error that ended it.
func frameAll(r io.Reader, size int) ([][]byte, error) {
	var f framer
	var out [][]byte
	buf := make([]byte, size)
	for {
		if n, ok := f.next(buf); ok {
			out = append(out, append([]byte(nil), buf[:n]...))
			continue
		}
		if err := f.fill(r); err != nil {
			if errors.Is(err, errFraming) {
				out = append(out, append([]byte(nil), buf[:f.drain(buf)]...))
			}
			return out, err
		}
	}
}

func TestFramer(t *testing.T) {
	msgs := stream(t, 9, 100)
	tests := []struct {
		name    string
		r       io.Reader
		size    int
		framing bool
		want    []byte
	}{
		{"whole", bytes.NewReader(msgs), maxMessage, false, msgs},
		{"one byte a read", iotest.OneByteReader(bytes.NewReader(msgs)), maxMessage, false, msgs},
		{"half reads", iotest.HalfReader(bytes.NewReader(msgs)), maxMessage, false, msgs},
		{"small buffer", bytes.NewReader(msgs), 20, false, msgs},
		// A partial trailing message is held, never handed over.
		{"partial tail", bytes.NewReader(msgs[:len(msgs)-3]), maxMessage, false, msgs[:len(msgs)-8]},
		// A length shorter than a header cannot be framed: what is held
		// goes to the decoder.
		{"bad length", bytes.NewReader(append(stream(t, 1, 1), 0x1a, 0x10, 0, 4, 0, 0, 0, 9)), maxMessage, true,
			append(stream(t, 1, 1), 0x1a, 0x10, 0, 4, 0, 0, 0, 9)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			chunks, err := frameAll(tt.r, tt.size)
			if tt.framing != errors.Is(err, errFraming) {
				t.Fatalf("ended with %v", err)
			}
			if !tt.framing && !errors.Is(err, io.EOF) {
				t.Fatalf("ended with %v, want EOF", err)
			}
			var got []byte
			for i, c := range chunks {
				got = append(got, c...)
				if tt.framing && i == len(chunks)-1 {
					continue
				}
				if len(c) > tt.size {
					t.Errorf("chunk of %d bytes for a %d-byte buffer", len(c), tt.size)
				}
				if err := wire.Decode(c, func(_ *wire.Message, err error) error { return err }); err != nil {
					t.Errorf("chunk %d: %v", i, err)
				}
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("framed %x\nwant %x", got, tt.want)
			}
		})
	}
}

// FuzzFramer checks that any stream, read in any chunk size, comes out as
// a prefix of itself cut at message boundaries.
func FuzzFramer(f *testing.F) {
	f.Add(stream(f, 5, 7), uint8(3))
	f.Add([]byte{0x1a, 0x10, 0, 4, 0, 0, 0, 9}, uint8(1))
	f.Add([]byte{0x10, 0, 0xff, 0xfc, 1, 2, 3}, uint8(0))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		r := io.Reader(bytes.NewReader(in))
		if step%2 == 1 {
			r = iotest.OneByteReader(r)
		}
		chunks, err := frameAll(r, maxMessage)
		var got []byte
		for i, c := range chunks {
			last := errors.Is(err, errFraming) && i == len(chunks)-1
			for rest := c; len(rest) >= wire.HeaderLen && !last; {
				l := int(rest[2])<<8 | int(rest[3])
				if l < wire.HeaderLen || l > len(rest) {
					t.Fatalf("chunk %d not cut at a message boundary: %x", i, c)
				}
				rest = rest[l:]
			}
			got = append(got, c...)
		}
		if !bytes.HasPrefix(in, got) {
			t.Fatalf("framed %x, not a prefix of %x", got, in)
		}
	})
}

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

func TestTCPErrorQueue(t *testing.T) {
	q := &TCP{queueLen: 2, closed: false, connErr: nil, kick: make(chan struct{}, 1)}
	for i := range 3 {
		if err := q.Send([]byte{byte(i)}); err == nil {
			t.Fatal("send without a connection succeeded")
		}
	}
	// The oldest was dropped.
	if len(q.queue) != 2 || q.queue[0][0] != 1 || q.queue[1][0] != 2 || q.Stats().SendErrors != 3 {
		t.Errorf("queue %v, stats %+v", q.queue, q.Stats())
	}
}
