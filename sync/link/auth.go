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
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Auth is a Link that authenticates every datagram with a shared key (ctq
// only; conntrackd knows nothing of it, so it is used only when the link
// block has an AuthKey; without one a link is conntrackd's, unchanged).
// Its trailer follows the sync messages of every datagram:
//
//	offset 0   epoch    8 bytes, big endian: the sender's epoch
//	offset 8   echo     8 bytes, big endian: the receiver's epoch as the
//	                    sender last learned it (0 before it knows one)
//	offset 16  counter  8 bytes, big endian: 1 for the sender's first
//	                    datagram of the epoch, one more for each next one
//	offset 24  mac      16 bytes: HMAC-SHA256, keyed by the link's key,
//	                    over authDomain, the link's index (one byte: its
//	                    block's place among the Sync section's links) and
//	                    the datagram up to the mac, truncated to 16 bytes
//
// An epoch is picked when a node opens its links (OpenSet; NewAuth for a
// lone Auth): its start time in Unix nanoseconds with the low 20 bits
// (about a millisecond) random, so that every start has its own and a
// later start a greater one. All the links of a node share it, its
// counter, and what it knows of the peer: the peer's epoch (the greatest
// carried by an authentic datagram, its own epoch aside) and one replay
// window of AuthWindow counters in it.
//
// A datagram is handed on when, in this order:
//   - it holds a trailer (else: Short);
//   - its MAC is right for this link's key and index (else: BadMAC: a
//     forgery, corruption, another key, or a datagram of another link);
//   - its epoch is not this node's own (else: Reflected: its own datagram
//     sent back to it);
//   - its epoch is the peer's current one (else: Stale: a datagram of an
//     earlier run of the peer; a greater epoch makes it the current one,
//     with a fresh window: the peer restarted);
//   - its echo is this node's epoch (else: Stale: the datagram was made for
//     an earlier run of this node, or before the peer learned of this run);
//   - its counter was not seen and is not below the window (else:
//     Replayed).
//
// Only then is the replay window moved; only an authentic datagram with a
// greater epoch changes the peer's epoch. Every drop is counted (AuthStats)
// and logged, at most once per authLogEvery per link with the counts in
// between.
//
// Replays across restarts. The echo is what makes a recorded datagram
// worthless once its receiver restarts: the receiver's new epoch is random
// and was never sent before it started, so no datagram recorded earlier
// carries it. The peer learns it through a handshake: a datagram without
// messages (a hello) that carries the sender's epoch and echo. Every link
// sends one when opened; a node answers an authentic datagram whose echo
// is wrong with a hello (at most one per helloEvery), and sends one on
// learning a greater peer epoch. Until a node knows the peer's epoch (just
// started, the peer silent) it keeps what it sends (at most authQueueLen
// datagrams, none older than authQueueAge) and sends it, with the echo,
// once a hello or any datagram of the peer tells it the epoch; meanwhile
// it asks with a hello at most once per askEvery. A restart of the sender
// gives it a greater epoch, after which the receiver refuses the earlier
// one; until the receiver sees the new epoch, a recorded datagram of the
// earlier run is refused by the window, which still holds that run.
//
// This was chosen over keeping the highest (epoch, counter) of the peer in
// a state file: a file must be written (and synced) often enough, or with
// a margin, so that a crash cannot roll it back within a window, and a
// node started on a copy of the file (a restored disk, a cloned machine)
// would take replays again; the handshake needs no storage and costs one
// round trip at start, and the echo also binds each datagram to the
// receiver's current run.
//
// Limits: a sync link joins two peers, as in conntrackd (Recv does not
// learn the sender's address); a multicast group of more than two
// authenticated nodes would see one peer's epoch replace another's. A
// peer whose clock steps back across its restart picks a smaller epoch
// and is refused as stale until this node restarts too. The links' blocks
// must come in the same order on both nodes, with the same key each (the
// index is in the MAC). The trailer is not the one of ctq before the
// handshake: both nodes need the same ctq.
//
// Auth suits datagram links (UDP, Multicast): a TCP link's receiver cuts
// its stream at message boundaries, which the trailer would break.
type Auth struct {
	inner Link
	g     *authGroup
	index byte
	// name is the link's name in log lines.
	name string

	// sendMAC is guarded by g.sendMu; recvMAC by recvMu.
	sendMAC hash.Hash
	recvMu  sync.Mutex
	recvMAC hash.Hash

	accepted, hellos, short, badMAC, replayed, stale, reflected atomic.Uint64

	// logMu guards the drop log: the counts logged last, when, and the
	// timer that logs what came since.
	logMu    sync.Mutex
	logged   AuthStats
	lastLog  time.Time
	logTimer *time.Timer
	closed   bool
}

// authGroup is what the authenticated links of one node share: its epoch
// and counter, the peer's epoch and replay window, the datagrams kept
// until the peer's epoch is known.
type authGroup struct {
	epoch   uint64
	counter atomic.Uint64
	log     func(slog.Level, string)
	now     func() time.Time

	// sendMu orders the group's sends: kept datagrams go out before
	// later ones.
	sendMu sync.Mutex

	mu sync.Mutex
	// peer is the peer's epoch, 0 until known; win its replay window.
	peer uint64
	win  window
	// kept holds what was sent while the peer's epoch was unknown.
	kept []keptDatagram
	// lastReply and lastAsk are when a hello last answered a wrong echo
	// and last asked for the peer's epoch.
	lastReply, lastAsk time.Time
}

// keptDatagram is a datagram sent before the peer's epoch was known.
type keptDatagram struct {
	a  *Auth
	b  []byte
	at time.Time
}

const (
	// AuthTrailerLen is the length of the trailer Auth adds to a datagram.
	AuthTrailerLen = 8 + 8 + 8 + authMACLen
	// authMACLen is how much of the HMAC-SHA256 the trailer carries.
	authMACLen = 16
	// AuthWindow is how many counters below the highest one seen the
	// replay window accepts (once each).
	AuthWindow = 1024
	// AuthMinKey is the shortest key NewAuth takes, in bytes.
	AuthMinKey = 16
	// epochRandomBits is how many low bits of the epoch are random.
	epochRandomBits = 20
	// authDomain starts what the MAC covers: it tells this trailer from
	// any other use of the key.
	authDomain = "ctq sync auth 2\x00"
	// helloEvery is the least time between hellos answering datagrams
	// with a wrong echo.
	helloEvery = 100 * time.Millisecond
	// askEvery is the least time between hellos asking for the peer's
	// epoch while datagrams are kept.
	askEvery = time.Second
	// authQueueLen and authQueueAge bound what is kept until the peer's
	// epoch is known.
	authQueueLen = 64
	authQueueAge = 2 * time.Second
	// authLogEvery is the least time between two drop log lines of a
	// link.
	authLogEvery = 10 * time.Second
)

// AuthStats counts the datagrams Auth took and dropped.
type AuthStats struct {
	// Accepted counts datagrams that passed and were handed on.
	Accepted uint64
	// Handshakes counts the hellos taken: datagrams without messages
	// that tell the peer's epoch, never handed on.
	Handshakes uint64
	// Short counts datagrams too short to hold a trailer.
	Short uint64
	// BadMAC counts datagrams whose MAC is wrong: forged, corrupted,
	// sent with another key or meant for another link.
	BadMAC uint64
	// Replayed counts datagrams whose counter was seen already or is
	// below the replay window.
	Replayed uint64
	// Stale counts datagrams of an epoch older than the peer's current
	// one, and datagrams that do not echo this node's epoch (made for an
	// earlier run of it, or before the peer learned of this one).
	Stale uint64
	// Reflected counts datagrams carrying this node's own epoch.
	Reflected uint64
}

// plus adds o's counters to s's.
func (s AuthStats) plus(o AuthStats) AuthStats {
	return AuthStats{Accepted: s.Accepted + o.Accepted, Handshakes: s.Handshakes + o.Handshakes,
		Short: s.Short + o.Short, BadMAC: s.BadMAC + o.BadMAC, Replayed: s.Replayed + o.Replayed,
		Stale: s.Stale + o.Stale, Reflected: s.Reflected + o.Reflected}
}

// minus takes o's counters off s's.
func (s AuthStats) minus(o AuthStats) AuthStats {
	return AuthStats{Accepted: s.Accepted - o.Accepted, Handshakes: s.Handshakes - o.Handshakes,
		Short: s.Short - o.Short, BadMAC: s.BadMAC - o.BadMAC, Replayed: s.Replayed - o.Replayed,
		Stale: s.Stale - o.Stale, Reflected: s.Reflected - o.Reflected}
}

// Dropped is the sum of the drop counters.
func (s AuthStats) Dropped() uint64 {
	return s.Short + s.BadMAC + s.Replayed + s.Stale + s.Reflected
}

// NewAuth wraps inner, a node's only link, so that every datagram sent
// carries a trailer that authenticates it with key, and every datagram
// received without a valid and fresh one is dropped; it sends a hello.
// Both peers need the same key. The links of a Set share their node's
// state: OpenSet makes them.
func NewAuth(inner Link, key []byte) (*Auth, error) {
	g, err := newAuthGroup(nil)
	if err != nil {
		return nil, err
	}
	a, err := g.newAuth(inner, key, 0, "")
	if err != nil {
		return nil, err
	}
	a.hello()
	return a, nil
}

// newAuthGroup starts the authentication state of a node with a new
// epoch; log (nil: none) gets the drop lines.
func newAuthGroup(log func(slog.Level, string)) (*authGroup, error) {
	var rnd [8]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return nil, fmt.Errorf("auth link: epoch: %w", err)
	}
	const low = 1<<epochRandomBits - 1
	epoch := uint64(time.Now().UnixNano())&^low | binary.BigEndian.Uint64(rnd[:])&low
	return &authGroup{epoch: epoch, log: log, now: time.Now}, nil
}

