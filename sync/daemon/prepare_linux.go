package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"ctq/engine/ctnetlink"
	"ctq/internal/netns"
	"ctq/metrics"
	"ctq/sync/config"
	"ctq/sync/control"
	"ctq/sync/link"
	"ctq/sync/node"
)

// aliveTimeout bounds how long the watchdog waits for the node to answer
// before it withholds a keep-alive.
const aliveTimeout = 5 * time.Second

// prepare fills in cfg's defaults, opens what a node of cfg.Config needs
// (lock file, log, kernel table, the dedicated links in cfg.NetNS, the
// control socket) and returns the function that runs it until ctx ends or
// a stop request comes; that function releases everything.
func prepare(cfg *Config) (func(ctx context.Context) error, error) {
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
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
	live, err := ctnetlink.OpenLive(&ctnetlink.LiveConfig{NetNS: cfg.NetNS})
	if err != nil {
		release()
		return nil, err
	}
	var l link.Link
	err = netns.Do(cfg.NetNS, func() error {
		var err error
		l, err = link.OpenSetWith(c.Sync.Links, link.Options{ErrorQueueLength: c.Sync.ErrorQueueLength, Log: logger.log})
		return err
	})
	if err != nil {
		live.Close()
		release()
		return nil, err
	}
	n, err := node.New(c, node.Options{Kernel: live, Link: l, Log: logger.log})
	if err != nil {
		l.Close()
		live.Close()
		release()
		return nil, err
	}
	var (
		msrv *metrics.Server
		srv  *control.Server // the refusals its metrics report
	)
	if addr := c.General.MetricsAddress; addr != "" {
		err := netns.Do(cfg.NetNS, func() error {
			var err error
			msrv, err = metrics.Listen(addr, live, &metrics.Config{Extra: nodeSamples(n, func() uint64 { return srv.Refused() })})
			return err
		})
		if err != nil {
			l.Close()
			live.Close()
			release()
			return nil, fmt.Errorf("MetricsAddress: %w", err)
		}
	}
	stopCtx, stop := context.WithCancel(context.Background())
	srv, err = control.Listen(c.General.UnixPath, n, stop)
	if err != nil {
		if msrv != nil {
			msrv.Close()
		}
		stop()
		l.Close()
		live.Close()
		release()
		return nil, err
	}
	srv.SetLog(logger.log)
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
		served := make(chan error, 2)
		go func() { served <- srv.Serve(ctx) }()
		if msrv != nil {
			go func() { served <- msrv.Serve(ctx) }()
		}
		if cfg.Notify != nil {
			go notify(ctx, cfg.Notify, n, c)
			defer cfg.Notify.Notify("STOPPING=1")
		}
		if cfg.StartLine != "" {
			logger.log(slog.LevelInfo, cfg.StartLine)
		}
		err = n.Run(ctx)
		if ctx.Err() != nil && errors.Is(err, context.Canceled) {
			// Stopped while loading the kernel table.
			err = nil
		}
		if err == nil && cfg.StopLine != "" {
			logger.log(slog.LevelInfo, cfg.StopLine)
		}
		cancel()
		stop()
		err = errors.Join(err, <-served)
		if msrv != nil {
			err = errors.Join(err, <-served)
		}
		return err
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
