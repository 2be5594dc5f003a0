//go:build linux

package link

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"ctq/internal/netns"
	"ctq/sync/config"
	"ctq/sync/wire"
)

const (
	// tcpOverhead is what conntrackd takes off the MTU for a TCP link's
	// buffer (IPv4 20 + TCP 20).
	tcpOverhead = 40
	// tcp6Overhead is the same over IPv6 (IPv6 40 + TCP 20); see
	// udp6Overhead.
	tcp6Overhead = 60
	// reconnectMin is the first wait before connecting again after a
	// failure: conntrackd retries at most once a second.
	reconnectMin = time.Second
	// reconnectMax bounds the wait, which doubles with each failure.
	reconnectMax = 8 * time.Second
	// dialTimeout bounds one connection attempt.
	dialTimeout = 3 * time.Second
	// writeTimeout bounds one Send on a connection that does not drain; the
	// connection is then dropped and the data queued for the next one.
	writeTimeout = 2 * time.Second
	// lenOffset is where a message header holds its big-endian length
	// (wire.Header's Len: byte 2 and 3).
	lenOffset = 2
)

// TCP is a TCP link, as conntrackd's: two one-way connections. The client
// side connects to the destination address and port and carries what this
// node sends; the server side listens on the local address and port,
// accepts one connection at a time (a new one replaces the old) and
// carries what the peer sends. The stream holds the same messages as a UDP
// datagram, back to back; Recv returns whole messages only and holds a
// partial trailing message until the rest arrives.
//
// A Send that finds no connection, or whose write fails, goes to an error
// queue of at most ErrorQueueLength datagrams (the oldest is dropped when
// full) that is sent, in order, once connected again. The connection is
// retried after a wait that starts at one second and doubles up to eight;
// when the peer's own connection comes in (the peer is back) the wait is
// cut short and reset, so
// what was queued meanwhile (a resync's answer) goes out at once. Go's
// TCP connections have Nagle off (TCP_NODELAY) by default.
// A Send to a peer that does not read blocks for at most two seconds; the
// connection is then dropped and the data queued.
type TCP struct {
	ln         net.Listener
	dst        netip.AddrPort
	maxPayload int
	queueLen   int
	backoffMin time.Duration
	backoffMax time.Duration

	// incoming passes accepted connections to Recv; a newer one
	// replaces one not taken yet.
	incoming chan net.Conn
	// in is Recv's current connection and fr its framer; only Recv uses
	// them.
	in net.Conn
	fr framer

	mu sync.Mutex
	// connErr is why the connect loop stopped, if it could not start.
	connErr error
	out     net.Conn
	queue   [][]byte
	closed  bool
	// srv is the accepted connection Recv reads, closed when a new one
	// comes or the link closes.
	srv net.Conn

	// netns is the network namespace the link was opened in, where the
	// connect loop makes its sockets.
	netns *os.File
	// ctx ends with Close, stopping a connection attempt.
	ctx    context.Context
	cancel context.CancelFunc
	kick   chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup

	// peerBack tells the connect loop that the peer's connection came
	// in: the peer is up, so a reconnect wait is cut short and reset.
	peerBack chan struct{}

	// dialFailures and accepted count failed connection attempts and
	// accepted peer connections (Stats.PeerConnects).
	dialFailures, accepted atomic.Uint64

	sentBytes, sentDatagrams, sendErrors atomic.Uint64
	recvBytes, recvDatagrams, recvErrors atomic.Uint64
}

// OpenTCP opens a TCP link in the calling thread's network namespace: it
// listens at once and connects in the background. queueLen is the error
// queue's length (Sync's ErrorQueueLength); 0 means conntrackd's default.
func OpenTCP(l *config.Link, queueLen int) (*TCP, error) {
	return openTCP(l, queueLen, reconnectMin, reconnectMax)
}