// newAuth wraps inner, the link of index index (name in log lines), in an
// Auth of the group keyed by key.
func (g *authGroup) newAuth(inner Link, key []byte, index int, name string) (*Auth, error) {
	if len(key) < AuthMinKey {
		return nil, fmt.Errorf("auth link: key of %d bytes: want at least %d", len(key), AuthMinKey)
	}
	if inner.MaxPayload() <= AuthTrailerLen {
		return nil, errors.New("auth link: the link's payload cannot hold the trailer")
	}
	if index < 0 || index > 255 {
		return nil, fmt.Errorf("auth link: index %d", index)
	}
	k := append([]byte(nil), key...)
	return &Auth{
		inner:   inner,
		g:       g,
		index:   byte(index),
		name:    name,
		sendMAC: hmac.New(sha256.New, k),
		recvMAC: hmac.New(sha256.New, k),
	}, nil
}

// Epoch is this node's epoch, sent in every trailer.
func (a *Auth) Epoch() uint64 {
	return a.g.epoch
}

// Send sends b with a trailer appended. Until the peer's epoch is known b
// is kept, to go once it is, and Send returns nil.
func (a *Auth) Send(b []byte) error {
	g := a.g
	g.sendMu.Lock()
	defer g.sendMu.Unlock()
	g.mu.Lock()
	echo := g.peer
	var kept []keptDatagram
	ask := false
	if echo == 0 {
		now := g.now()
		if len(g.kept) == authQueueLen {
			g.kept[0] = keptDatagram{}
			g.kept = g.kept[1:]
		}
		g.kept = append(g.kept, keptDatagram{a: a, b: append([]byte(nil), b...), at: now})
		if ask = now.Sub(g.lastAsk) >= askEvery; ask {
			g.lastAsk = now
		}
	} else {
		kept = g.takeKeptLocked()
	}
	g.mu.Unlock()
	if echo == 0 {
		if ask {
			// A hello that fails leaves the datagrams kept.
			_ = a.inner.Send(a.seal(nil, 0))
		}
		return nil
	}
	sendKept(kept, echo)
	return a.inner.Send(a.seal(b, echo))
}

