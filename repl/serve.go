package repl

import (
	"context"
	"fmt"

	"ctq/engine"
	"ctq/lang"
	"ctq/metrics"
	"ctq/sync/control"
	"ctq/sync/daemon"
)

// serve runs a serve statement: a Prometheus /metrics endpoint until ctx
// ends (or its for duration passes), its per-state counts dumped again
// every st.Resync (metrics.DefaultResync without every), or with textfile
// one write of the
// metrics in node_exporter's textfile format. The bound address goes to
// stderr ("127.0.0.1:0" picks a free port).
func (s *Session) serve(ctx context.Context, st *lang.ServeStep) error {
	src, err := s.source()
	if err != nil {
		return err
	}
	k, ok := src.(metrics.Kernel)
	if !ok {
		return fmt.Errorf("serve: metrics come from the live kernel, not the saved table %s", s.cfg.From)
	}
	cfg := &metrics.Config{Resync: st.Resync}
	if st.Sync {
		if cfg.Extra, err = syncSamples(st.SyncConfig); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	if st.Series != nil {
		if cfg.Series, err = s.series(st.Series); err != nil {
			return err
		}
	}
	if st.Textfile != "" {
		return metrics.WriteTextfile(ctx, k, st.Textfile, cfg)
	}
	srv, err := metrics.Listen(st.Addr, k, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.cfg.Stderr, "ctq: serving metrics on http://%s/metrics\n", srv.Addr())
	if st.For > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, st.For)
		defer cancel()
	}
	return srv.Serve(ctx)
}

// series builds the user series of a serve statement from its count plan:
// the condition, the group keys, and label names from the keys' text.
func (s *Session) series(ps *lang.PlanStep) (*metrics.Series, error) {
	p, err := ps.Plan(s.vars)
	if err != nil {
		return nil, err
	}
	out := &metrics.Series{Match: p.Match}
	if p.Action == engine.ActGroup {
		out.By = p.Group.By
		seen := map[string]bool{}
		for _, col := range ps.Columns[:len(ps.Columns)-1] {
			name := metrics.LabelName(col)
			for base, i := name, 2; seen[name]; i++ {
				name = fmt.Sprintf("%s_%d", base, i)
			}
			seen[name] = true
			out.Labels = append(out.Labels, name)
		}
	}
	return out, nil
}

// syncSamples returns the fetch of a sync node's metrics for serve: the
// node of configuration path (the default one when empty), asked over its
// control socket at each scrape, plus ctq_sync_up (0 when it does not
// answer: the scrape goes on without its counters).
func syncSamples(path string) (func(ctx context.Context) ([]metrics.Sample, error), error) {
	cfg, err := daemon.LoadConfig(path)
	if err != nil {
		return nil, err
	}
	path, sock := cfg.File, cfg.General.UnixPath
	return func(ctx context.Context) ([]metrics.Sample, error) {
		up := metrics.Sample{Name: "ctq_sync_up", Help: "Whether the sync node answered the scrape (" + path + ").", Value: 1}
		ms, err := control.FetchMetrics(ctx, sock)
		if err != nil {
			up.Value = 0
			return []metrics.Sample{up}, nil
		}
		return append([]metrics.Sample{up}, daemon.Samples(ms)...), nil
	}, nil
}
