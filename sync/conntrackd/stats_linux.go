package conntrackd

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/syslog"
	"net"
	"os"
	"sync"
	"time"

	"ctq/engine"
	"ctq/engine/account"
	"ctq/engine/ctnetlink"
	"ctq/engine/format"
	"ctq/sync/config"
	"ctq/sync/control"
)

// statsHidden are the attributes conntrackd's statistics cache drops
// from the entries of its first dump (stats_populate), with the ID.
const statsHidden = engine.HasTimeout | engine.HasUse | engine.HasCounters | engine.HasID

// logHidden are the attributes of a destroy event its flow log line
// leaves out (the events' nfct_attr_unset(ATTR_TIMEOUT)); a mark of 0 is
// left out too (a destroy event carries no mark then).
const logHidden = engine.HasTimeout | engine.HasUse | engine.HasID

// statsNode runs conntrackd's statistics mode (a Stats section): it keeps
// the kernel table's entries in a cache, logs each entry that ends to the
// Stats LogFile (engine/account, with the kernel's reliable delivery of
// destroy events and the entries that end without one recovered from
// table dumps) and to syslog as conntrackd does ("ctime<TAB>entry"), and
// answers conntrackd's client on the control socket (-s, -s cache, -s
// runtime, -i, -f, -k).
type statsNode struct {
	cfg   *config.Config
	live  *ctnetlink.Live
	ln    *net.UnixListener
	lock  string
	start time.Time
	log   *nodeLog

	mu    sync.Mutex
	flows map[int]statsEntry
	count statsCounters
	fsys  *syslog.Writer
	// accounted is set when engine/account writes the flow log (Stats
	// LogFile); acctDone is closed when it has finished.
	accounted bool
	acctDone  chan struct{}

	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// statsEntry is a cached entry and when it entered the cache.
type statsEntry struct {
	flow  engine.Flow
	since time.Time
}

// startStats starts the statistics-mode node of cfg: lock file, logs,
// kernel table, control socket; it runs until ctx ends or -k.
func startStats(ctx context.Context, cfg *config.Config, log *nodeLog) (*statsNode, error) {
	g := &cfg.General
	f, err := os.OpenFile(g.LockFile, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lockfile `%s' exists, perhaps conntrackd already running?", g.LockFile)
	}
	f.Close()
	n := &statsNode{cfg: cfg, lock: g.LockFile, start: time.Now(), log: log, flows: map[int]statsEntry{}, done: make(chan struct{})}
	fail := func(err error) (*statsNode, error) {
		n.release()
		return nil, err
	}
	if p := cfg.Stats.LogFile; p != "" {
		// account opens it again: this says at once that it cannot.
		lf, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return fail(fmt.Errorf("can't open logfile `%s'.Reason: %w", p, err))
		}
		lf.Close()
		n.accounted = true
	}
	if fac := cfg.Stats.Syslog; fac != "" {
		n.fsys, _ = syslog.New(syslogFacility(fac)|syslog.LOG_INFO, "conntrackd") // as openlog, never fatal
	}
	if n.live, err = ctnetlink.OpenLive(&ctnetlink.LiveConfig{}); err != nil {
		return fail(err)
	}
	if g.UnixPath != "" {
		os.Remove(g.UnixPath) // conntrackd unlinks a stale socket
		if n.ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: g.UnixPath, Net: "unix"}); err != nil {
			return fail(fmt.Errorf("can't open unix socket %s: %w", g.UnixPath, err))
		}
		os.Chmod(g.UnixPath, 0o600)
	}
	now := time.Now()
	if _, err := n.live.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		c := *f
		c.Has &^= statsHidden
		n.flows[f.ID] = statsEntry{flow: c, since: now}
		return nil
	}); err != nil {
		return fail(fmt.Errorf("dump the kernel table: %w", err))
	}
	n.count.active = uint64(len(n.flows))
	ctx, n.cancel = context.WithCancel(ctx)
	subscribed := make(chan error, 1)
	watchErr := make(chan error, 1)
	go func() {
		_, err := n.live.Watch(ctx, engine.WatchConfig{
			Events:     engine.EventNew | engine.EventUpdate | engine.EventDestroy,
			Subscribed: func(engine.Subscription) { subscribed <- nil },
		}, n.event)
		watchErr <- err
	}()
	select {
	case <-subscribed:
	case err := <-watchErr:
		n.cancel()
		return fail(fmt.Errorf("follow the kernel's events: %w", err))
	}
	acctErr := make(chan error, 1)
	if n.accounted {
		n.acctDone = make(chan struct{})
		go func() {
			defer close(n.acctDone)
			_, err := account.Run(ctx, account.Config{
				Source: n.live,
				Plan:   &engine.Plan{Action: engine.ActWatch, Table: engine.TableConntrack, Events: engine.EventDestroy, Limit: -1},
				Path:   cfg.Stats.LogFile,
				Writer: func(w io.Writer) format.EventWriter { return &statsLog{w: w, sys: n.fsys} },
			})
			acctErr <- err
		}()
	}
	go n.run(ctx, watchErr, acctErr)
	return n, nil
}

// run serves the control socket until ctx ends, then releases all.
func (n *statsNode) run(ctx context.Context, watchErr, acctErr <-chan error) {
	defer close(n.done)
	if n.ln != nil {
		go n.serve(ctx)
	}
	select {
	case <-ctx.Done():
	case err := <-watchErr:
		if ctx.Err() == nil {
			n.err = fmt.Errorf("kernel events: %w", err)
		}
	case err := <-acctErr:
		if ctx.Err() == nil && err != nil {
			n.err = fmt.Errorf("flow log: %w", err)
		}
	}
	n.cancel()
	if n.acctDone != nil {
		<-n.acctDone // the entries still gone are logged
	}
	n.release()
}