// takeKeptLocked returns the kept datagrams young enough to send and
// forgets them all. g.mu is held.
func (g *authGroup) takeKeptLocked() []keptDatagram {
	if len(g.kept) == 0 {
		return nil
	}
	now := g.now()
	var out []keptDatagram
	for _, k := range g.kept {
		if now.Sub(k.at) <= authQueueAge {
			out = append(out, k)
		}
	}
	g.kept = nil
	return out
}

// sendKept sends kept datagrams, each on its link, echoing echo. The
// group's sendMu is held.
func sendKept(kept []keptDatagram, echo uint64) {
	for _, k := range kept {
		// As for any datagram: a send error is the link's to count.
		_ = k.a.inner.Send(k.a.seal(k.b, echo))
	}
}

// seal returns b with a trailer of echo and the next counter. g.sendMu is
// held.
func (a *Auth) seal(b []byte, echo uint64) []byte {
	d := make([]byte, len(b), len(b)+AuthTrailerLen)
	copy(d, b)
	d = binary.BigEndian.AppendUint64(d, a.g.epoch)
	d = binary.BigEndian.AppendUint64(d, echo)
	d = binary.BigEndian.AppendUint64(d, a.g.counter.Add(1))
	return append(d, a.mac(a.sendMAC, d)...)
}

