//go:build linux

package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"ctq/engine"
	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/link"
	"ctq/sync/wire"
)

const (
	// aliveInterval is conntrackd's ALIVE_INT: an ALIVE goes out after this
	// long without a transmission.
	aliveInterval = time.Second
	// eventQueue is how many kernel events wait for the loop before the
	// watch blocks (and the kernel, once its socket buffer is full,
	// reports an overrun).
	eventQueue = 4096
	// datagramQueue is how many received datagrams wait for the loop.
	datagramQueue = 1024
	// maxDatagram is conntrackd's receive buffer.
	maxDatagram = 65536
)

// ErrStopped is returned by the methods of a Node whose Run has returned.
var ErrStopped = errors.New("sync node is not running")

// Options are what a Node runs on besides its configuration.
type Options struct {
	// Kernel is this node's kernel conntrack table: a *ctnetlink.Live,
	// which the caller closes after Run.
	Kernel Kernel
	// Link is the dedicated link to the peer; Run closes it when it
	// returns.
	Link link.Link
	// Clock is the node's time and timers; nil means SystemClock.
	Clock Clock
	// Log receives the node's notable events, a line each (conntrackd's
	// LogFile and Syslog); nil logs nothing.
	Log func(level slog.Level, msg string)
}

// Node is one sync node. Make it with New and start it with Run.
type Node struct {
	cfg *config.Config
	// peerConnects is the link's PeerConnects at the last check (the
	// loop's).
	peerConnects uint64
	filter       *flowFilter
	// injector writes received entries into the kernel
	// (DisableExternalCache); nil otherwise. Set by Run before started.
	injector Injector
	// openInjector opens it (the Kernel's OpenInjector).
	openInjector func() (Injector, error)
	// purge is the pending purge (Purge); owned by the loop.
	purge Timer
	log   func(slog.Level, string)
	// activeLink is the active dedicated link last seen (several links);
	// owned by the loop.
	activeLink string
	kernel     Kernel
	link       link.Link
	clock      Clock

	reqs chan func()
	// recommitted asks the loop to read the kernel table again after a
	// commit.
	recommitted chan struct{}
	started     chan struct{}
	stopped     chan struct{}
	once        sync.Once
	// commitMu makes commits take turns (each leaves and joins event
	// groups); a flush of the external cache waits for it too.
	commitMu sync.Mutex
	// sub is the kernel watch's group membership, set before started is
	// closed.
	sub engine.Subscription

	// Owned by Run's goroutine.
	internal, external *cache.Cache
	seq                uint32
	seqSet             bool
	lastRecv           uint32
	recvSet            bool
	txq                []txItem
	// held are the flows and expectations of the transmit queue that
	// wait for room in FTFW's resend queue (window.go), from heldHead on.
	held     []txItem
	heldHead int
	queued   map[*cache.Entry]bool
	buf      []byte
	// txMsg, txCT and txExp hold each data message transmit encodes
	// (dataMessage); reused, since nothing keeps a message past its
	// encoding.
	txMsg wire.Message
	txCT  wire.Conntrack
	txExp wire.Expect
	stats Stats
	// ftfw is FTFW's state; nil in NOTRACK and ALARM.
	ftfw *ftfw
	// alarm is ALARM's state; nil in FTFW and NOTRACK.
	alarm *alarm
	// guard is the state of the defences and repairs (guard.go).
	guard guard
	// probe is the state of FTFW's probes and quick ACKs (tailloss.go).
	probe probe
	// renack is the pending repetition of NACKs (renack.go).
	renack Timer
	// Expectation sync (expect.go): the caches (empty without
	// ExpectationSync), the entries in the transmit queue, and the
	// expectation watch's group membership (set before started is
	// closed; nil without ExpectationSync).
	internalExp, externalExp *cache.ExpectCache
	queuedExp                map[*cache.ExpectEntry]bool
	expSub                   engine.Subscription
}

