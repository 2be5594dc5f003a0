//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"

	"ctq/engine"
	"ctq/internal/netns"
)

// LiveConfig configures a Live source. nil means the current network namespace.
type LiveConfig struct {
	// NetNS is the name of a network namespace as `ip netns` knows it
	// (/var/run/netns/NAME); empty means the namespace of the calling process.
	NetNS string
	// NetNSPath is an alternative: a path to a namespace file (e.g. /proc/PID/ns/net).
	NetNSPath string
	// NoPushdown disables every kernel-side filter (for testing and `explain`).
	NoPushdown bool
	// WatchBuffer, when positive, replaces the receive buffer a watch asks
	// for (64 MiB, which the kernel doubles; engine.WatchConfig.ReadBuffer
	// is then ignored) and the bound of its queue of received events (32
	// MiB), in bytes: less memory, more events lost under a burst. Tests
	// use it to make the kernel drop events.
	WatchBuffer int
}

// messageBufferSize is the netlink receive buffer per datagram: the kernel
// fills dump datagrams up to 32 KiB.
const messageBufferSize = 32768

// errExpectLater is returned by Scan for TableExpect, whose entries are
// expectations, not flows.
var errExpectLater = errors.New("the expect table holds expectations, not conntrack entries: scan it with ScanExpect")

// errClosed is returned by a Live that has been closed.
var errClosed = errors.New("live conntrack source is closed")

// Live is the conntrack table of the running kernel, read over ctnetlink
// in one network namespace. Its methods may be called concurrently; each
// scan uses a netlink socket of its own.
type Live struct {
	cfg LiveConfig
	// where names the namespace in messages ("" for the caller's).
	where string
	// ns is the namespace file, nil for the caller's namespace; nsFD is
	// its descriptor. Both are immutable until Close.
	ns   *os.File
	nsFD int

	// mu guards active and serializes dials against Close.
	mu sync.Mutex
	// closed is set by Close; scans check it between entries.
	closed atomic.Bool
	// active holds the sockets of scans and probes in flight, so that
	// Close can interrupt them.
	active map[*netlink.Conn]struct{}

	// reqMu serializes Get and Count, which share req; req is nil until
	// first use and after a request was interrupted.
	reqMu sync.Mutex
	req   *netlink.Conn

	supportOnce sync.Once
	support     engine.FilterSupport

	starts dumpStarts
	// batches counts the open batches, whose dumps read ahead less.
	batches atomic.Int32
}

// Live is every kind of engine source.
var (
	_ engine.Source       = (*Live)(nil)
	_ engine.Mutator      = (*Live)(nil)
	_ engine.EventSource  = (*Live)(nil)
	_ engine.ExpectSource = (*Live)(nil)
	_ engine.Counter      = (*Live)(nil)
	_ engine.StatsSource  = (*Live)(nil)
	_ engine.ProgNamer    = (*Live)(nil)
)

// OpenLive opens the conntrack table of a network namespace.
func OpenLive(cfg *LiveConfig) (*Live, error) {
	l := &Live{active: map[*netlink.Conn]struct{}{}}
	if cfg != nil {
		l.cfg = *cfg
	}
	path := l.cfg.NetNSPath
	switch {
	case l.cfg.NetNS != "" && path != "":
		return nil, errors.New("open live source: give a network namespace name or a path, not both")
	case l.cfg.NetNS != "":
		name := l.cfg.NetNS
		var err error
		if path, err = netns.Path(name); err != nil {
			return nil, fmt.Errorf("open live source: %w", err)
		}
		l.where = fmt.Sprintf("network namespace %q", name)
	case path != "":
		l.where = fmt.Sprintf("network namespace %s", path)
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("open live source: %s does not exist: %w", l.where, err)
			}
			return nil, fmt.Errorf("open live source: %s: %w", l.where, err)
		}
		l.ns, l.nsFD = f, int(f.Fd())
	}
	// Dial once now so that a bad namespace or a missing ctnetlink fails
	// here rather than at the first statement.
	c, err := l.dial()
	if err != nil {
		l.closeNS()
		return nil, err
	}
	l.req = c
	return l, nil
}

// dial opens a ctnetlink socket in the source's namespace and registers
// it for interruption by Close; release undoes both.
func (l *Live) dial() (*netlink.Conn, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed.Load() {
		return nil, errClosed
	}
	c, err := netlink.Dial(netlinkNetfilter, &netlink.Config{
		NetNS:             l.nsFD,
		MessageBufferSize: messageBufferSize,
	})
	if err != nil {
		op := "open conntrack netlink socket"
		if l.where != "" {
			op += " in " + l.where
		}
		return nil, kernelError(op, err)
	}
	l.active[c] = struct{}{}
	return c, nil
}

