package link

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"ctq/sync/config"
	"ctq/sync/wire"
)

// fakeLink is an in-memory Link: Send records or fails, Recv returns what
// is pushed into in.
type fakeLink struct {
	max  int
	fail atomic.Bool
	in   chan []byte
	done chan struct{}
	once sync.Once

	mu   sync.Mutex
	sent [][]byte
	st   Stats
}

func newFake(max int) *fakeLink {
	return &fakeLink{max: max, in: make(chan []byte, 8), done: make(chan struct{})}
}

func (f *fakeLink) Send(b []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail.Load() {
		f.st.SendErrors++
		return errors.New("network is down")
	}
	f.sent = append(f.sent, append([]byte(nil), b...))
	f.st.SentDatagrams++
	f.st.SentBytes += uint64(len(b))
	return nil
}

func (f *fakeLink) Recv(buf []byte) (int, error) {
	select {
	case b := <-f.in:
		f.mu.Lock()
		f.st.RecvDatagrams++
		f.st.RecvBytes += uint64(len(b))
		f.mu.Unlock()
		return copy(buf, b), nil
	case <-f.done:
		return 0, fmt.Errorf("receive: %w", net.ErrClosed)
	}
}

func (f *fakeLink) MaxPayload() int { return f.max }

func (f *fakeLink) Stats() Stats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

func (f *fakeLink) Close() error {
	f.once.Do(func() { close(f.done) })
	return nil
}

func (f *fakeLink) sentStrings() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, b := range f.sent {
		out = append(out, string(b))
	}
	return out
}

// fakeSet is a Set of n fake links of transport tr, link active first.
func fakeSet(n int, tr config.Transport, active int) (*Set, []*fakeLink) {
	var fakes []*fakeLink
	var members []*member
	for i := range n {
		f := newFake(1400 - 10*i)
		fakes = append(fakes, f)
		m := &member{link: f, name: fmt.Sprintf("veth%d", i), transport: tr, ifname: fmt.Sprintf("veth%d", i),
			ifindex: 10 + i, line: i + 1}
		m.up.Store(true)
		members = append(members, m)
	}
	return newSet(members, active, nil, nil), fakes
}

// activeOf is the index of the active link.
func activeOf(s *Set) int {
	for i, l := range s.Links() {
		if l.Active {
			return i
		}
	}
	return -1
}