// txItem is one entry of the transmit queue: a cache entry (flow or
// expectation), sent as its state at transmit time, or a control message
// (flags, and the range of an ACK or NACK).
type txItem struct {
	entry    *cache.Entry
	exp      *cache.ExpectEntry
	ctl      wire.Flags
	from, to uint32
}

// New checks that cfg asks only for what is implemented and returns a Node
// that is not running yet.
func New(cfg *config.Config, opts Options) (*Node, error) {
	if err := supported(cfg); err != nil {
		return nil, fmt.Errorf("sync node: %w", err)
	}
	if opts.Kernel == nil || opts.Link == nil {
		return nil, errors.New("sync node: Options need Kernel and Link")
	}
	opener := injectorOpener(opts.Kernel)
	if cfg.Sync.DisableExternalCache && opener == nil {
		return nil, errors.New("sync node: DisableExternalCache needs a Kernel that opens injectors")
	}
	l := opts.Link
	// Authentication is the link's (link.OpenSet wraps each keyed link):
	// a keyed configuration with a link that does not authenticate would
	// run open to forgeries.
	for _, lc := range cfg.Sync.Links {
		if _, ok := l.(authenticated); lc.AuthKey != nil && !ok {
			return nil, fmt.Errorf("sync node: %s:%d: the link has an AuthKey but was not opened with it (use link.OpenSet)", cfg.File, lc.AuthKeyLine)
		}
	}
	clock := opts.Clock
	if clock == nil {
		clock = SystemClock{}
	}
	now := clock.Now
	limit := cfg.General.HashLimit
	n := &Node{
		cfg:          cfg,
		log:          opts.Log,
		filter:       newFilter(cfg.General.Filter),
		kernel:       opts.Kernel,
		openInjector: opener,
		link:         l,
		clock:        clock,
		reqs:         make(chan func()),
		recommitted:  make(chan struct{}),
		started:      make(chan struct{}),
		stopped:      make(chan struct{}),
		internal:     cache.New("internal", limit, now),
		external:     cache.New("external", limit, now),
		queued:       make(map[*cache.Entry]bool),
		stats:        Stats{RecvErrors: make(map[wire.Kind]uint64)},
		internalExp:  cache.NewExpect("internal", limit, now),
		externalExp:  cache.NewExpect("external", limit, now),
		queuedExp:    make(map[*cache.ExpectEntry]bool),
	}
	if cfg.Sync.Mode == config.ModeFTFW {
		n.ftfw = newFTFW(cfg.Sync.ACKWindowSize, cfg.Sync.ResendQueueSize, n.internal.Release)
		n.ftfw.releaseExp = n.internalExp.Release
	}
	if cfg.Sync.Mode == config.ModeALARM {
		n.alarm = newAlarm(cfg.Sync.RefreshTime, cfg.Sync.CacheTimeout, uint64(now().UnixNano()))
	}
	n.initGuard()
	return n, nil
}

// authenticated is a link that authenticates its datagrams (link.Auth,
// link.Set).
type authenticated interface {
	AuthStats() link.AuthStats
}

// supported rejects the settings the node does not implement yet.
func supported(cfg *config.Config) error {
	s := &cfg.Sync
	switch {
	case !cfg.HasSync:
		return errors.New("the configuration has no Sync section")
	case len(s.Links) == 0:
		return errors.New("the Sync section has no dedicated link (UDP, Multicast or TCP block)")
	}
	return nil
}

// event is a kernel event copied for the loop, or an overrun report.
type event struct {
	typ     engine.EventType
	flow    engine.Flow
	portID  uint32
	overrun bool
}

