//go:build linux

package ctnetlink

import (
	"encoding/binary"
	"errors"
	"os"
	"sync"
	"syscall"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// The event socket is drained by one reader goroutine that does nothing but
// receive: it stamps each datagram with the time it was read and appends
// its messages to an rxQueue, from which the watching goroutine takes all
// that has arrived at once, decodes and yields. The kernel drops events
// only when the socket's receive buffer is full, so the reader never waits
// for the decoder while there is room in the queue.

// rxItem is one received message, or a report of lost events, in the
// order the socket delivered them.
type rxItem struct {
	msg netlink.Message
	at  time.Time // when the datagram holding msg arrived
	// overflows is the number of ENOBUFS reports at this point of the
	// stream (consecutive reports share one item); msg is empty then.
	overflows int
}

// rxItemOverhead is what the queue charges for an item besides its
// payload: the item itself and the message header.
const rxItemOverhead = 80

// rxQueueLimit is the payload the queue holds before the reader waits for
// the decoder: about 100,000 events. Beyond it the socket's own receive
// buffer takes the rest of a burst.
const rxQueueLimit = 32 << 20

// rxQueue hands received messages from the reader goroutine over to the
// decoding goroutine, in order, with bounded memory.
type rxQueue struct {
	mu    sync.Mutex
	items []rxItem
	size  int   // bytes charged for items
	err   error // why the reader stopped; set after its last item
	limit int   // size above which put waits

	ready chan struct{} // signalled after put adds items or err is set
	space chan struct{} // signalled after take empties the queue
}

func newRxQueue(limit int) *rxQueue {
	return &rxQueue{
		limit: limit,
		ready: make(chan struct{}, 1),
		space: make(chan struct{}, 1),
	}
}

// rxSignal wakes the waiter on ch, if any, without blocking.
func rxSignal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// receive runs the reader: it calls recv until recv fails with an error
// other than ENOBUFS, or until quit is closed while it waits for room.
// ENOBUFS (the kernel dropped events for lack of buffer space) is queued
// as a report, in place, and receiving goes on: the socket stays usable.
func (q *rxQueue) receive(recv func() ([]netlink.Message, error), quit <-chan struct{}) {
	for {
		msgs, err := recv()
		at := time.Now()
		switch {
		case err == nil:
			if !q.put(msgs, at, quit) {
				return
			}
		case errors.Is(err, unix.ENOBUFS):
			if !q.putOverflow(at, quit) {
				return
			}
		default:
			q.stop(err)
			return
		}
	}
}

// put appends msgs, first waiting while the queue is over its limit. It
// returns false when quit was closed while it waited.
func (q *rxQueue) put(msgs []netlink.Message, at time.Time, quit <-chan struct{}) bool {
	if len(msgs) == 0 {
		return true
	}
	n := 0
	for i := range msgs {
		n += len(msgs[i].Data) + rxItemOverhead
	}
	if !q.lockRoom(quit) {
		return false
	}
	for _, m := range msgs {
		q.items = append(q.items, rxItem{msg: m, at: at})
	}
	q.size += n
	q.mu.Unlock()
	rxSignal(q.ready)
	return true
}

// putOverflow queues an ENOBUFS report, merging it into a report that
// is still the last item.
func (q *rxQueue) putOverflow(at time.Time, quit <-chan struct{}) bool {
	if !q.lockRoom(quit) {
		return false
	}
	if k := len(q.items) - 1; k >= 0 && q.items[k].overflows > 0 {
		q.items[k].overflows++
	} else {
		q.items = append(q.items, rxItem{at: at, overflows: 1})
		q.size += rxItemOverhead
	}
	q.mu.Unlock()
	rxSignal(q.ready)
	return true
}

// lockRoom locks q once it is below its limit; it returns false, unlocked,
// when quit is closed first.
func (q *rxQueue) lockRoom(quit <-chan struct{}) bool {
	q.mu.Lock()
	for q.size >= q.limit {
		q.mu.Unlock()
		select {
		case <-q.space:
		case <-quit:
			return false
		}
		q.mu.Lock()
	}
	return true
}

// stop records why the reader ended.
func (q *rxQueue) stop(err error) {
	q.mu.Lock()
	q.err = err
	q.mu.Unlock()
	rxSignal(q.ready)
}

// take returns everything queued so far and the reader's error, if it has
// stopped after those items. spare (emptied) becomes the queue's storage,
// so that the decoder and the reader swap two slices back and forth.
func (q *rxQueue) take(spare []rxItem) ([]rxItem, error) {
	q.mu.Lock()
	items, err := q.items, q.err
	q.items, q.size = spare[:0], 0
	q.mu.Unlock()
	rxSignal(q.space)
	return items, err
}

// datagramReader receives whole datagrams from a netlink socket with
// recvmsg(2) directly, into large shared buffers (one allocation per
// thousands of datagrams), and splits them into messages. It costs about
// half the CPU of netlink.Conn.Receive per event: no copy, no peek, and
// the nap (see recv) turns one wakeup per event into one per batch.
type datagramReader struct {
	rc    syscall.RawConn
	arena []byte // free space the next datagram is received into
	nap   time.Duration
}

// datagramMax is the largest datagram read: an event message takes a
// few hundred bytes.
const datagramMax = 32 << 10

// arenaSize is the size of the buffers datagrams are received into.
const arenaSize = 1 << 20

// errTruncated is returned for a datagram larger than datagramMax.
var errTruncated = errors.New("netlink datagram larger than the receive buffer")

// read receives one datagram into the arena and returns its size; unless
// block is set, it returns EAGAIN when the socket is empty.
func (r *datagramReader) read(block bool) (n int, err error) {
	if len(r.arena) < datagramMax {
		r.arena = make([]byte, arenaSize)
	}
	var flags int
	rerr := r.rc.Read(func(fd uintptr) bool {
		n, _, flags, _, err = unix.Recvmsg(int(fd), r.arena[:datagramMax], nil, unix.MSG_DONTWAIT)
		return !block || err != unix.EAGAIN
	})
	if rerr != nil {
		return 0, rerr
	}
	if err == nil && flags&unix.MSG_TRUNC != 0 {
		err = errTruncated
	}
	return n, err
}

// recv returns the messages of the next datagram. When the socket is
// empty it first naps, so that under a stream of events one wakeup
// collects many datagrams.
func (r *datagramReader) recv() ([]netlink.Message, error) {
	n, err := r.read(false)
	if err == unix.EAGAIN {
		time.Sleep(r.nap)
		n, err = r.read(true)
	}
	if err != nil {
		return nil, os.NewSyscallError("recvmsg", err)
	}
	b := r.arena[:n:n]
	r.arena = r.arena[(n+3)&^3:]
	return splitMessages(b)
}

// errBadMessage is returned for a datagram that does not split into
// netlink messages.
var errBadMessage = errors.New("malformed netlink message")

// splitMessages splits a datagram into its netlink messages; their data
// aliases b.
func splitMessages(b []byte) ([]netlink.Message, error) {
	var msgs []netlink.Message
	for len(b) >= nlmsgHdrLen {
		l := int(binary.NativeEndian.Uint32(b))
		if l < nlmsgHdrLen || l > len(b) {
			return msgs, errBadMessage
		}
		msgs = append(msgs, netlink.Message{
			Header: netlink.Header{
				Length:   uint32(l),
				Type:     netlink.HeaderType(binary.NativeEndian.Uint16(b[4:])),
				Flags:    netlink.HeaderFlags(binary.NativeEndian.Uint16(b[6:])),
				Sequence: binary.NativeEndian.Uint32(b[8:]),
				PID:      binary.NativeEndian.Uint32(b[12:]),
			},
			Data: b[nlmsgHdrLen:l:l],
		})
		b = b[min((l+3)&^3, len(b)):]
	}
	return msgs, nil
}
