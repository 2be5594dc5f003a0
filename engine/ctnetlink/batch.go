//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"ctq/engine"
)

// A batch sends its requests many to a sendmsg and asks for one
// acknowledgement, on the last request of each sendmsg. The kernel handles
// the requests of a sendmsg one after another inside the system call and
// queues an answer for each failed request (and the acknowledgement) on
// the socket before sendmsg returns; each answer carries the sequence
// number of its request. So a batch is: send, then read the answers until
// the last request's, and every request without an answer succeeded.
//
// The answers must fit the socket's receive buffer: when they overflow it,
// the kernel drops the rest and reports ENOBUFS, and the outcome of every
// request whose answer was not read is unknown.

// Batch sizes (measured, go-libraries.md §2.3: 60,000 deletes/s).
const (
	// batchMaxRequests caps the requests of one sendmsg.
	batchMaxRequests = 1000
	// batchReadBuffer is the receive buffer a batch asks for;
	// SetReadBuffer uses SO_RCVBUFFORCE, and the kernel doubles the value.
	batchReadBuffer = 8 << 20
	// batchWriteBuffer is the send buffer a batch asks for: a sendmsg
	// longer than the send buffer fails with EMSGSIZE.
	batchWriteBuffer = 4 << 20
	// answerTruesize bounds what one answer (an error with its request
	// header, or an acknowledgement) takes of the receive buffer.
	answerTruesize = 2048
	// maxRequestLen bounds the length of one encoded request with its
	// netlink header; a batch is sent before it could outgrow the send
	// buffer.
	maxRequestLen = 1024
	// nlmsgHdrLen is sizeof(struct nlmsghdr).
	nlmsgHdrLen = 16
	// batchMaxErrors is how many errors BatchStats.Errors keeps.
	batchMaxErrors = 10
	// drainWait bounds the reading of the answers that are left after an
	// overflow: they were all queued before sendmsg returned.
	drainWait = 100 * time.Millisecond
)

// errBatchClosed is returned by a Batch used after Close.
var errBatchClosed = errors.New("batch is closed")

// ErrUnencodable is matched (errors.Is) by the error of a Delete, Update
// or Create whose flow cannot be put into a request: nothing was queued,
// and the batch goes on.
var ErrUnencodable = errors.New("flow cannot be put into a request")

// unencodable wraps an encoding error so that it matches ErrUnencodable;
// its text is the encoder's.
type unencodable struct{ err error }

func (u unencodable) Error() string        { return u.err.Error() }
func (u unencodable) Unwrap() error        { return u.err }
func (u unencodable) Is(target error) bool { return target == ErrUnencodable }

// batchOp is the kind of a queued request.
type batchOp uint8

const (
	opDelete batchOp = iota
	opUpdate
	opCreate
	// opAdd is a create whose EEXIST is no failure (CreateIfAbsent).
	opAdd
)

// creates reports whether o creates an entry.
func (o batchOp) creates() bool { return o == opCreate || o == opAdd }

func (o batchOp) String() string {
	switch o {
	case opDelete:
		return "delete"
	case opUpdate:
		return "update"
	}
	return "create"
}

// pendingReq is a request queued in a batch: arena[start:end] is the
// request with room for its netlink header in front, which send fills in.
type pendingReq struct {
	op         batchOp
	msgType    int
	flags      netlink.HeaderFlags
	start, end int
	key        entryKey
	// ordinal is the request's number in the batch (BatchConfig.Failed).
	ordinal int
}

// liveBatch is the Batch of a Live source, on a socket of its own. Its
// caller fills groups of requests, which a goroutine of the batch sends
// and reads the answers of, one group after the other (see group): on two
// cores the kernel carries out one group while the caller reads and
// decides the entries of the next. Up to maxGroupsQueued groups wait for
// the sender, which holds them back while the source starts a dump.
type liveBatch struct {
	l    *Live
	ctx  context.Context
	c    *netlink.Conn
	stop func() bool // undoes the context's deadline hook

	maxRequests int
	maxBytes    int

	onFailed func(req int, err error)
	observe  func(req int, err error) // Observe's callback, nil if none
	queued   int                      // requests queued so far, the next one's ordinal

	// write sends whole requests in one sendmsg (rawWriter).
	write func([]byte) error
	seq   uint32 // the sequence number of the next request sent (sender only)

	cur     *group   // being filled
	free    []*group // settled, for reuse
	pending int      // groups handed to the sender, not settled yet
	toSend  chan *group
	sent    chan *group

	stats  engine.BatchStats
	err    error // set once the batch cannot go on
	closed bool
}

