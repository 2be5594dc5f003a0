//go:build linux

package link

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"sync"
	"sync/atomic"
	"time"
)

// Auth is a Link that authenticates every datagram with a shared key (ctq
// only; conntrackd knows nothing of it, so it is used only when the link
// block has an AuthKey). Its trailer follows the sync messages of every
// datagram:
//
//	offset 0   epoch    8 bytes, big endian: the sender's process epoch
//	offset 8   counter  8 bytes, big endian: 1 for the first datagram of
//	                    the epoch, one more for each next one
//	offset 16  mac      16 bytes: HMAC-SHA256, keyed by the shared key,
//	                    over the messages, epoch and counter (the datagram
//	                    up to the mac), truncated to its first 16 bytes
//
// The epoch is the sender's start time in Unix nanoseconds with its low
// 20 bits (about a millisecond) replaced by random bits, so that every
// process start has its own epoch and a later start has a greater one.
//
// The receiver keeps one replay window per link (a sync link joins two
// peers, as in conntrackd; Recv does not learn the sender's address, so
// the window is not kept per address, and a multicast group of more than
// two authenticated nodes would drop all but the newest sender's
// datagrams as stale): the peer's epoch, the highest counter seen in it
// and a bitmap of the AuthWindow counters below. A datagram is taken when
// its MAC is right and
//   - its epoch is the current one and its counter is above the highest or
//     inside the window and not seen yet, or
//   - its epoch is greater than the current one (the peer restarted, or
//     this is the first datagram since this process started): the window
//     starts over from that datagram.
//
// Everything else is dropped and counted: a datagram too short to hold a
// trailer, a wrong MAC (forged, corrupted or keyed differently), a counter
// already seen or below the window (replay), an epoch smaller than the
// current one (replay of an earlier run of the peer), and the receiver's
// own epoch (its own datagrams sent back to it: both peers hold the same
// key, so the MAC alone cannot tell the direction).
//
// Trade-off: an epoch is accepted on sight when greater than the current
// one, since the receiver keeps no state across restarts. Until the peer's
// first datagram after this process starts, a recorded datagram of an
// earlier run of the peer is therefore taken once (and each of its recorded
// successors); the peer's next datagram (an ALIVE at least every second)
// carries a greater epoch and ends that. Rejecting old epochs by age would
// need the peers' clocks in step, and the peer's epoch does not age while
// it runs. A peer whose clock steps back across its restart is refused
// until this process restarts too.
//
// Auth suits datagram links (UDP, Multicast): a TCP link's receiver cuts
// its stream at message boundaries, which the trailer would break.
type Auth struct {
	inner Link
	epoch uint64

	counter atomic.Uint64

	sendMu  sync.Mutex
	sendMAC hash.Hash

	recvMu  sync.Mutex
	recvMAC hash.Hash
	win     window

	accepted, short, badMAC, replayed, stale, reflected atomic.Uint64
}

const (
	// AuthTrailerLen is the length of the trailer Auth adds to a datagram.
	AuthTrailerLen = 8 + 8 + authMACLen
	// authMACLen is how much of the HMAC-SHA256 the trailer carries.
	authMACLen = 16
	// AuthWindow is how many counters below the highest one seen the
	// replay window accepts (once each).
	AuthWindow = 1024
	// AuthMinKey is the shortest key NewAuth takes, in bytes.
	AuthMinKey = 16
	// epochRandomBits is how many low bits of the epoch are random.
	epochRandomBits = 20
)

// AuthStats counts the datagrams Auth took and dropped.
type AuthStats struct {
	// Accepted counts datagrams that passed and were handed on.
	Accepted uint64
	// Short counts datagrams too short to hold a trailer.
	Short uint64
	// BadMAC counts datagrams whose MAC is wrong: forged, corrupted or
	// sent with another key.
	BadMAC uint64
	// Replayed counts datagrams whose counter was seen already or is
	// below the replay window.
	Replayed uint64
	// Stale counts datagrams of an epoch older than the peer's current
	// one.
	Stale uint64
	// Reflected counts datagrams carrying this process's own epoch.
	Reflected uint64
}

// plus adds o's counters to s's.
func (s AuthStats) plus(o AuthStats) AuthStats {
	return AuthStats{Accepted: s.Accepted + o.Accepted, Short: s.Short + o.Short, BadMAC: s.BadMAC + o.BadMAC,
		Replayed: s.Replayed + o.Replayed, Stale: s.Stale + o.Stale, Reflected: s.Reflected + o.Reflected}
}

// Dropped is the sum of the drop counters.
func (s AuthStats) Dropped() uint64 {
	return s.Short + s.BadMAC + s.Replayed + s.Stale + s.Reflected
}

// NewAuth wraps inner so that every datagram sent carries a trailer that
// authenticates it with key, and every datagram received without a valid
// and fresh one is dropped. Both peers need the same key.
func NewAuth(inner Link, key []byte) (*Auth, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("auth link: epoch: %w", err)
	}
	const low = 1<<epochRandomBits - 1
	epoch := uint64(time.Now().UnixNano())&^low | binary.BigEndian.Uint64(rnd[:])&low
	return newAuth(inner, key, epoch)
}

