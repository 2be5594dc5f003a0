package engine

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// observingBatch answers its requests only when it sends (Send, Close, or
// every full message of size requests), like the live batch: requests for
// entries whose sport is in fail fail.
type observingBatch struct {
	fakeBatch
	fail    map[int]bool
	size    int // requests a full message holds (0: no limit)
	queue   []int
	ordinal int
	observe func(int, error)
	exists  map[int]bool // CreateIfAbsent: sports that exist already
}

func (b *observingBatch) Observe(fn func(int, error)) { b.observe = fn }

func (b *observingBatch) add(sport int) {
	b.queue = append(b.queue, sport)
	if b.size > 0 && len(b.queue) == b.size {
		_ = b.Send()
	}
}

func (b *observingBatch) Delete(f *Flow) error {
	b.m.deleted = append(b.m.deleted, f.Sport)
	b.add(f.Sport)
	return nil
}

func (b *observingBatch) Update(f *Flow, c Change) error {
	b.m.updated = append(b.m.updated, f.Sport)
	b.add(f.Sport)
	return nil
}

func (b *observingBatch) CreateIfAbsent(f *Flow) error {
	b.m.created = append(b.m.created, f.Sport)
	if b.exists[f.Sport] {
		b.stats.Exists++
	} else {
		b.stats.Done++
	}
	return nil
}

func (b *observingBatch) Send() error {
	for _, sport := range b.queue {
		var err error
		if b.fail[sport] {
			err = errors.New("EBUSY")
			b.stats.Failed++
		} else {
			b.stats.Done++
		}
		if b.observe != nil {
			b.observe(b.ordinal, err)
		}
		b.ordinal++
	}
	b.queue = b.queue[:0]
	return nil
}

func (b *observingBatch) Close() (BatchStats, error) {
	_ = b.Send()
	return b.stats, nil
}

// observingMutator hands out observingBatches.
type observingMutator struct {
	fakeMutator
	batch func() *observingBatch
}

func (m *observingMutator) NewBatch(context.Context) (Batch, error) {
	b := m.batch()
	b.m = &m.fakeMutator
	return b, nil
}

func TestExecEcho(t *testing.T) {
	ctx := context.Background()
	flows := make([]Flow, 2*GuardGroup+3)
	for i := range flows {
		flows[i].SetProto(ProtoTCP)
		flows[i].Sport = i
	}
	fail := map[int]bool{1: true, GuardGroup: true, 2*GuardGroup + 2: true}
	var want []int
	for i := range flows {
		if !fail[i] {
			want = append(want, i)
		}
	}
	for _, size := range []int{0, 5} {
		for _, act := range []Action{ActDelete, ActUpdate} {
			m := &observingMutator{fakeMutator: fakeMutator{sliceSource: sliceSource{flows: flows}},
				batch: func() *observingBatch { return &observingBatch{fail: fail, size: size} }}
			var out collect
			p := &Plan{Action: act, Limit: -1, Echo: true, Exact: true,
				Change: func(*Flow) (Change, error) { return Change{SetMark: true, Mark: 1}, nil }}
			res, err := Exec(ctx, m, p, &out, nil)
			var me *MutationError
			if !errors.As(err, &me) || me.Stats.Failed != 3 {
				t.Errorf("%v size %d: err %v, want 3 failed", act, size, err)
			}
			if res.Count != len(want) || !reflect.DeepEqual(out.sports, want) {
				t.Errorf("%v size %d: count %d, echoed %v, want %v", act, size, res.Count, out.sports, want)
			}
			if m.filtered != 0 {
				t.Errorf("%v: an echoing delete used a filtered flush", act)
			}
		}
	}

	// Without echo nothing is written, and the output is not asked for.
	m := &observingMutator{fakeMutator: fakeMutator{sliceSource: sliceSource{flows: flows}},
		batch: func() *observingBatch { return &observingBatch{} }}
	if res, err := Exec(ctx, m, &Plan{Action: ActDelete, Limit: -1}, nil, nil); err != nil || res.Count != len(flows) {
		t.Errorf("plain delete: %+v %v", res, err)
	}

	// An update echoes the entry as the source holds it after the change:
	// one that is gone by then is not written.
	m = &observingMutator{fakeMutator: fakeMutator{sliceSource: sliceSource{flows: flows[:3]}},
		batch: func() *observingBatch { return &observingBatch{} }}
	gone := &goneAfterUpdate{observingMutator: m, gone: 1}
	var out collect
	p := &Plan{Action: ActUpdate, Limit: -1, Echo: true,
		Change: func(*Flow) (Change, error) { return Change{SetMark: true, Mark: 1}, nil }}
	if _, err := Exec(ctx, gone, p, &out, nil); err != nil || !reflect.DeepEqual(out.sports, []int{0, 2}) {
		t.Errorf("update echo of a vanished entry: %v %v", out.sports, err)
	}

	// A batch that cannot report outcomes cannot echo.
	fm := &fakeMutator{sliceSource: sliceSource{flows: flows}}
	if _, err := Exec(ctx, fm, &Plan{Action: ActDelete, Limit: -1, Echo: true}, &out, nil); err == nil {
		t.Error("echo without an Observer: no error")
	}
	if len(fm.deleted) != 0 {
		t.Errorf("echo without an Observer deleted %v", fm.deleted)
	}
}