// maxGroupsQueued bounds the groups handed to a batch's sender and not yet
// settled: the memory of the requests held back while the source starts
// a dump (a few hundred KiB of requests).
const maxGroupsQueued = 128

var (
	_ engine.Mutator       = (*Live)(nil)
	_ engine.Observer      = (*liveBatch)(nil)
	_ engine.AbsentCreator = (*liveBatch)(nil)
	_ engine.Sender        = (*liveBatch)(nil)
)

// NewBatch opens a batch on a netlink socket of its own with an 8 MiB
// receive buffer and capped acknowledgements (an error answer carries the
// request's header, not the whole request). Requests are sent up to 1000
// to a sendmsg (fewer when the socket's buffers are smaller). Cancelling
// ctx interrupts the batch: Close then returns ctx's error, requests sent
// whose answers were not read count as Unknown, and requests not sent yet
// are dropped (and not counted).
func (l *Live) NewBatch(ctx context.Context) (engine.Batch, error) {
	return l.newBatch(ctx, batchReadBuffer)
}

// BatchConfig tunes a batch opened by OpenBatch.
type BatchConfig struct {
	// Failed, when set, is called for every request the kernel answered
	// with an error (ENOENT of a delete or update included, which the
	// stats count as Gone), with the request's number in the batch (0 for
	// the first call of Delete, Update or Create that queued one) and the
	// kernel's error. It runs in the call that sent the request: Delete,
	// Update, Create or Close. Requests whose outcome is unknown (see
	// BatchStats.Unknown) are not reported.
	Failed func(req int, err error)
}

// OpenBatch opens a batch as NewBatch does, tuned by cfg.
func (l *Live) OpenBatch(ctx context.Context, cfg BatchConfig) (engine.Batch, error) {
	b, err := l.newBatch(ctx, batchReadBuffer)
	if err != nil {
		return nil, err
	}
	b.onFailed = cfg.Failed
	return b, nil
}

// newBatch opens a batch whose socket asks for readBuffer bytes of
// receive buffer.
func (l *Live) newBatch(ctx context.Context, readBuffer int) (*liveBatch, error) {
	const op = "open batch"
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	c, err := l.dial()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	b := &liveBatch{l: l, ctx: ctx, c: c, seq: 1, cur: new(group)}
	if err := b.setup(readBuffer); err != nil {
		l.release(c)
		return nil, kernelError(op, err)
	}
	b.stop = context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	l.batches.Add(1)
	return b, nil
}

// setup sizes the socket's buffers and derives the batch limits from what
// the kernel granted.
func (b *liveBatch) setup(readBuffer int) error {
	c := b.c
	if err := c.SetOption(netlink.CapAcknowledge, true); err != nil {
		return fmt.Errorf("cap acknowledgements: %w", err)
	}
	if err := c.SetReadBuffer(readBuffer); err != nil {
		return fmt.Errorf("set receive buffer: %w", err)
	}
	// Without privilege the send buffer stays at net.core.wmem_max: the
	// limits below follow from what was granted.
	_ = c.SetWriteBuffer(batchWriteBuffer)
	rb, err := c.ReadBuffer()
	if err != nil {
		return fmt.Errorf("read receive buffer size: %w", err)
	}
	rc, err := c.SyscallConn()
	if err != nil {
		return fmt.Errorf("raw socket: %w", err)
	}
	b.write = rawWriter(rc)
	wb, err := c.WriteBuffer()
	if err != nil {
		return fmt.Errorf("read send buffer size: %w", err)
	}
	b.maxRequests = min(max(rb/answerTruesize, 1), batchMaxRequests)
	// netlink refuses a sendmsg longer than the send buffer minus 32.
	b.maxBytes = max(wb-32-maxRequestLen, maxRequestLen)
	return nil
}

// Delete queues the deletion of f (see encodeDelete).
func (b *liveBatch) Delete(f *engine.Flow) error {
	return b.queue(opDelete, ipctnlMsgCtDelete, 0, f, func(e *attrEncoder) error { return encodeDelete(e, f) })
}

// Update queues c for the entry f (see encodeUpdate). An empty change is
// not sent and not counted.
func (b *liveBatch) Update(f *engine.Flow, c engine.Change) error {
	if c.Empty() {
		return nil
	}
	return b.queue(opUpdate, ipctnlMsgCtNew, 0, f, func(e *attrEncoder) error { return encodeUpdate(e, f, &c) })
}

