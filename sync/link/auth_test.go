package link

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// memLink is a Link over memory: Send records datagrams, Recv hands out
// the queued ones and fails when none is left.
type memLink struct {
	mu   sync.Mutex
	sent [][]byte
	in   [][]byte
}

func (m *memLink) Send(b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sent = append(m.sent, append([]byte(nil), b...))
	return nil
}

func (m *memLink) Recv(buf []byte) (int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.in) == 0 {
		return 0, errors.New("no more datagrams")
	}
	d := m.in[0]
	m.in = m.in[1:]
	return copy(buf, d), nil
}

// take returns what was sent and forgets it.
func (m *memLink) take() [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sent
	m.sent = nil
	return s
}

func (m *memLink) MaxPayload() int { return 1472 }
func (m *memLink) Stats() Stats    { return Stats{} }
func (m *memLink) Close() error    { return nil }

var (
	testKey  = []byte("0123456789abcdef0123456789abcdef")
	otherKey = []byte("fedcba9876543210fedcba9876543210")
)

// testClock is a clock tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testNode is the authenticated links of one node over memLinks.
type testNode struct {
	g     *authGroup
	auths []*Auth
	links []*memLink
	clock *testClock
}

// newNode makes a node of epoch with links links keyed by key (nil:
// testKey); nothing is sent.
func newNode(t testing.TB, epoch uint64, links int, key []byte) *testNode {
	t.Helper()
	if key == nil {
		key = testKey
	}
	g, err := newAuthGroup(nil)
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: time.Unix(1000, 0)}
	g.epoch, g.now = epoch, clock.now
	n := &testNode{g: g, clock: clock}
	for i := range links {
		ml := &memLink{}
		a, err := g.newAuth(ml, key, i, "")
		if err != nil {
			t.Fatal(err)
		}
		n.auths = append(n.auths, a)
		n.links = append(n.links, ml)
	}
	return n
}

// deliver feeds ds to link i of n and returns the payloads handed on.
func (n *testNode) deliver(i int, ds ...[]byte) [][]byte {
	n.links[i].mu.Lock()
	n.links[i].in = append(n.links[i].in, ds...)
	n.links[i].mu.Unlock()
	var got [][]byte
	buf := make([]byte, 2048)
	for {
		m, err := n.auths[i].Recv(buf)
		if err != nil {
			return got
		}
		got = append(got, append([]byte(nil), buf[:m]...))
	}
}

// pump carries what a and b send on their link i to each other until
// neither sends more, and returns what each handed on.
func pump(a, b *testNode, i int) (toA, toB [][]byte) {
	for range 10 {
		da, db := a.links[i].take(), b.links[i].take()
		if len(da)+len(db) == 0 {
			break
		}
		toB = append(toB, b.deliver(i, da...)...)
		toA = append(toA, a.deliver(i, db...)...)
	}
	return toA, toB
}

// hello makes n's link i send a hello, as OpenSet does.
func (n *testNode) hello(i int) {
	n.auths[i].hello()
}

// handshaken returns two nodes of epochs 100 (a) and 200 (b) with links
// links that know each other's epoch.
func handshaken(t *testing.T, links int) (a, b *testNode) {
	t.Helper()
	a, b = newNode(t, 100, links, nil), newNode(t, 200, links, nil)
	a.hello(0)
	b.hello(0)
	pump(a, b, 0)
	if a.g.peer != 200 || b.g.peer != 100 {
		t.Fatalf("peers %d, %d after the handshake", a.g.peer, b.g.peer)
	}
	return a, b
}

