package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/sync/cache"
)

// fakeKernel is a Kernel in memory: a conntrack table and an expect table,
// and a watch of each whose events are what the test feeds (event,
// expectEvent, overrun) and what the fakeKernel's injectors write, in the
// groups the watch has joined. Batches and expectation writes change the
// tables at once and raise no events, as if every watch had left the NEW
// and DESTROY groups, which a commit does; loud counts those made while
// the table's watch was in the NEW group.
type fakeKernel struct {
	// events and expEvents are the watches' events; nil is an overrun
	// (lost events).
	events, expEvents chan *engine.Event

	mu      sync.Mutex
	flows   map[cache.Key]engine.Flow
	exps    map[cache.ExpectKey]engine.Expect
	subs    map[engine.Table]*fakeSub
	loud    int    // batch requests and expectation writes heard by a watch
	nextPID uint32 // port ID of the next injector
	// afterDelete, when set, runs after each delete of a batch that
	// removed an entry, with the table (and mu) held: a packet's doing.
	afterDelete func(flows map[cache.Key]engine.Flow, f *engine.Flow)
}

var (
	_ Kernel         = (*fakeKernel)(nil)
	_ InjectorOpener = (*fakeKernel)(nil)
)

// newFakeKernel returns an empty fakeKernel.
func newFakeKernel() *fakeKernel {
	return &fakeKernel{
		events:    make(chan *engine.Event, eventQueue),
		expEvents: make(chan *engine.Event, eventQueue),
		flows:     make(map[cache.Key]engine.Flow),
		exps:      make(map[cache.ExpectKey]engine.Expect),
		subs:      make(map[engine.Table]*fakeSub),
		nextPID:   1000,
	}
}

// put stores flows in the table without an event (what was there before
// the node started, or changed while the events were lost).
func (k *fakeKernel) put(flows ...engine.Flow) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, f := range flows {
		k.flows[cache.KeyOf(&f)] = f
	}
}

// remove deletes a flow from the table without an event.
func (k *fakeKernel) remove(f engine.Flow) {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.flows, cache.KeyOf(&f))
}

// event applies a change of the flow f to the table, as the kernel does
// for packets, and queues its event for the conntrack watch.
func (k *fakeKernel) event(typ engine.EventType, f engine.Flow) {
	k.mu.Lock()
	if typ == engine.EventDestroy {
		delete(k.flows, cache.KeyOf(&f))
	} else {
		k.flows[cache.KeyOf(&f)] = f
	}
	k.mu.Unlock()
	k.events <- &engine.Event{Type: typ, Flow: &f}
}

// expectEvent does what event does for an expectation.
func (k *fakeKernel) expectEvent(typ engine.EventType, x engine.Expect) {
	k.mu.Lock()
	if typ == engine.EventDestroy {
		delete(k.exps, cache.ExpectKeyOf(&x))
	} else {
		k.exps[cache.ExpectKeyOf(&x)] = x
	}
	k.mu.Unlock()
	k.expEvents <- &engine.Event{Type: typ, Expect: &x}
}

// overrun reports lost events to the conntrack watch.
func (k *fakeKernel) overrun() { k.events <- nil }

// flow returns the table's flow of f's key.
func (k *fakeKernel) flow(f engine.Flow) (engine.Flow, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	g, ok := k.flows[cache.KeyOf(&f)]
	return g, ok
}

// len returns the number of flows and of expectations.
func (k *fakeKernel) len() (flows, exps int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.flows), len(k.exps)
}

// joined returns the event groups the watch of table is in (0 without a
// watch).
func (k *fakeKernel) joined(table engine.Table) engine.EventMask {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s := k.subs[table]; s != nil {
		return s.Joined()
	}
	return 0
}

// sorted returns the values of m in the order of cmpKey.
func sorted[K comparable, V any](m map[K]V, cmpKey func(a, b *V) int) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b V) int { return cmpKey(&a, &b) })
	return out
}

// byPorts orders flows by their ports and source addresses.
func byPorts(a, b *engine.Flow) int {
	return cmp.Or(cmp.Compare(a.Sport, b.Sport), cmp.Compare(a.Dport, b.Dport), a.Src.Compare(b.Src))
}

// byExpPorts orders expectations by their expected port and their
// master's source port.
func byExpPorts(a, b *engine.Expect) int {
	return cmp.Or(cmp.Compare(a.Dport, b.Dport), cmp.Compare(a.MasterSport, b.MasterSport))
}