// mac is the truncated MAC of d, the datagram up to its mac, on this link.
func (a *Auth) mac(h hash.Hash, d []byte) []byte {
	h.Reset()
	h.Write([]byte(authDomain))
	h.Write([]byte{a.index})
	h.Write(d)
	var sum [sha256.Size]byte
	return h.Sum(sum[:0])[:authMACLen]
}

// hello sends a hello: a trailer alone, with the peer's epoch as known.
func (a *Auth) hello() {
	g := a.g
	g.sendMu.Lock()
	defer g.sendMu.Unlock()
	g.mu.Lock()
	echo := g.peer
	g.mu.Unlock()
	// A lost hello is made up for by the next one.
	_ = a.inner.Send(a.seal(nil, echo))
}

// flush sends a hello, the peer's epoch now known, and what was kept
// until then.
func (a *Auth) flush() {
	g := a.g
	g.sendMu.Lock()
	defer g.sendMu.Unlock()
	g.mu.Lock()
	echo := g.peer
	kept := g.takeKeptLocked()
	g.mu.Unlock()
	_ = a.inner.Send(a.seal(nil, echo))
	sendKept(kept, echo)
}

// Recv reads datagrams until one passes, strips its trailer and returns
// the length of what is left; the dropped ones are counted, and hellos
// taken. buf must hold the trailer too.
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

// verdicts of verify.
type verdict int

const (
	verdictFresh verdict = iota
	verdictReplay
	verdictStale
	// verdictEcho: the datagram does not echo this node's epoch.
	verdictEcho
)

// verify checks d's trailer, then its freshness, then records it, and
// returns the length of the messages before the trailer and whether they
// are to be handed on.
func (a *Auth) verify(d []byte) (int, bool) {
	if len(d) < AuthTrailerLen {
		a.drop(&a.short)
		return 0, false
	}
	m := len(d) - AuthTrailerLen
	epoch := binary.BigEndian.Uint64(d[m:])
	echo := binary.BigEndian.Uint64(d[m+8:])
	counter := binary.BigEndian.Uint64(d[m+16:])
	a.recvMu.Lock()
	ok := hmac.Equal(a.mac(a.recvMAC, d[:m+24]), d[m+24:])
	a.recvMu.Unlock()
	if !ok {
		a.drop(&a.badMAC)
		return 0, false
	}
	g := a.g
	if epoch == g.epoch {
		a.drop(&a.reflected)
		return 0, false
	}
	g.mu.Lock()
	learned := epoch > g.peer
	if learned {
		// Authentic and newer: the peer (re)started.
		g.peer, g.win = epoch, window{}
	}
	var v verdict
	reply := false
	switch {
	case epoch < g.peer:
		v = verdictStale
	case echo != g.epoch:
		v = verdictEcho
		if now := g.now(); !learned && now.Sub(g.lastReply) >= helloEvery {
			g.lastReply, reply = now, true
		}
	default:
		v = g.win.check(counter)
	}
	g.mu.Unlock()
	if learned {
		a.flush()
	} else if reply {
		a.hello()
	}
	switch {
	case v == verdictStale:
		a.drop(&a.stale)
	case v == verdictEcho && m == 0:
		// The peer does not know this node's epoch yet: the hello
		// answered tells it.
		a.hellos.Add(1)
	case v == verdictEcho:
		a.drop(&a.stale)
	case v == verdictReplay:
		a.drop(&a.replayed)
	case m == 0:
		a.hellos.Add(1)
	default:
		a.accepted.Add(1)
		return m, true
	}
	return 0, false
}

