package repl

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"ctq/engine/ctnetlink"
	"ctq/lang"
	"ctq/sync/config"
	"ctq/sync/control"
	"ctq/sync/link"
	"ctq/sync/node"
)

// defaultSyncConfigs are the configuration files a sync statement without
// a path uses: the first that exists.
var defaultSyncConfigs = []string{"/etc/ctq/sync.conf", "/etc/conntrackd/conntrackd.conf"}

// netnsDir is where `ip netns` keeps its named namespaces.
const netnsDir = "/var/run/netns"

// syncDaemon is a sync node a session runs in the background (sync start).
type syncDaemon struct {
	// sock is the node's control socket.
	sock   string
	cancel context.CancelFunc
	// done is closed when the node has stopped; err is then why.
	done chan struct{}
	err  error
}

// stop ends the node and waits for it.
func (d *syncDaemon) stop() error {
	d.cancel()
	<-d.done
	return d.err
}

// running reports whether the node has not stopped yet.
func (d *syncDaemon) running() bool {
	select {
	case <-d.done:
		return false
	default:
		return true
	}
}

// syncStep runs a sync statement.
func (s *Session) syncStep(ctx context.Context, st *lang.SyncStep) error {
	path, err := syncConfigPath(st.Config)
	if err != nil {
		return fmt.Errorf("sync %s: %w", st.Action, err)
	}
	cfg, err := config.ParseFile(path)
	if err == nil {
		err = needSync(cfg)
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", st.Action, err)
	}
	if cfg.General.UnixPath == "" {
		return fmt.Errorf("sync %s: %s has no control socket (General { UNIX { Path ... } })", st.Action, path)
	}
	switch st.Action {
	case "run":
		return s.syncRun(ctx, cfg)
	case "start":
		return s.syncStart(cfg)
	}
	req := control.Request{Verb: st.Action}
	if v, arg, ok := strings.Cut(st.Action, " "); ok {
		req = control.Request{Verb: v, Arg: arg}
	}
	var werr error
	err = control.Stream(ctx, cfg.General.UnixPath, req, func(line string) error {
		_, werr = fmt.Fprintln(s.cfg.Stdout, line)
		return werr
	})
	if werr != nil {
		return fmt.Errorf("write output: %w", werr)
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", st.Action, err)
	}
	if st.Action == "stop" && s.daemon != nil && s.daemon.sock == cfg.General.UnixPath {
		err := s.daemon.stop()
		s.daemon = nil
		if err != nil {
			return fmt.Errorf("sync stop: %w", err)
		}
	}
	return nil
}

// needSync checks that cfg configures a sync node: a conntrackd.conf of
// the statistics mode (a Stats section) gets what to use instead.
func needSync(cfg *config.Config) error {
	switch {
	case cfg.HasSync:
		return nil
	case cfg.StatsLine > 0:
		return &config.Error{File: cfg.File, Line: cfg.StatsLine, Msg: "Stats is conntrackd's statistics mode, not sync: " +
			"ctq logs ended flows with `account \"FILE\"` (conntrackd's Stats LogFile) and shows the table with `list` and `stats`"}
	}
	return &config.Error{File: cfg.File, Msg: "no Sync section: a sync node needs Sync { Mode FTFW|NOTRACK|ALARM { } and a UDP, Multicast or TCP block }"}
}