// openTCP is OpenTCP with the reconnect waits given.
func openTCP(l *config.Link, queueLen int, backoffMin, backoffMax time.Duration) (*TCP, error) {
	if l.Transport != config.TransportTCP {
		return nil, fmt.Errorf("open TCP link: link of line %d is %s", l.Line, l.Transport)
	}
	if !l.Address.IsValid() || !l.Destination.IsValid() {
		return nil, fmt.Errorf("open TCP link: link of line %d needs a local and a destination address", l.Line)
	}
	if queueLen <= 0 {
		queueLen = config.DefaultErrorQueueLength
	}
	ifindex, mtu, err := iface(l.Interface)
	if err != nil {
		return nil, fmt.Errorf("open TCP link: %w", err)
	}
	network, overhead := "tcp4", tcpOverhead
	if l.Address.Is6() {
		network, overhead = "tcp6", tcp6Overhead
	}
	netns, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		return nil, fmt.Errorf("open TCP link: %w", err)
	}
	local := netip.AddrPortFrom(scoped(l.Address, ifindex), uint16(l.Port))
	ln, err := net.Listen(network, local.String())
	if err != nil {
		netns.Close()
		return nil, fmt.Errorf("open TCP link: listen %s: %w", local, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &TCP{
		ln:         ln,
		netns:      netns,
		ctx:        ctx,
		cancel:     cancel,
		dst:        netip.AddrPortFrom(scoped(l.Destination, ifindex), uint16(l.Port)),
		maxPayload: mtu - overhead,
		queueLen:   queueLen,
		backoffMin: backoffMin,
		backoffMax: backoffMax,
		incoming:   make(chan net.Conn, 1),
		kick:       make(chan struct{}, 1),
		peerBack:   make(chan struct{}, 1),
		done:       make(chan struct{}),
	}
	t.start()
	return t, nil
}

// start runs the accept and connect loops and asks for a connection.
func (t *TCP) start() {
	t.wg.Add(2)
	go t.accept()
	go t.connect()
	t.reconnect()
}

// accept takes the peer's connections, each replacing the previous one.
func (t *TCP) accept() {
	defer t.wg.Done()
	for {
		c, err := t.ln.Accept()
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			// Out of descriptors or the like: try again shortly.
			select {
			case <-time.After(t.backoffMin):
				continue
			case <-t.done:
				return
			}
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			c.Close()
			return
		}
		if t.srv != nil {
			t.srv.Close() // Recv's read fails and it takes c
		}
		t.srv = c
		t.mu.Unlock()
		// The peer is back (it connected to us): if our side waits to
		// reconnect, it connects again now rather than after a wait
		// that grew while the peer was away; what this node sends the
		// peer (a resync's answer) waits in the error queue until then.
		// An attempt under way is left to finish: it may be the one
		// that succeeds.
		t.accepted.Add(1)
		select {
		case t.peerBack <- struct{}{}:
		default:
		}
		select {
		case t.incoming <- c:
		case old := <-t.incoming:
			old.Close()
			t.incoming <- c
		}
	}
}

// reconnect asks the connect loop for a connection.
func (t *TCP) reconnect() {
	select {
	case t.kick <- struct{}{}:
	default:
	}
}

// connect makes the outgoing connection whenever asked, waiting longer
// after each failure, and sends the error queue on it. It runs on a
// thread of its own moved into the link's network namespace (the thread
// ends with the goroutine).
func (t *TCP) connect() {
	defer t.wg.Done()
	runtime.LockOSThread()
	err := netns.Enter(t.netns)
	t.netns.Close()
	if err != nil {
		t.mu.Lock()
		t.connErr = fmt.Errorf("enter the link's network namespace: %w", err)
		t.mu.Unlock()
		return
	}
	wait := t.backoffMin
	for {
		select {
		case <-t.kick:
		case <-t.done:
			return
		}
		t.mu.Lock()
		up := t.out != nil
		t.mu.Unlock()
		if up {
			continue
		}
		d := net.Dialer{Timeout: dialTimeout}
		c, err := d.DialContext(t.ctx, "tcp", t.dst.String())
		if err != nil {
			t.dialFailures.Add(1)
			timer := time.NewTimer(wait)
			select {
			case <-timer.C:
				wait = min(2*wait, t.backoffMax)
			case <-t.peerBack:
				timer.Stop()
				wait = t.backoffMin
			case <-t.done:
				timer.Stop()
				return
			}
			t.reconnect()
			continue
		}
		wait = t.backoffMin
		// A peer connection accepted before this one is not news.
		select {
		case <-t.peerBack:
		default:
		}
		t.mu.Lock()
		if t.closed {
			t.mu.Unlock()
			c.Close()
			return
		}
		t.out = c
		t.flushLocked()
		t.mu.Unlock()
		t.wg.Add(1)
		go t.watchOut(c)
	}
}

