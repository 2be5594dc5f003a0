package metrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"ctq/engine"
)

// DefaultResync is how often Serve dumps the whole table again to correct
// the per-state counts. They follow the event stream, so they may be off
// by what it missed for at most this long: entries created before the
// server subscribed send no events where net.netfilter.nf_conntrack_events
// is 2 (the default: the kernel equips an entry for events only when a
// listener exists as it is created), an update that leaves the state alone
// does not re-evaluate the user series, and events between the first dump
// and the subscription are missed. Lost events (ENOBUFS) trigger a resync
// at once.
const DefaultResync = 60 * time.Second

// SeriesName is the name of the gauge of a user series.
const SeriesName = "ctq_conntrack_series_entries"

// Config sets up Serve and WriteTextfile.
type Config struct {
	// Series is the user's own series, nil for none.
	Series *Series
	// Resync is the full-dump interval of Serve; zero means DefaultResync.
	Resync time.Duration
	// Extra, when set, adds the samples it returns at each scrape (a sync
	// node's counters); an error leaves them out of that scrape.
	Extra func(ctx context.Context) ([]Sample, error)
	// Version is what ctq_build_info's version label says; empty, it
	// comes from the binary's build information.
	Version string
}

// scanner returns the full dump of k's conntrack table for a Tracker.
func scanner(k Kernel) func(context.Context, func(*engine.Flow) error) error {
	return func(ctx context.Context, yield func(*engine.Flow) error) error {
		_, err := k.Scan(ctx, engine.TableConntrack, nil, yield)
		return err
	}
}

// registry returns a new registry with the collector of k and t, and
// cfg's extra samples.
func registry(k Kernel, t *Tracker, cfg *Config) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	if err := reg.Register(newCollector(k, t, SeriesName, cfg.Version)); err != nil {
		return nil, fmt.Errorf("register conntrack collector: %w", err)
	}
	if cfg.Extra != nil {
		if err := reg.Register(&extraCollector{fetch: cfg.Extra}); err != nil {
			return nil, fmt.Errorf("register extra collector: %w", err)
		}
	}
	return reg, nil
}

// WriteTextfile dumps k's table once and writes every metric Serve
// exports but the event counters to path, in the Prometheus text format
// node_exporter's textfile collector reads (through a temporary file
// renamed into place, so a reader never sees half of it).
func WriteTextfile(ctx context.Context, k Kernel, path string, cfg *Config) error {
	t := NewTracker(cfg.Series)
	if err := t.Resync(ctx, scanner(k)); err != nil {
		return err
	}
	reg, err := registry(k, t, cfg)
	if err != nil {
		return err
	}
	if err := prometheus.WriteToTextfile(path, reg); err != nil {
		return fmt.Errorf("write metrics to %s: %w", path, err)
	}
	return nil
}

// serveCounters are the counters only Serve exports (WriteTextfile
// receives no events).
type serveCounters struct {
	events             *prometheus.CounterVec
	overflows, resyncs prometheus.Counter
}

func newServeCounters() *serveCounters {
	return &serveCounters{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ctq_conntrack_events_total",
			Help: "Conntrack events received, by type (new, update, destroy).",
		}, []string{"type"}),
		overflows: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ctq_conntrack_event_overflows_total",
			Help: "Times the kernel reported lost events (ENOBUFS); each triggers a resync.",
		}),
		resyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ctq_conntrack_resyncs_total",
			Help: "Full dumps that replaced the per-state counts.",
		}),
	}
}

func (sc *serveCounters) collectors() []prometheus.Collector {
	return []prometheus.Collector{sc.events, sc.overflows, sc.resyncs}
}

// Server is a running /metrics endpoint.
type Server struct {
	ln  net.Listener
	k   Kernel
	cfg Config
}

// Listen binds addr for Serve: a literal IP address and port
// ("127.0.0.1:9100", "[::1]:9100"; port 0 picks a free one). Host names
// and a missing host are refused rather than resolved or taken for every
// address; "0.0.0.0:PORT" listens on every IPv4 address, "[::]:PORT" on
// every address.
func Listen(addr string, k Kernel, cfg *Config) (*Server, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("serve metrics: %q is not an IP address and port (\"127.0.0.1:9100\", \"[::1]:9100\")", addr)
	}
	network := "tcp"
	if ap.Addr().Is4() {
		network = "tcp4"
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), network, addr)
	if err != nil {
		return nil, fmt.Errorf("serve metrics: %w", err)
	}
	return &Server{ln: ln, k: k, cfg: *cfg}, nil
}

// Close closes the listener of a server that will not Serve.
func (s *Server) Close() error { return s.ln.Close() }

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve answers /metrics until ctx ends (not an error) or the event
// stream or the listener fails, then closes the listener. The per-state
// counts start from a full dump, follow the events, and are dumped again
// every cfg.Resync and after lost events.
func (s *Server) Serve(ctx context.Context) error {
	defer s.ln.Close()
	every := s.cfg.Resync
	if every <= 0 {
		every = DefaultResync
	}
	t := NewTracker(s.cfg.Series)
	reg, err := registry(s.k, t, &s.cfg)
	if err != nil {
		return err
	}
	sc := newServeCounters()
	for _, c := range sc.collectors() {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("register event counters: %w", err)
		}
	}
	events, overflows, resyncs := sc.events, sc.overflows, sc.resyncs
	evNew, evUpdate, evDestroy := events.WithLabelValues("new"), events.WithLabelValues("update"), events.WithLabelValues("destroy")

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	scan := scanner(s.k)
	resync := func(ctx context.Context) error {
		if err := t.Resync(ctx, scan); err != nil {
			return err
		}
		resyncs.Inc()
		return nil
	}

	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		fail error
	)
	failed := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if fail == nil && err != nil && ctx.Err() == nil {
			fail = err
		}
		cancel()
	}
	wg.Go(func() {
		cfg := engine.WatchConfig{Table: engine.TableConntrack, Resync: func(ctx context.Context) error {
			overflows.Inc()
			return resync(ctx)
		}}
		_, err := s.k.Watch(ctx, cfg, func(ev *engine.Event) error {
			switch ev.Type {
			case engine.EventNew:
				evNew.Inc()
			case engine.EventUpdate:
				evUpdate.Inc()
			case engine.EventDestroy:
				evDestroy.Inc()
			}
			t.Apply(ev)
			return nil
		})
		failed(err)
	})
	wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			if err := resync(ctx); err != nil {
				failed(err)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})

	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	wg.Go(func() {
		if err := srv.Serve(s.ln); !errors.Is(err, http.ErrServerClosed) {
			failed(fmt.Errorf("serve metrics: %w", err))
		}
	})
	<-ctx.Done()
	shut, done := context.WithTimeout(context.Background(), 5*time.Second)
	defer done()
	serr := srv.Shutdown(shut)
	wg.Wait()
	if fail != nil {
		return fail
	}
	if serr != nil {
		return fmt.Errorf("stop metrics server: %w", serr)
	}
	return nil
}