// Create queues the creation of f (see encodeCreate); an entry that
// exists already fails with EEXIST.
func (b *liveBatch) Create(f *engine.Flow) error {
	return b.queue(opCreate, ipctnlMsgCtNew, netlink.Create|netlink.Excl, f,
		func(e *attrEncoder) error { return encodeCreate(e, f) })
}

// CreateIfAbsent queues the creation of f as Create does; an entry that
// exists already is left alone and counted in BatchStats.Exists
// (engine.AbsentCreator: conntrack -A).
func (b *liveBatch) CreateIfAbsent(f *engine.Flow) error {
	return b.queue(opAdd, ipctnlMsgCtNew, netlink.Create|netlink.Excl, f,
		func(e *attrEncoder) error { return encodeCreate(e, f) })
}

// Observe makes the batch report the outcome of each request to fn
// (engine.Observer); see BatchConfig.Failed for when fn runs.
func (b *liveBatch) Observe(fn func(req int, err error)) { b.observe = fn }

// queue encodes one request into the arena and sends the batch when it is
// full. An entry that cannot be encoded is an error of the call, not of
// the batch.
func (b *liveBatch) queue(op batchOp, msgType int, flags netlink.HeaderFlags, f *engine.Flow, encode func(*attrEncoder) error) error {
	switch {
	case b.closed:
		return errBatchClosed
	case b.err != nil:
		return b.err
	}
	g := b.cur
	start := len(g.arena)
	// The header is filled in when the group is sent; the payload
	// follows it.
	e := attrEncoder{b: append(g.arena, make([]byte, nlmsgHdrLen)...)}
	if err := encode(&e); err != nil {
		g.arena = e.b[:start]
		return fmt.Errorf("%s %v: %w", op, keyOf(f), unencodable{err})
	}
	e.pad() // the next request's header starts aligned
	g.arena = e.b
	g.reqs = append(g.reqs, pendingReq{op: op, msgType: msgType, flags: flags,
		start: start, end: len(e.b), key: keyOf(f), ordinal: b.queued})
	b.queued++
	if len(g.reqs) >= b.maxRequests || len(g.arena) > b.maxBytes {
		b.send()
	}
	return b.err
}

// send hands the queued requests to the sender goroutine; the queue is
// empty afterwards. The groups the sender finished are settled first, and
// the oldest is waited for when maxGroupsQueued are pending.
func (b *liveBatch) send() {
	if len(b.cur.reqs) == 0 {
		return
	}
	for b.pending > 0 && (b.pending == maxGroupsQueued || len(b.sent) > 0) {
		b.settle()
	}
	switch {
	case b.err != nil:
		b.cur.reset()
		return
	case b.ctx.Err() != nil:
		b.err = fmt.Errorf("batch: %w", context.Cause(b.ctx))
		b.cur.reset()
		return
	case b.l.closed.Load():
		b.err = fmt.Errorf("batch: %w", errClosed)
		b.cur.reset()
		return
	}
	if b.toSend == nil {
		b.toSend = make(chan *group, maxGroupsQueued)
		b.sent = make(chan *group, maxGroupsQueued)
		go b.sender()
	}
	b.toSend <- b.cur
	b.pending++
	if n := len(b.free); n > 0 {
		b.cur, b.free = b.free[n-1], b.free[:n-1]
	} else {
		b.cur = new(group)
	}
}

// settle waits for the oldest group with the sender, counts the outcomes
// of its requests and reports them in request order.
func (b *liveBatch) settle() {
	g := <-b.sent
	b.pending--
	if g.skipped {
		// The batch ended before these requests were sent.
		if g.err != nil && b.err == nil {
			b.err = g.err
		}
		g.reset()
		b.free = append(b.free, g)
		return
	}
	for i := range g.reqs {
		switch {
		case g.sendErr:
			b.failed(g, i, g.err)
		case !g.answered[i]:
			b.stats.Unknown++
			if b.observe != nil {
				b.observe(g.reqs[i].ordinal, engine.ErrUnknownOutcome)
			}
		case g.errs[i] == nil:
			b.stats.Done++
			if b.observe != nil {
				b.observe(g.reqs[i].ordinal, nil)
			}
		default:
			b.failed(g, i, g.errs[i])
		}
	}
	if g.unknown > 0 && g.overflow {
		b.addError(fmt.Errorf("%d of %d requests have an unknown outcome: their answers overflowed the socket's receive buffer (ENOBUFS)", g.unknown, len(g.reqs)))
	}
	if g.err != nil && b.err == nil {
		b.err = g.err
		if g.sendErr {
			b.addError(g.err)
		}
	}
	g.reset()
	b.free = append(b.free, g)
}