func (l *Live) release(c *netlink.Conn) {
	l.mu.Lock()
	delete(l.active, c)
	l.mu.Unlock()
	_ = c.Close()
}

func (l *Live) closeNS() {
	if l.ns != nil {
		_ = l.ns.Close()
	}
}

// kernelError wraps an error of a netlink exchange: EPERM becomes
// ErrPermission.
func kernelError(op string, err error) error {
	if errors.Is(err, unix.EPERM) {
		return fmt.Errorf("%s: %w", op, engine.ErrPermission)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Support reports which kernel filters the running kernel accepts in a
// dump request. It is detected once, on first use (see detectSupport).
func (l *Live) Support() engine.FilterSupport {
	l.supportOnce.Do(func() { l.support = l.detectSupport() })
	return l.support
}

// dumpMsgType is the dump request of a table.
func dumpMsgType(t engine.Table) (int, error) {
	switch t {
	case engine.TableConntrack:
		return ipctnlMsgCtGet, nil
	case engine.TableDying:
		return ipctnlMsgCtGetDying, nil
	case engine.TableUnconfirmed:
		return ipctnlMsgCtGetUnconfirmed, nil
	case engine.TableExpect:
		return 0, errExpectLater
	}
	return 0, fmt.Errorf("unknown table %v", t)
}

// Scan dumps table and calls yield for each entry as it arrives, with one
// reused Flow. The parts of filter the kernel supports are sent with the
// dump request (none with LiveConfig.NoPushdown); ScanStats.Pushed says
// which. Messages that do not decode are skipped and counted. Cancelling
// ctx stops the dump promptly. With filter.Zero a conntrack dump zeroes the
// counters of every entry it reads (IPCTNL_MSG_CT_GET_CTRZERO).
func (l *Live) Scan(ctx context.Context, table engine.Table, filter *engine.KernelFilter, yield func(*engine.Flow) error) (engine.ScanStats, error) {
	var st engine.ScanStats
	op := "dump " + table.String()
	msgType, err := dumpMsgType(table)
	if err != nil {
		return st, fmt.Errorf("%s: %w", op, err)
	}
	if filter != nil && filter.Zero && table == engine.TableConntrack {
		op = "dump and zero conntrack"
		msgType = ipctnlMsgCtGetCtrZero
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("%s: %w", op, err)
	}
	var sup engine.FilterSupport
	if !l.cfg.NoPushdown && !filter.Empty() {
		sup = l.Support()
	}
	plan := planDump(table, filter, sup)
	var f engine.Flow
	for {
		st.Pushed = plan.pushed
		err := l.dump(ctx, op, msgType, &plan, &f, &st, yield)
		if err == nil || st.Received > 0 || st.Skipped > 0 || !filterRejected(err) {
			return st, err
		}
		// The kernel refused the filter before sending anything: retry
		// with less of it (first without CTA_FILTER, then without any).
		switch {
		case plan.hasTuple():
			plan = plan.withoutTuple()
		case !plan.pushed.Empty():
			plan = dumpPlan{families: []int{engine.FamilyUnspec}}
		default:
			return st, err
		}
	}
}

// dump runs the dumps of plan. One dump per family (plan.families has
// two entries only when the caller did not ask for the kernel's order) run
// at the same time, each on a socket of its own: the kernel walks the whole
// conntrack hash for each, and the walks proceed in parallel. Calls of
// yield are serialized.
//
// The requests are sent one after the other. The kernel starts a dump
// inside the request's sendmsg and fills its first datagram there, holding
// the mutex of its conntrack subsystem; for a family with few entries
// (IPv6 in most tables) that first fill walks the whole hash. The other
// family's dump, started first, goes on meanwhile (its datagrams are
// filled in its recvmsg, without the mutex), and so do the calls of yield;
// this source's batches hold their requests back until the start is over
// (see dumpStarts).
func (l *Live) dump(ctx context.Context, op string, msgType int, plan *dumpPlan, f *engine.Flow, st *engine.ScanStats, yield func(*engine.Flow) error) error {
	if len(plan.families) == 1 {
		return l.dumpFamily(ctx, op, msgType, plan, plan.families[0], nil, f, st, yield)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var (
		mu       sync.Mutex // serializes yield and guards st and firstErr
		firstErr error
		wg       sync.WaitGroup
	)
	locked := func(f *engine.Flow) error {
		mu.Lock()
		defer mu.Unlock()
		return yield(f)
	}
	sent := make([]chan struct{}, len(plan.families))
	for i := range sent {
		sent[i] = make(chan struct{})
	}
	for i, fam := range plan.families {
		o := &dumpOrder{sent: sent[i]}
		if i > 0 {
			o.after = sent[i-1]
		}
		wg.Go(func() {
			var own engine.ScanStats
			err := l.dumpFamily(ctx, op, msgType, plan, fam, o, new(engine.Flow), &own, locked)
			mu.Lock()
			defer mu.Unlock()
			st.Received += own.Received
			st.Skipped += own.Skipped
			st.Interrupted = st.Interrupted || own.Interrupted
			if err != nil && firstErr == nil {
				firstErr = err
				cancel(err)
			}
		})
	}
	wg.Wait()
	return firstErr
}

// dumpOrder orders the requests of the dumps that run together: a dump
// sends its request once after is closed, and closes sent when it has (or
// cannot).
type dumpOrder struct {
	after, sent chan struct{}
}

// dumpFamily runs the dump of plan for one nfgenmsg family on a socket of
// its own, decoding into f; o, when not nil, orders it among others.
func (l *Live) dumpFamily(ctx context.Context, op string, msgType int, plan *dumpPlan, fam int, o *dumpOrder, f *engine.Flow, st *engine.ScanStats, yield func(*engine.Flow) error) error {
	sent := func() {}
	if o != nil {
		sent = sync.OnceFunc(func() { close(o.sent) })
		defer sent()
	}
	c, err := l.dial()
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	defer l.release(c)

	// Leaving the receive loop early must make the receiver's blocked read
	// return; the socket is dropped afterwards, so an unread dump does not
	// matter. Cancellation does the same.
	abort := func() { _ = c.SetReadDeadline(time.Unix(1, 0)) }
	stop := context.AfterFunc(ctx, abort)
	defer stop()
	done := ctx.Done()

	if o != nil && o.after != nil {
		select {
		case <-o.after:
		case <-done:
			return fmt.Errorf("%s: %w", op, context.Cause(ctx))
		}
	}
	req := ctMessage(msgType, netlink.Dump, encodeDump(plan, fam))
	l.starts.begin()
	_, err = c.Send(req)
	l.starts.end()
	sent()
	if err != nil {
		return kernelError(op, err)
	}
	// The kernel fills the next dump datagrams inside recvmsg, so receiving
	// runs in a goroutine of its own while this one decodes and yields:
	// on two cores the kernel's work and ours overlap.
	quit := make(chan struct{})
	defer close(quit)
	buffers := dumpBuffers
	if l.batches.Load() > 0 {
		buffers = batchDumpBuffers
	}
	recv, err := receiveDump(c, buffers, quit)
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	now, sinceNow := time.Now(), 0
	for d := range recv.out {
		for _, m := range d.msgs {
			select {
			case <-done:
				abort()
				return fmt.Errorf("%s: %w", op, context.Cause(ctx))
			default:
			}
			if l.closed.Load() {
				abort()
				return fmt.Errorf("%s: %w", op, errClosed)
			}
			if m.Header.Flags&netlink.DumpInterrupted != 0 {
				st.Interrupted = true
			}
			if int(m.Header.Type)>>8 != nfnlSubsysCTNetlink {
				st.Skipped++
				continue
			}
			// Ages need a clock, not one reading per entry.
			if sinceNow++; sinceNow == clockEvery {
				now, sinceNow = time.Now(), 0
			}
			if err := DecodeFlow(m.Data, f, now); err != nil {
				st.Skipped++
				continue
			}
			st.Received++
			if err := yield(f); err != nil {
				abort()
				return err
			}
		}
		if d.err != nil {
			return kernelError(op, d.err)
		}
		recv.recycle(d)
	}
	return nil
}

// clockEvery is how many entries a dump decodes between two readings of
// the clock (for Flow.Age).
const clockEvery = 256

// request runs one request/response exchange on the shared request
// socket, honouring ctx, and returns the answer.
func (l *Live) request(ctx context.Context, op string, msgType int, data []byte) (netlink.Message, error) {
	return l.requestMsg(ctx, op, ctMessage(msgType, 0, data))
}

// requestMsg is request for a message of any subsystem and flags; req
// must ask for an answer (a Get, or NLM_F_ACK).
func (l *Live) requestMsg(ctx context.Context, op string, req netlink.Message) (netlink.Message, error) {
	if err := ctx.Err(); err != nil {
		return netlink.Message{}, fmt.Errorf("%s: %w", op, err)
	}
	l.reqMu.Lock()
	defer l.reqMu.Unlock()
	if l.req == nil {
		c, err := l.dial()
		if err != nil {
			return netlink.Message{}, fmt.Errorf("%s: %w", op, err)
		}
		l.req = c
	}
	c := l.req
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Unix(1, 0)) })
	m, err := exchange(c, req)
	if !stop() {
		// Interrupted (or about to be): the socket may hold a late answer
		// or a past deadline; use a fresh one next time.
		l.release(c)
		l.req = nil
		if err := ctx.Err(); err != nil {
			return netlink.Message{}, fmt.Errorf("%s: %w", op, err)
		}
	}
	if err != nil {
		if l.closed.Load() {
			return netlink.Message{}, fmt.Errorf("%s: %w", op, errClosed)
		}
		return netlink.Message{}, kernelError(op, err)
	}
	return m, nil
}

