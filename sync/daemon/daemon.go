package daemon

import (
	"context"
	"fmt"
	"io"

	"ctq/sync/config"
)

// Config sets up a node.
type Config struct {
	// Config is the node's configuration, as LoadConfig returns it; nil
	// means LoadConfig(ConfigPath).
	Config *config.Config
	// ConfigPath is the configuration file read when Config is nil (empty:
	// the first of DefaultConfigPaths that exists).
	ConfigPath string
	// NetNS names the network namespace (as `ip netns` knows it) whose
	// conntrack table the node replicates and whose interfaces the
	// dedicated links use; empty means the caller's.
	NetNS string
	// Stderr receives the configuration's warnings and progress as ctq
	// prints them ("ctq: sync node running, ..."), and the node's log when
	// the configuration has neither LogFile nor Syslog; nil discards them.
	Stderr io.Writer
	// Notify hears when the node is ready, alive and stopping; nil tells
	// no one. SystemdNotifier is systemd's.
	Notify Notifier
	// StartLine, when not empty, is logged (a notice) once the node runs,
	// and StopLine when it stops for ctx or a stop request: conntrackd's
	// front end logs conntrackd's "-- starting in console mode --" and
	// "---- shutdown received ----".
	StartLine, StopLine string
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

// Done is closed when the node has stopped (Stop then returns why at
// once).
func (n *Node) Done() <-chan struct{} { return n.done }

// Running reports whether the node has not stopped yet.
func (n *Node) Running() bool {
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}