// release closes what the node opened and removes its lock file and
// socket.
func (n *statsNode) release() {
	if n.ln != nil {
		n.ln.Close() // removes the socket file
	}
	if n.live != nil {
		n.live.Close()
	}
	n.mu.Lock()
	if n.fsys != nil {
		n.fsys.Close()
	}
	n.mu.Unlock()
	os.Remove(n.lock)
}

// Done is closed when the node has stopped.
func (n *statsNode) Done() <-chan struct{} { return n.done }

// Stop stops the node and returns why it ended.
func (n *statsNode) Stop() error {
	n.cancel()
	<-n.done
	return n.err
}

// event updates the cache with a kernel event; a destroy logs the entry.
func (n *statsNode) event(ev *engine.Event) error {
	if ev.Flow == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.count.events++
	id := ev.Flow.ID
	cached := *ev.Flow
	cached.Has &^= engine.HasTimeout | engine.HasID
	switch ev.Type {
	case engine.EventNew:
		if _, ok := n.flows[id]; !ok {
			n.flows[id] = statsEntry{flow: cached, since: time.Now()}
			n.count.created++
		}
	case engine.EventUpdate:
		e, ok := n.flows[id]
		if !ok {
			e.since = time.Now()
			n.count.created++
		} else {
			n.count.updated++
		}
		e.flow = cached
		n.flows[id] = e
	case engine.EventDestroy:
		if _, ok := n.flows[id]; !ok {
			break
		}
		delete(n.flows, id)
		n.count.destroyed++
		if ev.Flow.Has&engine.HasCounters != 0 {
			n.count.bytes += uint64(ev.Flow.Bytes)
			n.count.packets += uint64(ev.Flow.Packets)
		}
		if !n.accounted && n.fsys != nil {
			n.fsys.Info(string(statsLine(ev.Flow)))
		}
	}
	n.count.active = uint64(len(n.flows))
	return nil
}

// statsLine is an ended entry's line in conntrackd's flow log (without
// the date): the entry without timeout, use and ID, and without a mark
// of 0 (a destroy event carries none).
func statsLine(f *engine.Flow) []byte {
	c := *f
	c.Has &^= logHidden
	if c.Mark == 0 {
		c.Has &^= engine.HasMark
	}
	return format.AppendText(nil, &c, format.EventNone, 0, nil)
}

// statsLog writes account's destroy events as conntrackd's dlog_ct:
// "ctime<TAB>line" to the log file, the line to syslog.
type statsLog struct {
	w   io.Writer
	sys *syslog.Writer
}

// WriteEvent writes one ended entry.
func (l *statsLog) WriteEvent(ev *engine.Event) error {
	if ev.Flow == nil {
		return nil
	}
	line := statsLine(ev.Flow)
	if l.sys != nil {
		l.sys.Info(string(line))
	}
	_, err := io.WriteString(l.w, time.Now().Format("Mon Jan _2 15:04:05 2006")+"\t"+string(line)+"\n")
	return err
}

// Flush has nothing to do: every line is written at once.
func (l *statsLog) Flush() error { return nil }

// Close has nothing to do: account closes the file.
func (l *statsLog) Close() error { return nil }

// serve answers conntrackd's client until ctx ends.
func (n *statsNode) serve(ctx context.Context) {
	for {
		c, err := n.ln.Accept()
		if err != nil {
			return
		}
		go n.answer(ctx, c)
	}
}

// answer answers one request, as conntrackd's statistics mode does.
func (n *statsNode) answer(ctx context.Context, c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(control.DefaultTimeout))
	var b [4]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		return
	}
	code := int32(binary.NativeEndian.Uint32(b[:]))
	n.mu.Lock()
	count := n.count
	n.mu.Unlock()
	switch code {
	case control.CodeStats:
		io.WriteString(c, statsPage(&count))
	case control.CodeStatsCache:
		io.WriteString(c, statsCachePage(&count))
	case control.CodeStatsRuntime:
		io.WriteString(c, statsRuntimePage(&count, time.Since(n.start)))
	case control.CodeDumpInternal, control.CodeDumpIntXML:
		n.dump(c, code == control.CodeDumpIntXML)
	case control.CodeAllFlushCache, control.CodeFlushIntCache, control.CodeFlushCache:
		n.log.log(LevelNotice, "flushing caches")
		n.mu.Lock()
		clear(n.flows)
		n.count.active = 0
		n.mu.Unlock()
	case control.CodeKill:
		c.Close()
		n.cancel()
	}
}

// dump writes the cache as conntrackd's -i (or -i -x) does.
func (n *statsNode) dump(w io.Writer, xml bool) {
	n.mu.Lock()
	entries := make([]statsEntry, 0, len(n.flows))
	for _, e := range n.flows {
		entries = append(entries, e)
	}
	n.mu.Unlock()
	now := time.Now()
	var buf []byte
	for i := range entries {
		c := entries[i].flow
		c.Has |= engine.HasMark // conntrackd's cache dumps always show it
		buf = buf[:0]
		if xml {
			buf = format.AppendXML(buf, &c, format.EventNone, 0, nil)
		} else {
			buf = format.AppendText(buf, &c, format.EventNone, 0, nil)
			buf = fmt.Appendf(buf, " [active since %ds]", int64(now.Sub(entries[i].since)/time.Second))
		}
		buf = append(buf, '\n')
		if _, err := w.Write(buf); err != nil {
			return
		}
	}
}