// newAuth is NewAuth with a given epoch.
func newAuth(inner Link, key []byte, epoch uint64) (*Auth, error) {
	if len(key) < AuthMinKey {
		return nil, fmt.Errorf("auth link: key of %d bytes: want at least %d", len(key), AuthMinKey)
	}
	if inner.MaxPayload() <= AuthTrailerLen {
		return nil, errors.New("auth link: the link's payload cannot hold the trailer")
	}
	k := append([]byte(nil), key...)
	return &Auth{
		inner:   inner,
		epoch:   epoch,
		sendMAC: hmac.New(sha256.New, k),
		recvMAC: hmac.New(sha256.New, k),
	}, nil
}

// Epoch is this process's epoch, sent in every trailer.
func (a *Auth) Epoch() uint64 {
	return a.epoch
}

// Send sends b with a trailer appended.
func (a *Auth) Send(b []byte) error {
	d := make([]byte, len(b), len(b)+AuthTrailerLen)
	copy(d, b)
	d = binary.BigEndian.AppendUint64(d, a.epoch)
	d = binary.BigEndian.AppendUint64(d, a.counter.Add(1))
	a.sendMu.Lock()
	d = appendMAC(a.sendMAC, d)
	a.sendMu.Unlock()
	return a.inner.Send(d)
}

// appendMAC appends the truncated MAC of d to d.
func appendMAC(h hash.Hash, d []byte) []byte {
	h.Reset()
	h.Write(d)
	var sum [sha256.Size]byte
	return append(d, h.Sum(sum[:0])[:authMACLen]...)
}

// Recv reads datagrams until one passes, strips its trailer and returns
// the length of what is left; the dropped ones are counted. buf must hold
// the trailer too.
func (a *Auth) Recv(buf []byte) (int, error) {
	for {
		n, err := a.inner.Recv(buf)
		if err != nil {
			return 0, err
		}
		if m, ok := a.verify(buf[:n]); ok {
			return m, nil
		}
	}
}

// verify checks d's trailer and replay state and returns the length of
// the messages before the trailer.
func (a *Auth) verify(d []byte) (int, bool) {
	if len(d) < AuthTrailerLen {
		a.short.Add(1)
		return 0, false
	}
	m := len(d) - AuthTrailerLen
	epoch := binary.BigEndian.Uint64(d[m:])
	counter := binary.BigEndian.Uint64(d[m+8:])
	a.recvMu.Lock()
	defer a.recvMu.Unlock()
	var sum [sha256.Size]byte
	a.recvMAC.Reset()
	a.recvMAC.Write(d[:m+16])
	if !hmac.Equal(a.recvMAC.Sum(sum[:0])[:authMACLen], d[m+16:]) {
		a.badMAC.Add(1)
		return 0, false
	}
	if epoch == a.epoch {
		a.reflected.Add(1)
		return 0, false
	}
	switch a.win.check(epoch, counter) {
	case verdictStale:
		a.stale.Add(1)
		return 0, false
	case verdictReplay:
		a.replayed.Add(1)
		return 0, false
	}
	a.accepted.Add(1)
	return m, true
}

// MaxPayload is the inner link's less the trailer.
func (a *Auth) MaxPayload() int {
	return a.inner.MaxPayload() - AuthTrailerLen
}

// Stats returns the inner link's traffic counters (trailers included).
func (a *Auth) Stats() Stats {
	return a.inner.Stats()
}

// AuthStats returns the counters of datagrams taken and dropped.
func (a *Auth) AuthStats() AuthStats {
	return AuthStats{
		Accepted: a.accepted.Load(), Short: a.short.Load(), BadMAC: a.badMAC.Load(),
		Replayed: a.replayed.Load(), Stale: a.stale.Load(), Reflected: a.reflected.Load(),
	}
}

// Close closes the inner link.
func (a *Auth) Close() error {
	return a.inner.Close()
}

// verdict is the replay window's answer.
type verdict int

const (
	verdictFresh verdict = iota
	verdictReplay
	verdictStale
)

// window is the replay state of one peer: its epoch, the highest counter
// taken, and bit i of seen set when counter top-i was taken (0 <= i <
// AuthWindow).
type window struct {
	set   bool
	epoch uint64
	top   uint64
	seen  [AuthWindow / 64]uint64
}

// check takes (epoch, counter) if it is fresh and records it.
func (w *window) check(epoch, counter uint64) verdict {
	switch {
	case !w.set || epoch > w.epoch:
		*w = window{set: true, epoch: epoch, top: counter}
		w.seen[0] = 1
		return verdictFresh
	case epoch < w.epoch:
		return verdictStale
	case counter > w.top:
		w.shift(counter - w.top)
		w.top = counter
		w.seen[0] |= 1
		return verdictFresh
	}
	back := w.top - counter
	if back >= AuthWindow {
		return verdictReplay
	}
	word, bit := back/64, back%64
	if w.seen[word]&(1<<bit) != 0 {
		return verdictReplay
	}
	w.seen[word] |= 1 << bit
	return verdictFresh
}

// shift moves the bitmap up by n counters (bit i becomes bit i+n).
func (w *window) shift(n uint64) {
	if n >= AuthWindow {
		w.seen = [AuthWindow / 64]uint64{}
		return
	}
	words, bits := int(n/64), n%64
	for i := len(w.seen) - 1; i >= 0; i-- {
		var v uint64
		if j := i - words; j >= 0 {
			v = w.seen[j] << bits
			if bits > 0 && j > 0 {
				v |= w.seen[j-1] >> (64 - bits)
			}
		}
		w.seen[i] = v
	}
}
