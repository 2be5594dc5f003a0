package node

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"ctq/sync/link"
	"ctq/sync/wire"
)

// fakeLink records what is sent.
type fakeLink struct {
	max  int
	sent [][]byte
}

func (l *fakeLink) Send(b []byte) error {
	l.sent = append(l.sent, append([]byte(nil), b...))
	return nil
}
func (l *fakeLink) Recv([]byte) (int, error) { return 0, fmt.Errorf("fake link receives nothing") }
func (l *fakeLink) MaxPayload() int          { return l.max }
func (l *fakeLink) Stats() link.Stats        { return link.Stats{} }
func (l *fakeLink) Close() error             { return nil }

// chanLink is a link whose datagrams go to a channel and whose Recv
// returns what the test puts into recv (nil: nothing) until Close.
type chanLink struct {
	sent   chan []byte
	recv   chan []byte
	closed chan struct{}
	once   sync.Once
	// peerConnects is what Stats reports as PeerConnects.
	peerConnects atomic.Uint64
}

// newChanLink returns a chanLink that keeps what it sends.
func newChanLink() *chanLink {
	return &chanLink{sent: make(chan []byte, 1<<16), recv: make(chan []byte), closed: make(chan struct{})}
}

func (l *chanLink) Send(b []byte) error {
	l.sent <- append([]byte(nil), b...)
	return nil
}
func (l *chanLink) Recv(b []byte) (int, error) {
	select {
	case d := <-l.recv:
		return copy(b, d), nil
	case <-l.closed:
		return 0, errors.New("closed")
	}
}
func (l *chanLink) MaxPayload() int   { return 1472 }
func (l *chanLink) Stats() link.Stats { return link.Stats{PeerConnects: l.peerConnects.Load()} }
func (l *chanLink) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

// next returns the data messages of the next datagrams until n have come,
// skipping control messages.
func (l *chanLink) next(t *testing.T, n int, diag func() string) []*wire.Message {
	t.Helper()
	return l.take(t, n, func(m *wire.Message) bool { return m.CT != nil }, diag)
}

// take returns the messages keep accepts of the next datagrams until n
// have come (the rest of the last datagram's too). It gives up after 30 s
// (a failure; diag, when set, describes the state).
func (l *chanLink) take(t *testing.T, n int, keep func(*wire.Message) bool, diag func() string) []*wire.Message {
	t.Helper()
	var out []*wire.Message
	var seen []string
	timeout := time.After(30 * time.Second)
	for len(out) < n {
		select {
		case d := <-l.sent:
			wire.Decode(d, func(m *wire.Message, err error) error {
				if err != nil {
					t.Fatalf("sent a bad message: %v", err)
				}
				if keep(m) {
					seen = append(seen, msgString(m))
					out = append(out, m)
				}
				return nil
			})
		case <-timeout:
			why := ""
			if diag != nil {
				why = diag()
			}
			t.Fatalf("%d of %d messages sent; all seen: %v; %s", len(out), n, seen, why)
		}
	}
	return out
}

// msgString describes a sent message: its type and flags, and the
// destination and source port of a flow.
func msgString(m *wire.Message) string {
	if m.CT != nil {
		return fmt.Sprintf("%v %v:%d", m.Header.Type, m.CT.Orig.Dst, m.CT.Orig.Sport)
	}
	return fmt.Sprintf("%v %v", m.Header.Type, m.Header.Flags)
}

// drain returns the datagrams the link has sent so far.
func drain(l *chanLink) [][]byte {
	var out [][]byte
	for {
		select {
		case d := <-l.sent:
			out = append(out, d)
		default:
			return out
		}
	}
}

// dataMessages counts the entry messages in datagrams.
func dataMessages(t *testing.T, datagrams [][]byte) int {
	t.Helper()
	count := 0
	for _, d := range datagrams {
		wire.Decode(d, func(m *wire.Message, err error) error {
			if err != nil {
				t.Fatalf("sent a bad message: %v", err)
			}
			if m.CT != nil {
				count++
			}
			return nil
		})
	}
	return count
}