// Run runs the node until ctx is cancelled (it then returns nil) or its
// link or kernel watch fails. It first loads the kernel table into the
// internal cache, sends a RESYNC when StartupResync is on, and (unlike
// conntrackd; in FTFW and NOTRACK, not polling) advertises what it loaded
// (without internal cache: the kernel table), paced (startup.go), so that the peer learns
// the flows that started while the node was down. With General { PollSecs } it
// follows no kernel events and reads the tables every PollSecs instead
// (poll). Run closes the link when it returns and may be called once.
func (n *Node) Run(ctx context.Context) error {
	first := false
	n.once.Do(func() { first = true })
	if !first {
		return errors.New("sync node: Run called twice")
	}
	defer close(n.stopped)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		n.link.Close()
		wg.Wait()
	}()

	if n.cfg.Sync.DisableExternalCache {
		in, err := n.openInjector()
		if err != nil {
			return fmt.Errorf("sync node: %w", err)
		}
		defer in.Close()
		n.injector = in
	}
	events := make(chan event, eventQueue)
	subscribed := make(chan engine.Subscription, 1)
	datagrams := make(chan []byte, datagramQueue)
	errc := make(chan error, 3)
	wg.Go(func() { errc <- n.receive(ctx, datagrams) })
	var expEvents <-chan expEvent
	var polls <-chan time.Time
	if p := n.pollInterval(); p > 0 {
		tick := n.clock.NewTicker(p)
		defer tick.Stop()
		polls = tick.C()
	} else {
		var expSubscribed <-chan engine.Subscription
		expEvents, expSubscribed = n.startExpectWatch(ctx, &wg, errc)
		wg.Go(func() { errc <- n.watch(ctx, events, subscribed) })
		// Subscribed first, then the dump: no change falls between them.
		select {
		case n.sub = <-subscribed:
		case err := <-errc:
			return stopping(ctx, err)
		case <-ctx.Done():
			return nil
		}
		if done, err := n.waitExpectSubscribed(ctx, expSubscribed, errc); done || err != nil {
			return stopping(ctx, err)
		}
	}
	if err := n.dump(ctx, false, false); err != nil {
		return stopping(ctx, err)
	}
	if err := n.dumpExpect(ctx, false, false); err != nil {
		return stopping(ctx, err)
	}
	if n.cfg.Sync.StartupResync {
		n.requestResync()
	}
	if n.alarm == nil && polls == nil {
		n.advertiseStartup()
	}
	n.stats.Started = n.clock.Now()
	n.logf(slog.LevelInfo, "sync node started: mode %s, %d dedicated link(s), %d entries in the internal cache",
		n.cfg.Sync.Mode, len(n.cfg.Sync.Links), n.internal.Len())
	if polls != nil {
		n.logf(slog.LevelInfo, "running in polling mode: the kernel table is read every %d s", n.cfg.General.PollSecs)
	}
	defer n.logf(slog.LevelInfo, "sync node stopped")
	close(n.started)
	var linkCheck <-chan time.Time
	set, multi := n.link.(*link.Set)
	if multi {
		n.checkLinks(set)
		tick := n.clock.NewTicker(linkCheckInterval)
		defer tick.Stop()
		linkCheck = tick.C()
	}
	var peerCheck <-chan time.Time
	if tcpLinks(n.cfg) {
		tick := n.clock.NewTicker(peerConnectCheck)
		defer tick.Stop()
		peerCheck = tick.C()
	}
	alive := n.clock.NewTimer(aliveInterval)
	defer alive.Stop()
	var alarms <-chan time.Time
	if n.alarm != nil {
		alive.Stop() // ALARM sends no control messages
		tick := n.clock.NewTicker(alarmTick)
		defer tick.Stop()
		alarms = tick.C()
	}
	// resync is the pending re-read of the table after an event overrun.
	var resync Timer
	defer func() {
		if resync != nil {
			resync.Stop()
		}
	}()
	for {
		if len(events) == 0 && len(datagrams) == 0 && n.transmit() && n.alarm == nil {
			alive.Reset(aliveInterval)
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			return stopping(ctx, err)
		case ev := <-events:
			if ev.overrun {
				n.stats.EventOverflows++
				n.logOverrun()
				if resync == nil && n.cfg.General.NetlinkOverrunResync > 0 {
					resync = n.clock.NewTimer(n.cfg.General.NetlinkOverrunResync)
				}
				continue
			}
			n.kernelEvent(&ev)
		case ev := <-expEvents:
			if err := n.expectEvent(ctx, &ev); err != nil {
				return stopping(ctx, err)
			}
		case d := <-datagrams:
			n.datagram(d)
		case fn := <-n.reqs:
			fn()
		case <-timerC(resync):
			resync = nil
			n.stats.KernelResyncs++
			if err := n.dump(ctx, true, false); err != nil {
				return stopping(ctx, err)
			}
		case <-n.recommitted:
			n.stats.KernelResyncs++
			if err := n.reread(ctx, true); err != nil {
				return stopping(ctx, err)
			}
		case <-polls:
			if err := n.poll(ctx); err != nil {
				return stopping(ctx, err)
			}
		case <-alarms:
			n.alarmTick()
		case <-linkCheck:
			n.checkLinks(set)
		case <-peerCheck:
			n.checkPeerConnects()
		case <-alive.C():
			if n.ftfw != nil {
				n.txq = append(n.txq, n.ftfw.alive())
			} else {
				n.txq = append(n.txq, txItem{ctl: wire.FlagAlive})
			}
		}
	}
}