// watchOut reads the outgoing connection, on which the peer sends
// nothing, to notice when it closes; then it connects again.
func (t *TCP) watchOut(c net.Conn) {
	defer t.wg.Done()
	var b [64]byte
	for {
		if _, err := c.Read(b[:]); err != nil {
			break
		}
	}
	t.mu.Lock()
	if t.out == c {
		t.out = nil
	}
	closed := t.closed
	t.mu.Unlock()
	c.Close()
	if !closed {
		t.reconnect()
	}
}

// flushLocked sends the error queue in order; what fails stays queued.
// t.mu is held.
func (t *TCP) flushLocked() {
	for len(t.queue) > 0 {
		if err := t.writeLocked(t.queue[0]); err != nil {
			return
		}
		t.queue[0] = nil
		t.queue = t.queue[1:]
	}
}

// writeLocked writes b whole on the outgoing connection; on failure the
// connection is dropped (a partial message would corrupt the stream) and
// a new one asked for. t.mu is held.
func (t *TCP) writeLocked(b []byte) error {
	if t.out == nil {
		return errors.New("not connected")
	}
	t.out.SetWriteDeadline(time.Now().Add(writeTimeout))
	n, err := t.out.Write(b)
	if err != nil {
		t.out.Close()
		t.out = nil
		t.reconnect()
		return err
	}
	t.sentBytes.Add(uint64(n))
	t.sentDatagrams.Add(1)
	return nil
}

// Send writes whole messages to the peer's server. Without a connection,
// or when the write fails, b is queued for the next connection and Send
// reports the failure.
func (t *TCP) Send(b []byte) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return fmt.Errorf("send to %s: %w", t.dst, net.ErrClosed)
	}
	if t.connErr != nil {
		t.sendErrors.Add(1)
		return fmt.Errorf("send to %s: %w", t.dst, t.connErr)
	}
	t.flushLocked()
	var err error
	if len(t.queue) > 0 {
		err = errors.New("not connected")
	} else {
		err = t.writeLocked(b)
	}
	if err == nil {
		return nil
	}
	t.sendErrors.Add(1)
	if len(t.queue) == t.queueLen {
		t.queue[0] = nil
		t.queue = t.queue[1:]
	}
	t.queue = append(t.queue, append([]byte(nil), b...))
	return fmt.Errorf("send to %s: %w", t.dst, err)
}

// Recv returns whole messages the peer sent: as many as fit in buf (at
// least one; buf must hold 65535 bytes, the longest message). It waits for the
// peer's connection, and for the next one when it closes; a partial
// message left by a closed connection is dropped.
func (t *TCP) Recv(buf []byte) (int, error) {
	if len(buf) < maxMessage {
		return 0, fmt.Errorf("receive: a %d-byte buffer may not hold a message", len(buf))
	}
	for {
		if n, ok := t.fr.next(buf); ok {
			t.recvBytes.Add(uint64(n))
			t.recvDatagrams.Add(1)
			return n, nil
		}
		if t.in == nil {
			select {
			case c := <-t.incoming:
				t.in = c
				t.fr.reset()
			case <-t.done:
				return 0, fmt.Errorf("receive: %w", net.ErrClosed)
			}
		}
		if err := t.fr.fill(t.in); err != nil {
			t.in.Close()
			t.dropServer(t.in)
			t.in = nil
			select {
			case <-t.done:
				return 0, fmt.Errorf("receive: %w", net.ErrClosed)
			default:
			}
			if !errors.Is(err, errFraming) {
				t.fr.reset()
				continue
			}
			t.recvErrors.Add(1)
			// Hand the unframeable bytes over: the decoder counts them.
			n := t.fr.drain(buf)
			return n, nil
		}
	}
}