// sendN sends n datagrams "msg<i>" on link l of node from and returns
// them as sent.
func sendN(t *testing.T, from *testNode, l, n int) [][]byte {
	t.Helper()
	from.links[l].take()
	for i := range n {
		if err := from.auths[l].Send([]byte{'m', 's', 'g', byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	return from.links[l].take()
}

func TestAuthHandshake(t *testing.T) {
	a, b := newNode(t, 100, 1, nil), newNode(t, 200, 1, nil)
	// A sends before it knows B: the datagram is kept, a hello asks.
	if err := a.auths[0].Send([]byte("early")); err != nil {
		t.Fatal(err)
	}
	if err := a.auths[0].Send([]byte("early 2")); err != nil {
		t.Fatal(err)
	}
	sent := a.links[0].take()
	if len(sent) != 1 || len(sent[0]) != AuthTrailerLen {
		t.Fatalf("A sent %d datagrams (%v) before the handshake; want one hello", len(sent), sent)
	}
	// B takes the hello (echo 0: A does not know B), learns A's epoch
	// and answers; A learns B's and sends what it kept.
	if got := b.deliver(0, sent...); len(got) != 0 {
		t.Fatalf("B handed on %q", got)
	}
	toA, toB := pump(a, b, 0)
	if len(toA) != 0 || len(toB) != 2 || string(toB[0]) != "early" || string(toB[1]) != "early 2" {
		t.Fatalf("handed on: to A %q, to B %q", toA, toB)
	}
	for _, n := range []*testNode{a, b} {
		st := n.auths[0].AuthStats()
		if st.Dropped() != 0 || st.Handshakes == 0 {
			t.Errorf("epoch %d: stats %+v", n.g.epoch, st)
		}
	}
	if b.auths[0].AuthStats().Accepted != 2 {
		t.Errorf("B's stats %+v", b.auths[0].AuthStats())
	}
	// From now on datagrams go at once, with no more hellos.
	ds := sendN(t, a, 0, 3)
	if len(ds) != 3 {
		t.Fatalf("A sent %d datagrams for 3", len(ds))
	}
	if got := b.deliver(0, ds...); len(got) != 3 || string(got[2]) != "msg\x02" {
		t.Fatalf("got %q", got)
	}
	if a.auths[0].MaxPayload() != 1472-AuthTrailerLen {
		t.Fatalf("MaxPayload %d", a.auths[0].MaxPayload())
	}
}

func TestAuthKept(t *testing.T) {
	a, b := newNode(t, 100, 1, nil), newNode(t, 200, 1, nil)
	for i := range authQueueLen + 5 {
		if i == 5 {
			a.clock.add(authQueueAge) // the first five are too old
		}
		if err := a.auths[0].Send([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	a.links[0].take()
	b.hello(0)
	_, toB := pump(a, b, 0)
	if len(toB) != authQueueLen || toB[0][0] != 5 {
		t.Fatalf("B got %d kept datagrams from %v, want %d from 5", len(toB), toB[0], authQueueLen)
	}
	// Kept datagrams older than authQueueAge are not sent.
	a2, b2 := newNode(t, 100, 1, nil), newNode(t, 200, 1, nil)
	a2.auths[0].Send([]byte("old"))
	a2.links[0].take()
	a2.clock.add(authQueueAge + time.Millisecond)
	b2.hello(0)
	if _, toB := pump(a2, b2, 0); len(toB) != 0 {
		t.Fatalf("B got %q", toB)
	}
}

func TestAuthDrops(t *testing.T) {
	flip := func(i int) func([][]byte) [][]byte {
		return func(ds [][]byte) [][]byte {
			d := append([]byte(nil), ds[0]...)
			d[(i+len(d))%len(d)] ^= 0x10
			return [][]byte{d}
		}
	}
	same := func(ds [][]byte) [][]byte { return ds }
	tests := []struct {
		name string
		key  []byte
		// send is how many datagrams the sender sends; feed picks what
		// reaches the receiver.
		send int
		feed func(ds [][]byte) [][]byte
		want AuthStats
	}{
		{"payload bit", testKey, 1, flip(0), AuthStats{BadMAC: 1}},
		{"epoch bit", testKey, 1, flip(-AuthTrailerLen), AuthStats{BadMAC: 1}},
		{"echo bit", testKey, 1, flip(-AuthTrailerLen + 8), AuthStats{BadMAC: 1}},
		{"counter bit", testKey, 1, flip(-AuthTrailerLen + 23), AuthStats{BadMAC: 1}},
		{"mac bit", testKey, 1, flip(-1), AuthStats{BadMAC: 1}},
		{"wrong key", otherKey, 1, same, AuthStats{BadMAC: 1}},
		{"truncated trailer", testKey, 1, func(ds [][]byte) [][]byte {
			return [][]byte{ds[0][:len(ds[0])-1], {}, ds[0][:AuthTrailerLen-1]}
		}, AuthStats{Short: 2, BadMAC: 1}},
		{"replayed", testKey, 2, func(ds [][]byte) [][]byte {
			return [][]byte{ds[0], ds[1], ds[0], ds[1]}
		}, AuthStats{Accepted: 2, Replayed: 2}},
		{"out of order once", testKey, 3, func(ds [][]byte) [][]byte {
			return [][]byte{ds[2], ds[0], ds[1], ds[0]}
		}, AuthStats{Accepted: 3, Replayed: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := handshaken(t, 1)
			if !bytes.Equal(tt.key, testKey) {
				// The sender's key differs: a node of its own with
				// A's epoch and what it knows.
				w := newNode(t, 100, 1, tt.key)
				w.g.peer = 200
				a = w
			}
			before := b.auths[0].AuthStats()
			got := b.deliver(0, tt.feed(sendN(t, a, 0, tt.send))...)
			if st := b.auths[0].AuthStats().minus(before); st != tt.want {
				t.Fatalf("stats %+v, want %+v", st, tt.want)
			}
			if uint64(len(got)) != tt.want.Accepted {
				t.Fatalf("%d datagrams passed, want %d", len(got), tt.want.Accepted)
			}
		})
	}
}

// TestAuthReflectedAndOtherLink: with two links, a node's own datagram
// back on the same link is Reflected, on the other link BadMAC (its MAC
// is of the first link); a peer's datagram of one link sent to the other
// is BadMAC. None moves the peer's epoch or the window: the peer's
// datagrams go on passing on both links.
func TestAuthReflectedAndOtherLink(t *testing.T) {
	a, b := handshaken(t, 2)
	own := sendN(t, a, 0, 1)
	peers := sendN(t, b, 0, 2)
	if got := a.deliver(0, own...); len(got) != 0 {
		t.Fatal("own datagram taken on its link")
	}
	if got := a.deliver(1, own...); len(got) != 0 {
		t.Fatal("own datagram taken on the other link")
	}
	if got := a.deliver(1, peers[0]); len(got) != 0 {
		t.Fatal("the peer's datagram of link 0 taken on link 1")
	}
	st := a.auths[0].AuthStats().plus(a.auths[1].AuthStats())
	if st.Reflected != 1 || st.BadMAC != 2 || st.Dropped() != 3 {
		t.Errorf("stats %+v", st)
	}
	if a.g.peer != 200 {
		t.Fatalf("peer epoch %d", a.g.peer)
	}
	// The peer's datagrams pass on either link, each once.
	if got := a.deliver(0, peers[1]); len(got) != 1 {
		t.Fatal("the peer's datagram refused on link 0")
	}
	if got := a.deliver(1, sendN(t, b, 1, 1)...); len(got) != 1 {
		t.Fatal("the peer's datagram refused on link 1")
	}
	if got := a.deliver(0, peers[0]); len(got) != 1 {
		t.Fatal("the peer's first datagram refused on its link")
	}
}

// TestAuthRestarts: the peer's restart (a greater epoch) ends its earlier
// run; the receiver's restart makes all it could have recorded stale; a
// hello of an earlier run does not move the peer's epoch back.
func TestAuthRestarts(t *testing.T) {
	a, b := handshaken(t, 1)
	oldDs := sendN(t, a, 0, 2)
	if got := b.deliver(0, oldDs[0]); len(got) != 1 {
		t.Fatal("first datagram refused")
	}
	a.links[0].take()
	a.hello(0)
	oldHello := a.links[0].take()

	// A restarts: a greater epoch, a handshake; the earlier run's
	// datagrams, fresh or replayed, and its hello are stale.
	a = newNode(t, 150, 1, nil)
	a.hello(0)
	pump(a, b, 0)
	if got := b.deliver(0, sendN(t, a, 0, 1)...); len(got) != 1 {
		t.Fatal("new epoch refused")
	}
	before := b.auths[0].AuthStats()
	if got := b.deliver(0, oldDs[1], oldDs[0], oldHello[0]); len(got) != 0 {
		t.Fatal("old epoch taken")
	}
	if st := b.auths[0].AuthStats().minus(before); st != (AuthStats{Stale: 3}) {
		t.Fatalf("stats %+v", st)
	}
	if b.g.peer != 150 {
		t.Fatalf("peer epoch %d after an old hello", b.g.peer)
	}

	// B restarts: what A sent to the earlier B is stale, though B has
	// never seen it; A learns of B's new run and goes on.
	rec := sendN(t, a, 0, 3)
	b = newNode(t, 300, 1, nil)
	b.g.peer = 150 // as if it had heard A's hello already
	if got := b.deliver(0, rec...); len(got) != 0 {
		t.Fatalf("B took %q, recorded before it started", got)
	}
	if st := b.auths[0].AuthStats(); st.Stale != 3 || st.Dropped() != 3 {
		t.Fatalf("stats %+v", st)
	}
	// B answered with a hello (one: they are rate-limited).
	if hs := b.links[0].take(); len(hs) != 1 || len(hs[0]) != AuthTrailerLen {
		t.Fatalf("B sent %d datagrams", len(hs))
	} else {
		a.deliver(0, hs...)
	}
	if got := b.deliver(0, sendN(t, a, 0, 1)...); len(got) != 1 {
		t.Fatal("A's datagram refused after B's restart")
	}
}

// TestAuthLog: a drop is logged at once, later ones at most once per
// authLogEvery with their counts, and the rest when the link closes.
func TestAuthLog(t *testing.T) {
	a, b := handshaken(t, 1)
	var mu sync.Mutex
	var lines []string
	b.g.log = func(_ slog.Level, msg string) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, msg)
	}
	b.auths[0].name = "veth0 (line 3)"
	ds := sendN(t, a, 0, 2)
	b.deliver(0, ds...)
	b.deliver(0, ds[0], []byte("x"))
	b.deliver(0, ds[1])
	mu.Lock()
	if len(lines) != 1 || lines[0] != "authenticated link veth0 (line 3): dropped 1 datagram(s): 1 replayed" {
		t.Errorf("lines %q", lines)
	}
	mu.Unlock()
	b.auths[0].Close()
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 2 || !strings.Contains(lines[1], "dropped 2 datagram(s): 1 replayed, 1 too short") {
		t.Errorf("lines %q", lines)
	}
}

func TestAuthWindow(t *testing.T) {
	tests := []struct {
		name  string
		steps []uint64
		want  []verdict
	}{
		{"in order", []uint64{1, 2, 3}, []verdict{verdictFresh, verdictFresh, verdictFresh}},
		{"zero", []uint64{0, 1, 0}, []verdict{verdictReplay, verdictFresh, verdictReplay}},
		{"lowest edge", []uint64{AuthWindow + 10, 11, 11, 10},
			[]verdict{verdictFresh, verdictFresh, verdictReplay, verdictReplay}},
		{"gap of a word", []uint64{1, 66, 2, 1, 65},
			[]verdict{verdictFresh, verdictFresh, verdictFresh, verdictReplay, verdictFresh}},
		{"jump past the window", []uint64{5, 6, 5 + AuthWindow + 1, 6, 7 + AuthWindow},
			[]verdict{verdictFresh, verdictFresh, verdictFresh, verdictReplay, verdictFresh}},
		{"seen bit kept across shifts", []uint64{100, 99, 300, 99, 98},
			[]verdict{verdictFresh, verdictFresh, verdictFresh, verdictReplay, verdictFresh}},
		{"window top", []uint64{AuthWindow, 1, AuthWindow},
			[]verdict{verdictFresh, verdictFresh, verdictReplay}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w window
			for i, c := range tt.steps {
				if got := w.check(c); got != tt.want[i] {
					t.Fatalf("step %d (counter %d): verdict %d, want %d", i, c, got, tt.want[i])
				}
			}
		})
	}
}

func TestNewAuth(t *testing.T) {
	if _, err := NewAuth(&memLink{}, testKey[:AuthMinKey-1]); err == nil {
		t.Fatal("short key taken")
	}
	ml := &memLink{}
	a, err := NewAuth(ml, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if a.Epoch() == 0 {
		t.Fatal("zero epoch")
	}
	if len(ml.sent) != 1 || len(ml.sent[0]) != AuthTrailerLen {
		t.Fatalf("NewAuth sent %d datagrams, want a hello", len(ml.sent))
	}
}

func FuzzAuthVerify(f *testing.F) {
	s := newNode(f, 100, 1, nil)
	s.g.peer = 200
	s.hello(0)
	for _, p := range [][]byte{nil, []byte("msg"), bytes.Repeat([]byte{0xff}, 100)} {
		if err := s.auths[0].Send(p); err != nil {
			f.Fatal(err)
		}
	}
	for _, d := range s.links[0].take() {
		f.Add(d)
		f.Add(d[:len(d)-1])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, d []byte) {
		r := newNode(t, 200, 1, nil)
		r.g.peer = 100
		m, ok := r.auths[0].verify(d)
		if !ok {
			return
		}
		// Only what the sender made passes: recompute the MAC.
		want := append(append([]byte(nil), d[:m+24]...), s.auths[0].mac(s.auths[0].sendMAC, d[:m+24])...)
		if !bytes.Equal(want, d) || m == 0 {
			t.Fatalf("datagram %x passed", d)
		}
	})
}