func TestSetFailover(t *testing.T) {
	s, f := fakeSet(3, config.TransportUDP, 1)
	defer s.Close()
	if s.MaxPayload() != 1380 {
		t.Errorf("max payload %d, want the smallest, 1380", s.MaxPayload())
	}
	steps := []struct {
		name string
		do   func() error
		// active is the active link after the step; sent what each link
		// sent in all.
		active int
		sent   [3]string
	}{
		{"the Default link sends", func() error { return s.Send([]byte("a")) }, 1, [3]string{"", "a", ""}},
		{"a send error moves on and sends again", func() error {
			f[1].fail.Store(true)
			return s.Send([]byte("b"))
		}, 2, [3]string{"", "a", "b"}},
		{"a receive on a backup link makes it active", func() error {
			f[0].in <- alive(t, 1)
			buf := make([]byte, 100)
			n, err := s.Recv(buf)
			if err == nil && string(buf[:n]) != string(alive(t, 1)) {
				err = fmt.Errorf("received %q", buf[:n])
			}
			return err
		}, 0, [3]string{"", "a", "b"}},
		{"a down interface is skipped", func() error {
			s.linkChanged(11, false) // not active: no move
			s.linkChanged(10, false) // link 0 active: moves to 2, 1 is down
			return s.Send([]byte("c"))
		}, 2, [3]string{"", "a", "b c"}},
		{"an unknown interface changes nothing", func() error {
			s.linkChanged(99, false)
			return s.Send([]byte("d"))
		}, 2, [3]string{"", "a", "b c d"}},
		{"with no other link up, the active one stays and the error is returned", func() error {
			f[2].fail.Store(true)
			if err := s.Send([]byte("e")); err == nil || !strings.Contains(err.Error(), "veth2") {
				return fmt.Errorf("send: %v, want veth2's error", err)
			}
			return nil
		}, 2, [3]string{"", "a", "b c d"}},
		{"a link that comes back up is a candidate again, not active", func() error {
			s.linkChanged(10, true)
			f[2].fail.Store(false)
			return s.Send([]byte("f"))
		}, 2, [3]string{"", "a", "b c d f"}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := activeOf(s); got != st.active {
			t.Errorf("%s: link %d active, want %d", st.name, got, st.active)
		}
		for i := range f {
			if got := strings.Join(f[i].sentStrings(), " "); got != st.sent[i] {
				t.Errorf("%s: link %d sent %q, want %q", st.name, i, got, st.sent[i])
			}
		}
	}
	want := Stats{SentBytes: 5, SentDatagrams: 5, SendErrors: 2, RecvBytes: 8, RecvDatagrams: 1}
	if got := s.Stats(); got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
	ls := s.Links()
	if ls[0].Up != true || ls[1].Up != false || ls[0].Name != "veth0" || ls[2].Line != 3 || ls[2].Stats.SentDatagrams != 4 {
		t.Errorf("links %+v", ls)
	}

	errc := make(chan error, 1)
	go func() {
		_, err := s.Recv(make([]byte, 10))
		errc <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Recv after Close: %v", err)
	}
	if err := s.Send([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Send after Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// alive is a valid datagram: one ALIVE control message of sequence seq.
func alive(t testing.TB, seq uint32) []byte {
	t.Helper()
	b, err := wire.AppendMessage(nil, &wire.Message{Header: wire.Header{Type: wire.MsgControl, Flags: wire.FlagAlive, Seq: seq}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestSetSwitchOnValid: only a datagram of valid messages makes the link
// it came from active; junk is handed on (the node counts it) and changes
// nothing, over UDP and over TCP.
func TestSetSwitchOnValid(t *testing.T) {
	for _, tr := range []config.Transport{config.TransportUDP, config.TransportTCP} {
		s, f := fakeSet(2, tr, 0)
		buf := make([]byte, maxMessage)
		ok := alive(t, 7)
		for _, tc := range []struct {
			name string
			d    []byte
			want int
		}{
			{"one junk byte", []byte{0}, 0},
			{"a truncated header", ok[:5], 0},
			{"a bad version", append([]byte{0x2a}, ok[1:]...), 0},
			{"a valid message and junk", append(append([]byte(nil), ok...), 0xff), 0},
			{"a header only", []byte{0x1a, 0x10, 0, 8}, 0},
			{"an ALIVE", ok, 1},
		} {
			f[1].in <- tc.d
			n, err := s.Recv(buf)
			if err != nil || string(buf[:n]) != string(tc.d) {
				t.Fatalf("%v, %s: received %q, %v", tr, tc.name, buf[:n], err)
			}
			if got := activeOf(s); got != tc.want {
				t.Errorf("%v, %s: link %d active, want %d", tr, tc.name, got, tc.want)
			}
		}
		s.Close()
	}
}

// TestSetStartDown checks that a Set does not start on a link whose
// interface is down.
func TestSetStartDown(t *testing.T) {
	var members []*member
	for i := range 3 {
		m := &member{link: newFake(1000), name: fmt.Sprint(i), ifname: fmt.Sprint("if", i), ifindex: i + 1}
		m.up.Store(i != 1)
		members = append(members, m)
	}
	s := newSet(members, 1, nil, nil)
	defer s.Close()
	if activeOf(s) != 2 {
		t.Errorf("link %d active, want 2: the Default, 1, is down", activeOf(s))
	}
}

// TestSetTCP checks what differs over TCP: a failed send is not sent
// again on the next link (the TCP link queues it), and Recv wants a
// buffer for the longest message.
func TestSetTCP(t *testing.T) {
	s, f := fakeSet(2, config.TransportTCP, 0)
	defer s.Close()
	f[0].fail.Store(true)
	if err := s.Send([]byte("a")); err == nil {
		t.Error("failed TCP send reported no error")
	}
	if activeOf(s) != 1 || len(f[1].sentStrings()) != 0 {
		t.Errorf("link %d active, link 1 sent %q", activeOf(s), f[1].sentStrings())
	}
	if _, err := s.Recv(make([]byte, 100)); err == nil {
		t.Error("Recv with a small buffer over TCP: no error")
	}
	f[0].in <- alive(t, 1)
	if n, err := s.Recv(make([]byte, maxMessage)); err != nil || n != wire.HeaderLen || activeOf(s) != 0 {
		t.Errorf("Recv: %d, %v; link %d active", n, err, activeOf(s))
	}
}

// TestSetReceiveAll checks that Recv returns the datagrams of every link.
func TestSetReceiveAll(t *testing.T) {
	s, f := fakeSet(4, config.TransportMulticast, 0)
	defer s.Close()
	want := map[string]bool{}
	for i := range f {
		for j := range 3 {
			m := fmt.Sprintf("%d.%d", i, j)
			f[i].in <- []byte(m)
			want[m] = true
		}
	}
	buf := make([]byte, 100)
	for range 12 {
		n, err := s.Recv(buf)
		if err != nil {
			t.Fatal(err)
		}
		if !want[string(buf[:n])] {
			t.Errorf("unexpected or repeated %q", buf[:n])
		}
		delete(want, string(buf[:n]))
	}
	if len(want) != 0 {
		t.Errorf("not received: %v", want)
	}
}

func TestOpenSetErrors(t *testing.T) {
	u := config.Link{Transport: config.TransportUDP, Address: netip.MustParseAddr("192.0.2.1"),
		Destination: netip.MustParseAddr("192.0.2.2"), Port: 3780}
	m := config.Link{Transport: config.TransportMulticast, Address: netip.MustParseAddr("225.0.0.50")}
	for _, tc := range []struct {
		links []config.Link
		want  string
	}{
		{nil, "no dedicated link"},
		{[]config.Link{u, u, u, u, u}, "5 dedicated links: at most 4"},
		{[]config.Link{u, m}, "Multicast link of line 0 with UDP links"},
	} {
		if _, err := OpenSet(tc.links, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%d links: %v, want %q", len(tc.links), err, tc.want)
		}
	}
}
