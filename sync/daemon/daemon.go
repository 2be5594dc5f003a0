package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"ctq/engine"
	"ctq/internal/netns"
	"ctq/sync/config"
	"ctq/sync/control"
	"ctq/sync/link"
	"ctq/sync/node"
)

// aliveTimeout bounds how long the watchdog waits for the node to answer
// before it withholds a keep-alive.
const aliveTimeout = 5 * time.Second

// Config sets up a node.
type Config struct {
	// Config is the node's configuration, as LoadConfig returns it; nil
	// means LoadConfig(ConfigPath).
	Config *config.Config
	// ConfigPath is the configuration file read when Config is nil (empty:
	// the first of DefaultConfigPaths that exists).
	ConfigPath string
	// NetNS names the network namespace (as `ip netns` knows it) whose
	// interfaces the dedicated links use; empty means the caller's.
	NetNS string
	// OpenLive opens the kernel conntrack table the node replicates (that
	// of NetNS, normally). The node closes it when it stops. Required.
	OpenLive func() (*engine.Live, error)
	// Stderr receives the configuration's warnings and progress as ctq
	// prints them ("ctq: sync node running, ..."), and the node's log when
	// the configuration has neither LogFile nor Syslog; nil discards them.
	Stderr io.Writer
	// Notify hears when the node is ready, alive and stopping; nil tells
	// no one. SystemdNotifier is systemd's.
	Notify Notifier
}

// Run runs a node until ctx ends or a client asks it to stop over the
// control socket, then releases everything (lock file, log, links,
// socket).
func Run(ctx context.Context, cfg Config) error {
	run, err := prepare(&cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(cfg.Stderr, "ctq: sync node running, control socket %s\n", cfg.Config.General.UnixPath)
	return run(ctx)
}

// Node is a node that Start runs in the background.
type Node struct {
	// socket is the node's control socket.
	socket string
	cancel context.CancelFunc
	// done is closed when the node has stopped; err is then why.
	done chan struct{}
	err  error
}

// Start prepares a node as Run does, reporting what stops it from
// running, then runs it in the background until ctx ends, Stop, or a
// client's stop request. An error that ends it later goes to cfg.Stderr
// and Stop.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	run, err := prepare(&cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	n := &Node{socket: cfg.Config.General.UnixPath, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(n.done)
		n.err = run(ctx)
		if n.err != nil {
			fmt.Fprintf(cfg.Stderr, "ctq: sync node stopped: %v\n", n.err)
		}
	}()
	fmt.Fprintf(cfg.Stderr, "ctq: sync node started, control socket %s\n", n.socket)
	return n, nil
}

// Socket is the path of the node's control socket.
func (n *Node) Socket() string { return n.socket }

// Stop ends the node, waits for it and returns why it ended (nil for a
// stop).
func (n *Node) Stop() error {
	n.cancel()
	<-n.done
	return n.err
}

// Running reports whether the node has not stopped yet.
func (n *Node) Running() bool {
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// prepare fills in cfg's defaults, opens what a node of cfg.Config needs
// (lock file, log, kernel table, the dedicated links in cfg.NetNS, the
// control socket) and returns the function that runs it until ctx ends or
// a stop request comes; that function releases everything.
func prepare(cfg *Config) (func(ctx context.Context) error, error) {
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	if cfg.OpenLive == nil {
		return nil, errors.New("sync node: no kernel table to replicate (Config.OpenLive is nil)")
	}
	if cfg.Config == nil {
		c, err := LoadConfig(cfg.ConfigPath)
		if err != nil {
			return nil, err
		}
		cfg.Config = c
	}
	c := cfg.Config
	for _, w := range c.Warnings {
		fmt.Fprintf(cfg.Stderr, "ctq: warning: %s\n", w)
	}
	if err := applyScheduler(c.General.Scheduler); err != nil {
		return nil, err
	}
	lock, err := takeLock(c.General.LockFile)
	if err != nil {
		return nil, err
	}
	logger, err := openLog(&c.General, cfg.Stderr)
	if err != nil {
		lock.unlock()
		return nil, err
	}
	release := func() {
		logger.close()
		lock.unlock()
	}
	live, err := cfg.OpenLive()
	if err != nil {
		release()
		return nil, err
	}
	var l link.Link
	err = netns.Do(cfg.NetNS, func() error {
		var err error
		l, err = link.OpenSet(c.Sync.Links, c.Sync.ErrorQueueLength)
		return err
	})
	if err != nil {
		live.Close()
		release()
		return nil, err
	}
	n, err := node.New(c, node.Options{Live: live, Link: l, Log: logger.log})
	if err != nil {
		l.Close()
		live.Close()
		release()
		return nil, err
	}
	stopCtx, stop := context.WithCancel(context.Background())
	srv, err := control.Listen(c.General.UnixPath, n, stop)
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
		if cfg.Notify != nil {
			go notify(ctx, cfg.Notify, n, c)
			defer cfg.Notify.Notify("STOPPING=1")
		}
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

// notify tells nt once n runs (subscribed, table read), then sends
// keep-alives at nt's watchdog interval while n answers, until ctx ends.
// A node whose loop no longer answers gets no keep-alive, and systemd
// restarts it.
func notify(ctx context.Context, nt Notifier, n *node.Node, c *config.Config) {
	if _, err := n.Stats(ctx); err != nil {
		return
	}
	nt.Notify("READY=1\nSTATUS=replicating over " + strconv.Itoa(len(c.Sync.Links)) + " link(s), mode " + c.Sync.Mode.String())
	every := nt.WatchdogInterval()
	if every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			actx, cancel := context.WithTimeout(ctx, aliveTimeout)
			_, err := n.Stats(actx)
			cancel()
			if err == nil {
				nt.Notify("WATCHDOG=1")
			}
		}
	}
}