// errNoAnswer is returned when the kernel answers a request with nothing.
var errNoAnswer = errors.New("no answer from the kernel")

// exchange sends req on c and returns the first answer to it.
//
// NB: ctnetlink flags its single answers to IPCTNL_MSG_CT_GET and
// IPCTNL_MSG_CT_GET_STATS NLM_F_MULTI and sends no NLMSG_DONE after them,
// so netlink's Execute would wait for more forever. exchange reads one
// message and, for such an answer, makes the library's next read fail at
// once instead.
func exchange(c *netlink.Conn, req netlink.Message) (netlink.Message, error) {
	sent, err := c.Send(req)
	if err != nil {
		return netlink.Message{}, err
	}
	var ans netlink.Message
	got := false
	for m, err := range c.ReceiveIter() {
		if err != nil {
			return netlink.Message{}, err
		}
		if m.Header.Sequence != sent.Header.Sequence {
			continue // not ours (a late answer to an abandoned request)
		}
		ans, got = m, true
		if m.Header.Flags&netlink.Multi != 0 {
			_ = c.SetReadDeadline(time.Unix(1, 0))
		}
		break
	}
	if err := c.SetReadDeadline(time.Time{}); err != nil {
		return netlink.Message{}, err
	}
	if !got {
		return netlink.Message{}, errNoAnswer
	}
	return ans, nil
}