// drop counts a dropped datagram in counter and logs the drops: at once
// when the last line is authLogEvery old, else once it is.
func (a *Auth) drop(counter *atomic.Uint64) {
	counter.Add(1)
	if a.g.log == nil {
		return
	}
	a.logMu.Lock()
	defer a.logMu.Unlock()
	if a.logTimer != nil || a.closed {
		return // a line is due
	}
	if wait := authLogEvery - a.g.now().Sub(a.lastLog); !a.lastLog.IsZero() && wait > 0 {
		a.logTimer = time.AfterFunc(wait, func() {
			a.logMu.Lock()
			defer a.logMu.Unlock()
			a.logTimer = nil
			if !a.closed {
				a.logDropsLocked()
			}
		})
		return
	}
	a.logDropsLocked()
}

// logDropsLocked logs the drops since the last line. a.logMu is held.
func (a *Auth) logDropsLocked() {
	now := a.AuthStats()
	d := now.minus(a.logged)
	a.logged, a.lastLog = now, a.g.now()
	if d.Dropped() == 0 {
		return
	}
	var why []string
	for _, r := range []struct {
		n    uint64
		what string
	}{
		{d.BadMAC, "forged (wrong MAC: another key, corrupted, or meant for another link)"},
		{d.Replayed, "replayed"},
		{d.Stale, "stale epoch (an earlier run of the peer, or not echoing this run)"},
		{d.Reflected, "reflected (this node's own)"},
		{d.Short, "too short"},
	} {
		if r.n > 0 {
			why = append(why, fmt.Sprintf("%d %s", r.n, r.what))
		}
	}
	link := "authenticated link"
	if a.name != "" {
		link += " " + a.name
	}
	a.g.log(slog.LevelWarn, fmt.Sprintf("%s: dropped %d datagram(s): %s", link, d.Dropped(), strings.Join(why, ", ")))
}

// MaxPayload is the inner link's less the trailer.
func (a *Auth) MaxPayload() int {
	return a.inner.MaxPayload() - AuthTrailerLen
}

// Stats returns the inner link's traffic counters (trailers and hellos
// included).
func (a *Auth) Stats() Stats {
	return a.inner.Stats()
}

// AuthStats returns the counters of datagrams taken and dropped.
func (a *Auth) AuthStats() AuthStats {
	return AuthStats{
		Accepted: a.accepted.Load(), Handshakes: a.hellos.Load(), Short: a.short.Load(), BadMAC: a.badMAC.Load(),
		Replayed: a.replayed.Load(), Stale: a.stale.Load(), Reflected: a.reflected.Load(),
	}
}

// Close closes the inner link and logs the drops not logged yet.
func (a *Auth) Close() error {
	a.logMu.Lock()
	if !a.closed {
		a.closed = true
		if a.logTimer != nil {
			a.logTimer.Stop()
			a.logTimer = nil
		}
		if a.g.log != nil {
			a.logDropsLocked()
		}
	}
	a.logMu.Unlock()
	return a.inner.Close()
}

// window is the replay state of the peer's current epoch: the highest
// counter taken, and bit i of seen set when counter top-i was taken (0 <=
// i < AuthWindow).
type window struct {
	top  uint64
	seen [AuthWindow / 64]uint64
}

// check takes counter if it is fresh and records it.
func (w *window) check(counter uint64) verdict {
	if counter == 0 {
		return verdictReplay // never sent
	}
	if counter > w.top {
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