func (k *fakeKernel) Scan(ctx context.Context, table engine.Table, _ *engine.KernelFilter, yield func(*engine.Flow) error) (engine.ScanStats, error) {
	if table != engine.TableConntrack {
		return engine.ScanStats{}, fmt.Errorf("fake kernel: scan of table %v", table)
	}
	k.mu.Lock()
	flows := sorted(k.flows, byPorts)
	k.mu.Unlock()
	for i := range flows {
		if err := ctx.Err(); err != nil {
			return engine.ScanStats{}, err
		}
		if err := yield(&flows[i]); err != nil {
			return engine.ScanStats{}, err
		}
	}
	return engine.ScanStats{}, nil
}

func (k *fakeKernel) Get(_ context.Context, key *engine.Flow) (*engine.Flow, error) {
	if f, ok := k.flow(*key); ok {
		return &f, nil
	}
	return nil, engine.ErrNotFound
}

func (k *fakeKernel) Close() error { return nil }

func (k *fakeKernel) Watch(ctx context.Context, cfg engine.WatchConfig, yield func(*engine.Event) error) (engine.WatchStats, error) {
	events := k.events
	if cfg.Table == engine.TableExpect {
		events = k.expEvents
	}
	sub := &fakeSub{joined: engine.EventNew | engine.EventUpdate | engine.EventDestroy}
	k.mu.Lock()
	k.subs[cfg.Table] = sub
	k.mu.Unlock()
	if cfg.Subscribed != nil {
		cfg.Subscribed(sub)
	}
	var st engine.WatchStats
	for {
		select {
		case <-ctx.Done():
			return st, nil
		case ev := <-events:
			if ev == nil {
				st.Overflows++
				if cfg.Resync != nil {
					if err := cfg.Resync(ctx); err != nil {
						return st, err
					}
				}
				continue
			}
			if sub.Joined()&ev.Type == 0 {
				continue // the kernel builds no event for a left group
			}
			st.Received++
			if err := yield(ev); err != nil {
				return st, err
			}
		}
	}
}

func (k *fakeKernel) ScanExpect(ctx context.Context, yield func(*engine.Expect) error) (engine.ScanStats, error) {
	k.mu.Lock()
	exps := sorted(k.exps, byExpPorts)
	k.mu.Unlock()
	for i := range exps {
		if err := ctx.Err(); err != nil {
			return engine.ScanStats{}, err
		}
		if err := yield(&exps[i]); err != nil {
			return engine.ScanStats{}, err
		}
	}
	return engine.ScanStats{}, nil
}

// heard counts a write into table when its watch is in the NEW group;
// k.mu is held.
func (k *fakeKernel) heard(table engine.Table) {
	if s := k.subs[table]; s != nil && s.Joined()&engine.EventNew != 0 {
		k.loud++
	}
}

// loudWrites returns loud.
func (k *fakeKernel) loudWrites() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.loud
}

func (k *fakeKernel) CreateExpect(_ context.Context, x *engine.Expect) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.heard(engine.TableExpect)
	key := cache.ExpectKeyOf(x)
	if _, ok := k.exps[key]; ok {
		return unix.EEXIST
	}
	k.exps[key] = *x
	return nil
}

func (k *fakeKernel) DeleteExpect(_ context.Context, x *engine.Expect) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.heard(engine.TableExpect)
	key := cache.ExpectKeyOf(x)
	if _, ok := k.exps[key]; !ok {
		return engine.ErrNotFound
	}
	delete(k.exps, key)
	return nil
}

func (k *fakeKernel) NewBatch(ctx context.Context) (engine.Batch, error) {
	return k.OpenBatch(ctx, ctnetlink.BatchConfig{})
}

func (k *fakeKernel) OpenBatch(_ context.Context, cfg ctnetlink.BatchConfig) (engine.Batch, error) {
	return &fakeBatch{k: k, failed: cfg.Failed}, nil
}

func (k *fakeKernel) Flush(_ context.Context, table engine.Table, _ int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if table == engine.TableExpect {
		clear(k.exps)
	} else {
		clear(k.flows)
	}
	return nil
}

func (k *fakeKernel) FlushFilter(context.Context, *engine.KernelFilter) (bool, error) {
	return false, nil
}

func (k *fakeKernel) OpenInjector() (Injector, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.nextPID++
	return &fakeInjector{k: k, pid: k.nextPID}, nil
}

// fakeSub is the group membership of a fakeKernel's watch.
type fakeSub struct {
	mu     sync.Mutex
	joined engine.EventMask
}

func (s *fakeSub) Joined() engine.EventMask {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joined
}

func (s *fakeSub) Leave(m engine.EventMask) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.joined&^m == 0 {
		return errors.New("fake kernel: leaving every group")
	}
	s.joined &^= m
	return nil
}

func (s *fakeSub) Join(m engine.EventMask) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.joined |= m
	return nil
}