// errFraming is a stream whose next header gives a length shorter than a
// header: nothing after it can be framed.
var errFraming = errors.New("message length shorter than its header")

// framer cuts a stream into whole messages by their headers' lengths.
type framer struct {
	buf []byte
	bad bool
}

// reset drops what is held.
func (f *framer) reset() {
	f.buf, f.bad = f.buf[:0], false
}

// whole is the length of the whole messages at the start of the buffer
// that fit in max bytes, and whether the next header's length is bad.
func (f *framer) whole(max int) (n int, bad bool) {
	for {
		rest := f.buf[n:]
		if len(rest) < wire.HeaderLen {
			return n, false
		}
		l := int(binary.BigEndian.Uint16(rest[lenOffset:]))
		if l < wire.HeaderLen {
			return n, true
		}
		if l > len(rest) || n+l > max {
			return n, false
		}
		n += l
	}
}

// next copies the whole messages held that fit in buf, if any, into buf.
func (f *framer) next(buf []byte) (int, bool) {
	n, _ := f.whole(len(buf))
	if n == 0 {
		return 0, false
	}
	copy(buf, f.buf[:n])
	rest := copy(f.buf, f.buf[n:])
	f.buf = f.buf[:rest]
	return n, true
}

// drain copies what is held (up to len(buf)) into buf and resets.
func (f *framer) drain(buf []byte) int {
	n := copy(buf, f.buf)
	f.reset()
	return n
}

// fill reads once from r into the buffer. It fails with errFraming when
// the held bytes cannot be framed, and with the read's error.
func (f *framer) fill(r io.Reader) error {
	if _, bad := f.whole(len(f.buf)); bad {
		return errFraming
	}
	if cap(f.buf)-len(f.buf) < maxMessage {
		f.buf = append(make([]byte, 0, len(f.buf)+2*maxMessage), f.buf...)
	}
	m, err := r.Read(f.buf[len(f.buf):cap(f.buf)])
	f.buf = f.buf[:len(f.buf)+m]
	if m > 0 {
		if _, bad := f.whole(len(f.buf)); bad {
			return errFraming
		}
		return nil
	}
	if err == nil {
		return nil
	}
	return fmt.Errorf("read: %w", err)
}

// maxMessage is the longest message a header can describe.
const maxMessage = 1<<16 - 1

// MaxPayload is the interface MTU less 40.
func (t *TCP) MaxPayload() int {
	return t.maxPayload
}

// LocalAddr is the address the server side listens on.
func (t *TCP) LocalAddr() netip.AddrPort {
	return t.ln.Addr().(*net.TCPAddr).AddrPort()
}

// Stats returns the traffic counters; a datagram is one Send or one Recv.
func (t *TCP) Stats() Stats {
	return Stats{
		SentBytes: t.sentBytes.Load(), SentDatagrams: t.sentDatagrams.Load(), SendErrors: t.sendErrors.Load(),
		RecvBytes: t.recvBytes.Load(), RecvDatagrams: t.recvDatagrams.Load(), RecvErrors: t.recvErrors.Load(),
		PeerConnects: t.accepted.Load(),
	}
}

// Close closes the listener and both connections and waits for the
// link's goroutines; a blocked Recv returns.
func (t *TCP) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	close(t.done)
	t.cancel()
	if t.out != nil {
		t.out.Close()
		t.out = nil
	}
	if t.srv != nil {
		t.srv.Close()
	}
	t.mu.Unlock()
	err := t.ln.Close()
	t.wg.Wait()
	select {
	case c := <-t.incoming:
		c.Close()
	default:
	}
	if err != nil {
		return fmt.Errorf("close TCP link: %w", err)
	}
	return nil
}