// syncConfigPath is path, or without one the first default file that
// exists.
func syncConfigPath(path string) (string, error) {
	if path != "" {
		return path, nil
	}
	for _, p := range defaultSyncConfigs {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("no configuration given and none of %v exists", defaultSyncConfigs)
}

// syncRun runs a node in the foreground until ctx ends or a stop request.
func (s *Session) syncRun(ctx context.Context, cfg *config.Config) error {
	run, err := s.prepareNode(cfg)
	if err != nil {
		return fmt.Errorf("sync run: %w", err)
	}
	fmt.Fprintf(s.cfg.Stderr, "ctq: sync node running, control socket %s\n", cfg.General.UnixPath)
	if err := run(ctx); err != nil {
		return fmt.Errorf("sync run: %w", err)
	}
	return nil
}

// syncStart runs a node in the background of the session until sync stop
// or the session's end.
func (s *Session) syncStart(cfg *config.Config) error {
	if s.daemon != nil && s.daemon.running() {
		return fmt.Errorf("sync start: a sync node already runs in this session (control socket %s): sync stop first", s.daemon.sock)
	}
	run, err := s.prepareNode(cfg)
	if err != nil {
		return fmt.Errorf("sync start: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	d := &syncDaemon{sock: cfg.General.UnixPath, cancel: cancel, done: make(chan struct{})}
	stderr := s.cfg.Stderr
	go func() {
		defer close(d.done)
		d.err = run(ctx)
		if d.err != nil {
			fmt.Fprintf(stderr, "ctq: sync node stopped: %v\n", d.err)
		}
	}()
	s.daemon = d
	fmt.Fprintf(s.cfg.Stderr, "ctq: sync node started, control socket %s\n", d.sock)
	return nil
}

// stopDaemon ends the session's background node, if any.
func (s *Session) stopDaemon() error {
	if s.daemon == nil {
		return nil
	}
	err := s.daemon.stop()
	s.daemon = nil
	return err
}

// prepareNode opens what a node of cfg needs (the session's namespace's
// conntrack table, the dedicated link in that namespace, the control
// socket) and returns the function that runs it until ctx ends or a stop
// request comes; that function releases everything.
func (s *Session) prepareNode(cfg *config.Config) (func(ctx context.Context) error, error) {
	if s.cfg.From != "" {
		return nil, fmt.Errorf("a sync node runs on the live table, not the saved table %s", s.cfg.From)
	}
	for _, w := range cfg.Warnings {
		fmt.Fprintf(s.cfg.Stderr, "ctq: warning: %s\n", w)
	}
	if err := applyScheduler(cfg.General.Scheduler); err != nil {
		return nil, err
	}
	lock, err := lockSync(cfg.General.LockFile)
	if err != nil {
		return nil, err
	}
	logger, err := openSyncLog(&cfg.General, s.cfg.Stderr)
	if err != nil {
		lock.unlock()
		return nil, err
	}
	release := func() {
		logger.close()
		lock.unlock()
	}
	live, err := ctnetlink.OpenLive(&ctnetlink.LiveConfig{NetNS: s.cfg.NetNS})
	if err != nil {
		release()
		return nil, err
	}
	var l link.Link
	err = inNetNS(s.cfg.NetNS, func() error {
		var err error
		l, err = link.OpenSet(cfg.Sync.Links, cfg.Sync.ErrorQueueLength)
		return err
	})
	if err != nil {
		live.Close()
		release()
		return nil, err
	}
	n, err := node.New(cfg, node.Options{Kernel: live, Link: l, Log: logger.log})
	if err != nil {
		l.Close()
		live.Close()
		release()
		return nil, err
	}
	stopCtx, stop := context.WithCancel(context.Background())
	srv, err := control.Listen(cfg.General.UnixPath, n, stop)
	if err != nil {
		stop()
		l.Close()
		live.Close()
		release()
		return nil, err
	}
	return func(ctx context.Context) (err error) {
		defer func() { err = errors.Join(err, logger.close(), lock.unlock()) }()
		defer live.Close()
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			select {
			case <-stopCtx.Done():
				cancel()
			case <-ctx.Done():
			}
		}()
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ctx) }()
		sd := newSDNotifier()
		go func() {
			// Stats answers once the node runs (subscribed, table read).
			if _, err := n.Stats(ctx); err != nil {
				return
			}
			sd.send("READY=1\nSTATUS=replicating over " + strconv.Itoa(len(cfg.Sync.Links)) + " link(s), mode " + cfg.Sync.Mode.String())
			sd.watchdog(ctx, func(ctx context.Context) error {
				ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				defer cancel()
				_, err := n.Stats(ctx)
				return err
			})
		}()
		defer sd.send("STOPPING=1")
		err = n.Run(ctx)
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			// Stopped while loading the kernel table.
			err = nil
		}
		cancel()
		stop()
		return errors.Join(err, <-served)
	}, nil
}

// inNetNS runs fn on an OS thread in the named network namespace (fn
// opens sockets there), or directly when name is empty. The thread never
// returns to the Go scheduler: it ends with fn.
func inNetNS(name string, fn func() error) error {
	if name == "" {
		return fn()
	}
	errc := make(chan error, 1)
	go func() {
		// No UnlockOSThread: the runtime ends a locked thread whose
		// goroutine exits, so no other goroutine runs in the namespace.
		runtime.LockOSThread()
		f, err := os.Open(filepath.Join(netnsDir, name))
		if err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", name, err)
			return
		}
		defer f.Close()
		// CLONE_NEWNET: join the namespace's network stack only.
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("enter network namespace %s: %w", name, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