// Get looks up the entry whose original tuple (and zone) equal key's with
// IPCTNL_MSG_CT_GET; it returns ErrNotFound when there is none.
func (l *Live) Get(ctx context.Context, key *engine.Flow) (*engine.Flow, error) {
	const op = "get conntrack entry"
	data, err := encodeGet(key)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	m, err := l.request(ctx, op, ipctnlMsgCtGet, data)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return nil, engine.ErrNotFound
		}
		return nil, err
	}
	f := new(engine.Flow)
	if err := DecodeFlow(m.Data, f, time.Now()); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	return f, nil
}

// Count returns the number of entries in the namespace's conntrack table
// as the kernel counts them (IPCTNL_MSG_CT_GET_STATS,
// CTA_STATS_GLOBAL_ENTRIES), without dumping the table.
func (l *Live) Count(ctx context.Context) (int, error) {
	const op = "count conntrack entries"
	m, err := l.request(ctx, op, ipctnlMsgCtGetStats, encodeStats())
	if err != nil {
		return 0, err
	}
	data := m.Data
	if len(data) < nfgenmsgLen {
		return 0, fmt.Errorf("%s: %w", op, errShortMessage)
	}
	b := data[nfgenmsgLen:]
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", op, err)
		}
		b = rest
		if typ == ctaStatsGlobalEntries {
			v, err := attrU32(typ, val)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", op, err)
			}
			return int(v), nil
		}
	}
	return 0, fmt.Errorf("%s: answer without CTA_STATS_GLOBAL_ENTRIES", op)
}

// Close releases the source and interrupts scans in flight, which return
// an error.
func (l *Live) Close() error {
	l.mu.Lock()
	if l.closed.Swap(true) {
		l.mu.Unlock()
		return nil
	}
	for c := range l.active {
		_ = c.SetDeadline(time.Unix(1, 0))
	}
	l.mu.Unlock()

	l.reqMu.Lock()
	if l.req != nil {
		l.release(l.req)
		l.req = nil
	}
	l.reqMu.Unlock()
	l.closeNS()
	return nil
}