// timerC is t's channel; nil (never ready) without a timer.
func timerC(t Timer) <-chan time.Time {
	if t == nil {
		return nil
	}
	return t.C()
}

// stopping returns nil once ctx has ended (err is then a consequence of
// the end), else err.
func stopping(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// watch follows the kernel's conntrack events and hands copies to the
// loop; it sends its group membership on subscribed before the first.
func (n *Node) watch(ctx context.Context, events chan<- event, subscribed chan<- engine.Subscription) error {
	wc := engine.WatchConfig{
		Table:      engine.TableConntrack,
		Subscribed: func(s engine.Subscription) { subscribed <- s },
		// conntrackd starts at NetlinkBufferSize and doubles up to
		// NetlinkBufferSizeMaxGrowth on overruns; the node starts at the
		// larger (and never below the engine's default).
		ReadBuffer: max(n.cfg.General.NetlinkBufferSize, n.cfg.General.NetlinkBufferSizeMaxGrowth),
		Resync: func(ctx context.Context) error {
			select {
			case events <- event{overrun: true}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		},
	}
	_, err := n.kernel.Watch(ctx, wc, func(ev *engine.Event) error {
		if ev.Flow == nil {
			return nil
		}
		select {
		case events <- event{typ: ev.Type, flow: *ev.Flow, portID: ev.PortID}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	if err != nil {
		return fmt.Errorf("sync node: kernel events: %w", err)
	}
	return errors.New("sync node: kernel event watch ended")
}

// receive reads datagrams from the link and hands copies to the loop.
func (n *Node) receive(ctx context.Context, datagrams chan<- []byte) error {
	buf := make([]byte, maxDatagram)
	for {
		m, err := n.link.Recv(buf)
		if err != nil {
			return fmt.Errorf("sync node: %w", err)
		}
		select {
		case datagrams <- append([]byte(nil), buf[:m]...):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// running waits until the node runs (subscribed, its start-up dump
// read); ErrStopped once Run has returned.
func (n *Node) running(ctx context.Context) error {
	select {
	case <-n.started:
		return nil
	case <-n.stopped:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// do runs fn in the loop and waits for it.
func (n *Node) do(ctx context.Context, fn func()) error {
	done := make(chan struct{})
	wrapped := func() {
		fn()
		close(done)
	}
	if err := n.running(ctx); err != nil {
		return err
	}
	select {
	case n.reqs <- wrapped:
	case <-n.stopped:
		return ErrStopped
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-done:
		return nil
	case <-n.stopped:
		return ErrStopped
	}
}