// failed counts the failure of request i of g with the kernel's error.
func (b *liveBatch) failed(g *group, i int, err error) {
	r := &g.reqs[i]
	if b.onFailed != nil && !g.sendErr {
		b.onFailed(r.ordinal, err)
	}
	if b.observe != nil {
		b.observe(r.ordinal, err)
	}
	switch {
	case g.sendErr:
		b.stats.Failed++
		return
	case errors.Is(err, unix.ENOENT) && !r.op.creates():
		b.stats.Gone++
		return
	case errors.Is(err, unix.EEXIST) && r.op == opAdd:
		b.stats.Exists++
		return
	}
	b.stats.Failed++
	b.addError(&entryError{op: r.op, key: r.key, err: err})
}

func (b *liveBatch) addError(err error) {
	if len(b.stats.Errors) < batchMaxErrors {
		b.stats.Errors = append(b.stats.Errors, err)
	}
}

// fatal is the error that ends a batch: the source's closing, the
// context's end, or err.
func (b *liveBatch) fatal(op string, err error) error {
	switch {
	case b.l.closed.Load():
		return fmt.Errorf("batch: %s: %w", op, errClosed)
	case b.ctx.Err() != nil:
		return fmt.Errorf("batch: %s: %w", op, context.Cause(b.ctx))
	}
	return kernelError("batch: "+op, err)
}

// isTimeout reports whether err is a read deadline expiring.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// Send sends what is queued now, without waiting for a full message
// (engine.Sender); the outcomes of the requests sent before are reported
// now, those of these requests by a later call. The error is the one that
// ended the batch, if any.
func (b *liveBatch) Send() error {
	switch {
	case b.closed:
		return errBatchClosed
	case b.err == nil:
		b.send()
	}
	return b.err
}

// Close sends what is queued, waits for the answers and releases the
// socket. The error is the one that ended the batch early, if any;
// failures of single requests are only counted (and the first few kept)
// in the stats.
func (b *liveBatch) Close() (engine.BatchStats, error) {
	if b.closed {
		return b.stats, b.err
	}
	if b.err == nil {
		b.send()
	}
	for b.pending > 0 {
		b.settle()
	}
	if b.toSend != nil {
		close(b.toSend)
	}
	b.closed = true
	b.l.batches.Add(-1)
	b.stop()
	b.l.release(b.c)
	return b.stats, b.err
}

// entryError is the failure of one request of a batch.
type entryError struct {
	op  batchOp
	key entryKey
	err error
}

func (e *entryError) Error() string {
	return fmt.Sprintf("%s %v: %s", e.op, e.key, errnoText(e.op, e.err))
}

func (e *entryError) Unwrap() error { return e.err }

// errnoText explains the kernel's usual answers to conntrack requests.
func errnoText(op batchOp, err error) string {
	var errno unix.Errno
	if !errors.As(err, &errno) {
		return err.Error()
	}
	switch {
	case errno == unix.EEXIST && op.creates():
		return "an entry with this tuple exists already (EEXIST)"
	case errno == unix.ENOENT:
		return "no such entry (ENOENT)"
	case errno == unix.EBUSY && op != opDelete:
		return "the kernel refused the status (EBUSY: only SEEN_REPLY, ASSURED and FIXED_TIMEOUT can be set, and set bits cannot be cleared)"
	case errno == unix.ENOSPC && op == opUpdate:
		return "the entry has no room for labels: it was created before any rule set ct labels (ENOSPC)"
	case errno == unix.EOPNOTSUPP && op.creates():
		return "the kernel cannot set up NAT for this translated entry: it has no NAT support (CONFIG_NF_NAT, module nf_nat) (EOPNOTSUPP)"
	case errno == unix.EINVAL:
		return "the kernel rejected the request as invalid (EINVAL)"
	case errno == unix.EPERM:
		return engine.ErrPermission.Error()
	}
	return fmt.Sprintf("%v (%s)", errno.Error(), unix.ErrnoName(errno))
}