func (s *fakeSub) ReadBuffer() int { return 1 << 20 }

// fakeBatch applies each request to its fakeKernel's table at once.
type fakeBatch struct {
	k      *fakeKernel
	failed func(int, error)
	req    int
	st     engine.BatchStats
}

// do runs one request: op changes the table and returns the kernel's
// answer.
func (b *fakeBatch) do(op func(flows map[cache.Key]engine.Flow) error) {
	b.k.mu.Lock()
	b.k.heard(engine.TableConntrack)
	err := op(b.k.flows)
	b.k.mu.Unlock()
	req := b.req
	b.req++
	switch {
	case err == nil:
		b.st.Done++
		return
	case errors.Is(err, unix.ENOENT):
		b.st.Gone++
	default:
		b.st.Failed++
		b.st.Errors = append(b.st.Errors, err)
	}
	if b.failed != nil {
		b.failed(req, err)
	}
}

func (b *fakeBatch) Create(f *engine.Flow) error {
	b.do(func(flows map[cache.Key]engine.Flow) error { return create(flows, f) })
	return nil
}

func (b *fakeBatch) Update(f *engine.Flow, c engine.Change) error {
	b.do(func(flows map[cache.Key]engine.Flow) error { return update(flows, f, c) })
	return nil
}

func (b *fakeBatch) Delete(f *engine.Flow) error {
	b.do(func(flows map[cache.Key]engine.Flow) error {
		err := remove(flows, f)
		if err == nil && b.k.afterDelete != nil {
			b.k.afterDelete(flows, f)
		}
		return err
	})
	return nil
}

func (b *fakeBatch) Close() (engine.BatchStats, error) { return b.st, nil }

// create, update and remove are the kernel's answers to a write of f.
func create(flows map[cache.Key]engine.Flow, f *engine.Flow) error {
	k := cache.KeyOf(f)
	if _, ok := flows[k]; ok {
		return unix.EEXIST
	}
	c := *f
	c.SetStatus(c.Status | engine.StatusConfirmed)
	flows[k] = c
	return nil
}

func update(flows map[cache.Key]engine.Flow, f *engine.Flow, c engine.Change) error {
	k := cache.KeyOf(f)
	g, ok := flows[k]
	if !ok {
		return unix.ENOENT
	}
	if c.SetMark {
		g.Mark = int(c.Mark)
	}
	if c.SetTimeout {
		g.Timeout = int(c.Timeout)
	}
	g.SetStatus(g.Status | c.SetStatus)
	flows[k] = g
	return nil
}

func remove(flows map[cache.Key]engine.Flow, f *engine.Flow) error {
	k := cache.KeyOf(f)
	if _, ok := flows[k]; !ok {
		return unix.ENOENT
	}
	delete(flows, k)
	return nil
}

// fakeInjector writes into its fakeKernel's tables and raises the events
// of its writes, with its port ID, in the groups the watch has joined.
type fakeInjector struct {
	k   *fakeKernel
	pid uint32
}

func (i *fakeInjector) PortID() uint32 { return i.pid }

// write runs op on the conntrack table and raises the event typ of f when
// it succeeds.
func (i *fakeInjector) write(typ engine.EventType, f *engine.Flow, op func(map[cache.Key]engine.Flow) error) error {
	i.k.mu.Lock()
	err := op(i.k.flows)
	sub := i.k.subs[engine.TableConntrack]
	i.k.mu.Unlock()
	if err == nil && sub != nil && sub.Joined()&typ != 0 {
		c := *f
		i.k.events <- &engine.Event{Type: typ, Flow: &c, PortID: i.pid}
	}
	return err
}

func (i *fakeInjector) Create(_ context.Context, f *engine.Flow) error {
	return i.write(engine.EventNew, f, func(flows map[cache.Key]engine.Flow) error { return create(flows, f) })
}

func (i *fakeInjector) Update(_ context.Context, f *engine.Flow, c engine.Change) error {
	return i.write(engine.EventUpdate, f, func(flows map[cache.Key]engine.Flow) error { return update(flows, f, c) })
}

func (i *fakeInjector) Delete(_ context.Context, f *engine.Flow) error {
	return i.write(engine.EventDestroy, f, func(flows map[cache.Key]engine.Flow) error { return remove(flows, f) })
}

func (i *fakeInjector) CreateExpect(ctx context.Context, x *engine.Expect) error {
	return i.k.CreateExpect(ctx, x)
}

func (i *fakeInjector) DeleteExpect(ctx context.Context, x *engine.Expect) error {
	return i.k.DeleteExpect(ctx, x)
}

func (i *fakeInjector) Close() error { return nil }
