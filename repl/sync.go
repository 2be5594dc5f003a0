package repl

import (
	"context"
	"fmt"
	"strings"

	"ctq/lang"
	"ctq/sync/config"
	"ctq/sync/control"
	"ctq/sync/daemon"
)

// syncStep runs a sync statement: run and start run a node with
// sync/daemon (in the session's namespace, on its live table); the other
// actions are requests to a running node's control socket.
func (s *Session) syncStep(ctx context.Context, st *lang.SyncStep) error {
	if st.Config == "" && st.Action != "run" && st.Action != "start" && s.daemon != nil && s.daemon.Running() {
		// The session's own node is the default for requests.
		return s.syncRequest(ctx, st, s.daemon.Socket())
	}
	cfg, err := daemon.LoadConfig(st.Config)
	if err != nil {
		return fmt.Errorf("sync %s: %w", st.Action, err)
	}
	switch st.Action {
	case "run":
		if err := s.needLive(); err != nil {
			return fmt.Errorf("sync run: %w", err)
		}
		if err := daemon.Run(ctx, s.daemonConfig(cfg)); err != nil {
			return fmt.Errorf("sync run: %w", err)
		}
		return nil
	case "start":
		return s.syncStart(cfg)
	}
	return s.syncRequest(ctx, st, cfg.General.UnixPath)
}

// syncRequest asks the node listening on socket to carry out st's action
// and prints its answer; stop also ends the session's node if that is the
// one asked.
func (s *Session) syncRequest(ctx context.Context, st *lang.SyncStep, socket string) error {
	req := control.Request{Verb: st.Action}
	if v, arg, ok := strings.Cut(st.Action, " "); ok {
		req = control.Request{Verb: v, Arg: arg}
	}
	var werr error
	err := control.Stream(ctx, socket, req, func(line string) error {
		_, werr = fmt.Fprintln(s.cfg.Stdout, line)
		return werr
	})
	if werr != nil {
		return fmt.Errorf("write output: %w", werr)
	}
	if err != nil {
		return fmt.Errorf("sync %s: %w", st.Action, err)
	}
	if st.Action == "stop" && s.daemon != nil && s.daemon.Socket() == socket {
		err := s.daemon.Stop()
		s.daemon = nil
		if err != nil {
			return fmt.Errorf("sync stop: %w", err)
		}
	}
	return nil
}

// needLive refuses a node to a session that reads a saved table.
func (s *Session) needLive() error {
	if s.cfg.From != "" {
		return fmt.Errorf("a sync node runs on the live table, not the saved table %s", s.cfg.From)
	}
	return nil
}

// daemonConfig is the daemon configuration of a node of cfg run by the
// session: on the live table of the session's namespace, its links in
// that namespace, telling systemd when it listens.
func (s *Session) daemonConfig(cfg *config.Config) daemon.Config {
	return daemon.Config{
		Config: cfg,
		NetNS:  s.cfg.NetNS,
		Stderr: s.cfg.Stderr,
		Notify: daemon.SystemdNotifier(),
	}
}

// syncStart runs a node in the background of the session until sync stop
// or the session's end.
func (s *Session) syncStart(cfg *config.Config) error {
	if s.daemon != nil && s.daemon.Running() {
		return fmt.Errorf("sync start: a sync node already runs in this session (control socket %s): sync stop first", s.daemon.Socket())
	}
	if err := s.needLive(); err != nil {
		return fmt.Errorf("sync start: %w", err)
	}
	d, err := daemon.Start(context.Background(), s.daemonConfig(cfg))
	if err != nil {
		return fmt.Errorf("sync start: %w", err)
	}
	s.daemon = d
	return nil
}

// stopDaemon ends the session's background node, if any.
func (s *Session) stopDaemon() error {
	if s.daemon == nil {
		return nil
	}
	err := s.daemon.Stop()
	s.daemon = nil
	return err
}
