package link

import (
	"bytes"
	"errors"
	"testing"
)

// memLink is a Link over memory: Send records datagrams, Recv hands out
// the queued ones and fails when none is left.
type memLink struct {
	sent [][]byte
	in   [][]byte
}

func (m *memLink) Send(b []byte) error {
	m.sent = append(m.sent, append([]byte(nil), b...))
	return nil
}

func (m *memLink) Recv(buf []byte) (int, error) {
	if len(m.in) == 0 {
		return 0, errors.New("no more datagrams")
	}
	d := m.in[0]
	m.in = m.in[1:]
	return copy(buf, d), nil
}

func (m *memLink) MaxPayload() int { return 1472 }
func (m *memLink) Stats() Stats    { return Stats{} }
func (m *memLink) Close() error    { return nil }

var (
	testKey  = []byte("0123456789abcdef0123456789abcdef")
	otherKey = []byte("fedcba9876543210fedcba9876543210")
)

// newPair returns a sender with epoch sendEpoch and a receiver with epoch
// 1, both keyed by key (the receiver by testKey).
func newPair(t *testing.T, key []byte, sendEpoch uint64) (*Auth, *memLink, *Auth, *memLink) {
	t.Helper()
	sl, rl := &memLink{}, &memLink{}
	s, err := newAuth(sl, key, sendEpoch)
	if err != nil {
		t.Fatal(err)
	}
	r, err := newAuth(rl, testKey, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s, sl, r, rl
}

// sendN sends n datagrams "msg<i>" and returns them as sent.
func sendN(t *testing.T, s *Auth, sl *memLink, n int) [][]byte {
	t.Helper()
	sl.sent = nil
	for i := 0; i < n; i++ {
		if err := s.Send([]byte{'m', 's', 'g', byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	return sl.sent
}

// recvAll feeds ds to r and returns the payloads that passed.
func recvAll(r *Auth, rl *memLink, ds ...[]byte) [][]byte {
	rl.in = append(rl.in, ds...)
	var got [][]byte
	buf := make([]byte, 2048)
	for {
		n, err := r.Recv(buf)
		if err != nil {
			return got
		}
		got = append(got, append([]byte(nil), buf[:n]...))
	}
}

func TestAuthRoundTrip(t *testing.T) {
	s, sl, r, rl := newPair(t, testKey, 100)
	ds := sendN(t, s, sl, 3)
	if len(ds[0]) != 4+AuthTrailerLen {
		t.Fatalf("datagram of %d bytes, want %d", len(ds[0]), 4+AuthTrailerLen)
	}
	got := recvAll(r, rl, ds...)
	if len(got) != 3 || !bytes.Equal(got[2], []byte("msg\x02")) {
		t.Fatalf("got %q", got)
	}
	if st := r.AuthStats(); st.Accepted != 3 || st.Dropped() != 0 {
		t.Fatalf("stats %+v", st)
	}
	if r.MaxPayload() != 1472-AuthTrailerLen {
		t.Fatalf("MaxPayload %d", r.MaxPayload())
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
		{"counter bit", testKey, 1, flip(-AuthTrailerLen + 15), AuthStats{BadMAC: 1}},
		{"mac bit", testKey, 1, flip(-1), AuthStats{BadMAC: 1}},
		{"wrong key", otherKey, 1, func(ds [][]byte) [][]byte { return ds }, AuthStats{BadMAC: 1}},
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
			s, sl, r, rl := newPair(t, tt.key, 100)
			got := recvAll(r, rl, tt.feed(sendN(t, s, sl, tt.send))...)
			if st := r.AuthStats(); st != tt.want {
				t.Fatalf("stats %+v, want %+v", st, tt.want)
			}
			if uint64(len(got)) != tt.want.Accepted {
				t.Fatalf("%d datagrams passed, want %d", len(got), tt.want.Accepted)
			}
		})
	}
}

func TestAuthEpochs(t *testing.T) {
	old, osl, r, rl := newPair(t, testKey, 100)
	oldDs := sendN(t, old, osl, 2)
	if got := recvAll(r, rl, oldDs[0]); len(got) != 1 {
		t.Fatal("first epoch refused")
	}
	// The peer restarts: a greater epoch is taken and the window starts
	// over from counter 1.
	nsl := &memLink{}
	restarted, err := newAuth(nsl, testKey, 200)
	if err != nil {
		t.Fatal(err)
	}
	newDs := sendN(t, restarted, nsl, 1)
	if got := recvAll(r, rl, newDs[0]); len(got) != 1 {
		t.Fatal("new epoch refused")
	}
	// Old-epoch datagrams, fresh or replayed, are now stale.
	if got := recvAll(r, rl, oldDs[1], oldDs[0]); len(got) != 0 {
		t.Fatal("old epoch taken")
	}
	// The receiver's own datagrams sent back are refused.
	rsl := &memLink{}
	r.inner = rsl
	if err := r.Send([]byte("own")); err != nil {
		t.Fatal(err)
	}
	r.inner = rl
	if got := recvAll(r, rl, rsl.sent[0]); len(got) != 0 {
		t.Fatal("own datagram taken")
	}
	want := AuthStats{Accepted: 2, Stale: 2, Reflected: 1}
	if st := r.AuthStats(); st != want {
		t.Fatalf("stats %+v, want %+v", st, want)
	}
}

func TestAuthWindow(t *testing.T) {
	// Each step feeds one counter of epoch 5 to the window.
	tests := []struct {
		name  string
		steps []uint64
		want  []verdict
	}{
		{"in order", []uint64{1, 2, 3}, []verdict{verdictFresh, verdictFresh, verdictFresh}},
		{"lowest edge", []uint64{AuthWindow + 10, 11, 11, 10},
			[]verdict{verdictFresh, verdictFresh, verdictReplay, verdictReplay}},
		{"gap of a word", []uint64{1, 66, 2, 1, 65},
			[]verdict{verdictFresh, verdictFresh, verdictFresh, verdictReplay, verdictFresh}},
		{"jump past the window", []uint64{5, 6, 5 + AuthWindow + 1, 6, 7 + AuthWindow},
			[]verdict{verdictFresh, verdictFresh, verdictFresh, verdictReplay, verdictFresh}},
		{"seen bit kept across shifts", []uint64{100, 99, 300, 99, 98},
			[]verdict{verdictFresh, verdictFresh, verdictFresh, verdictReplay, verdictFresh}},
		{"window top", []uint64{AuthWindow, 1, 0, AuthWindow},
			[]verdict{verdictFresh, verdictFresh, verdictReplay, verdictReplay}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w window
			for i, c := range tt.steps {
				if got := w.check(5, c); got != tt.want[i] {
					t.Fatalf("step %d (counter %d): verdict %d, want %d", i, c, got, tt.want[i])
				}
			}
		})
	}
}

func TestNewAuthShortKey(t *testing.T) {
	if _, err := NewAuth(&memLink{}, testKey[:AuthMinKey-1]); err == nil {
		t.Fatal("short key taken")
	}
	a, err := NewAuth(&memLink{}, testKey)
	if err != nil {
		t.Fatal(err)
	}
	if a.Epoch() == 0 {
		t.Fatal("zero epoch")
	}
}

func FuzzAuthVerify(f *testing.F) {
	sl := &memLink{}
	s, err := newAuth(sl, testKey, 100)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range [][]byte{nil, []byte("msg"), bytes.Repeat([]byte{0xff}, 100)} {
		if err := s.Send(p); err != nil {
			f.Fatal(err)
		}
	}
	for _, d := range sl.sent {
		f.Add(d)
		f.Add(d[:len(d)-1])
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, d []byte) {
		r, err := newAuth(&memLink{}, testKey, 1)
		if err != nil {
			t.Fatal(err)
		}
		m, ok := r.verify(d)
		if !ok {
			return
		}
		// Only what the sender made passes: recompute the MAC.
		want := appendMAC(s.sendMAC, append([]byte(nil), d[:m+16]...))
		if !bytes.Equal(want, d) {
			t.Fatalf("forged datagram %x passed", d)
		}
	})
}