// goneAfterUpdate's Get does not find the entry whose sport is gone.
type goneAfterUpdate struct {
	*observingMutator
	gone int
}

func (g *goneAfterUpdate) Get(ctx context.Context, key *Flow) (*Flow, error) {
	if key.Sport == g.gone {
		return nil, ErrNotFound
	}
	return g.observingMutator.Get(ctx, key)
}

func TestExecIfAbsent(t *testing.T) {
	ctx := context.Background()
	create := []Flow{{Sport: 1}, {Sport: 2}, {Sport: 3}}
	m := &observingMutator{batch: func() *observingBatch { return &observingBatch{exists: map[int]bool{2: true}} }}
	res, err := Exec(ctx, m, &Plan{Action: ActInsert, Limit: -1, IfAbsent: true, Create: create}, nil, nil)
	if err != nil || res.Count != 2 || res.Batch.Exists != 1 || !reflect.DeepEqual(m.created, []int{1, 2, 3}) {
		t.Errorf("insert if absent: %+v %v, created %v", res, err, m.created)
	}
	fm := &fakeMutator{}
	if _, err := Exec(ctx, fm, &Plan{Action: ActInsert, Limit: -1, IfAbsent: true, Create: create}, nil, nil); err == nil || len(fm.created) != 0 {
		t.Errorf("insert if absent without an AbsentCreator: %v, created %v", err, fm.created)
	}
}

// filterSource records the filter of its scans.
type filterSource struct {
	fakeMutator
	filters []KernelFilter
}

func (s *filterSource) Scan(ctx context.Context, table Table, filter *KernelFilter, yield func(*Flow) error) (ScanStats, error) {
	s.filters = append(s.filters, *filter)
	return s.fakeMutator.Scan(ctx, table, filter, yield)
}

func TestExecZero(t *testing.T) {
	ctx := context.Background()
	src := &filterSource{fakeMutator: fakeMutator{sliceSource: sliceSource{flows: testFlows()}}}
	var out collect
	res, err := Exec(ctx, src, &Plan{Action: ActList, Limit: -1, Zero: true}, &out, nil)
	if err != nil || res.Count != 6 || len(src.filters) != 1 || !src.filters[0].Zero || !src.filters[0].Ordered {
		t.Errorf("list zero: %+v %v, filters %+v", res, err, src.filters)
	}
	if !src.filters[0].Empty() {
		t.Error("a Zero filter is not Empty: it selects nothing")
	}
	if _, err := Exec(ctx, &sliceSource{flows: testFlows()}, &Plan{Action: ActList, Limit: -1, Zero: true}, &out, nil); err == nil {
		t.Error("zero on a read-only source: no error")
	}
	if _, err := Exec(ctx, src, &Plan{Action: ActList, Table: TableDying, Limit: -1, Zero: true}, &out, nil); err == nil {
		t.Error("zero on the dying table: no error")
	}
}

// expectSource is a Source with an expect table of fixed expectations.
type expectSource struct {
	sliceSource
	expects []Expect
}

func (s *expectSource) ScanExpect(ctx context.Context, yield func(*Expect) error) (ScanStats, error) {
	var st ScanStats
	for i := range s.expects {
		e := s.expects[i]
		st.Received++
		if err := yield(&e); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (s *expectSource) CreateExpect(context.Context, *Expect) error { return nil }
func (s *expectSource) DeleteExpect(context.Context, *Expect) error { return nil }

// expectCollect collects the ports of the expectations written to it.
type expectCollect struct {
	collect
	ports []int
}

func (c *expectCollect) WriteExpect(e *Expect) error    { c.ports = append(c.ports, e.Dport); return nil }
func (c *expectCollect) Expects() (ExpectWriter, error) { return c, nil }

func TestExecGetExpect(t *testing.T) {
	src := &expectSource{expects: []Expect{{Dport: 1}, {Dport: 2}, {Dport: 2}}}
	port := func(n int) func(*Expect) (bool, error) {
		return func(e *Expect) (bool, error) { return e.Dport == n, nil }
	}
	var out expectCollect
	res, err := Exec(context.Background(), src, &Plan{Action: ActGet, Table: TableExpect, Limit: -1, MatchExpect: port(2)}, &out, nil)
	if err != nil || res.Count != 1 || !reflect.DeepEqual(out.ports, []int{2}) {
		t.Errorf("get expect: %+v %v, wrote %v", res, err, out.ports)
	}
	if _, err := Exec(context.Background(), src, &Plan{Action: ActGet, Table: TableExpect, Limit: -1, MatchExpect: port(3)}, &out, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("get of a missing expectation: %v", err)
	}
}
