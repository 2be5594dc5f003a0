package engine

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fakeMutator is a sliceSource whose changes are recorded.
type fakeMutator struct {
	sliceSource
	deleted, updated, created []int // sports
	marks                     []uint32
	flushed                   []Table
	filterOK                  bool // FlushFilter's answer
	filtered                  int  // FlushFilter calls
	fail                      bool // every request fails
}

func (m *fakeMutator) NewBatch(context.Context) (Batch, error) { return &fakeBatch{m: m}, nil }

func (m *fakeMutator) Flush(_ context.Context, t Table, family int) error {
	m.flushed = append(m.flushed, t)
	return nil
}

func (m *fakeMutator) FlushFilter(context.Context, *KernelFilter) (bool, error) {
	m.filtered++
	return m.filterOK, nil
}

type fakeBatch struct {
	m     *fakeMutator
	stats BatchStats
}

func (b *fakeBatch) outcome() {
	if b.m.fail {
		b.stats.Failed++
		b.stats.Errors = append(b.stats.Errors, errors.New("EBUSY"))
		return
	}
	b.stats.Done++
}

func (b *fakeBatch) Delete(f *Flow) error {
	b.m.deleted = append(b.m.deleted, f.Sport)
	b.outcome()
	return nil
}

func (b *fakeBatch) Update(f *Flow, c Change) error {
	b.m.updated = append(b.m.updated, f.Sport)
	b.m.marks = append(b.m.marks, c.Mark)
	b.outcome()
	return nil
}

func (b *fakeBatch) Create(f *Flow) error {
	b.m.created = append(b.m.created, f.Sport)
	b.outcome()
	return nil
}

func (b *fakeBatch) Close() (BatchStats, error) { return b.stats, nil }

func TestExecMutations(t *testing.T) {
	dport22 := func(f *Flow) (bool, error) { return f.Dport == 22, nil }
	ctx := context.Background()

	m := &fakeMutator{sliceSource: sliceSource{flows: testFlows()}}
	res, err := Exec(ctx, m, &Plan{Action: ActDelete, Limit: -1, Match: dport22}, nil, nil)
	if err != nil || res.Count != 3 || !reflect.DeepEqual(m.deleted, []int{50, 40, 30}) {
		t.Errorf("delete: %+v %v, deleted %v", res, err, m.deleted)
	}

	m = &fakeMutator{sliceSource: sliceSource{flows: testFlows()}}
	res, err = Exec(ctx, m, &Plan{Action: ActDelete, Limit: -1, Match: dport22, Dry: true}, nil, nil)
	if err != nil || res.Count != 3 || m.deleted != nil {
		t.Errorf("dry delete: %+v %v, deleted %v", res, err, m.deleted)
	}

	m = &fakeMutator{sliceSource: sliceSource{flows: testFlows()}}
	var progress []int
	change := func(f *Flow) (Change, error) {
		if f.Sport == 40 {
			return Change{}, nil // nothing to change: not sent
		}
		return Change{SetMark: true, Mark: uint32(f.Sport)}, nil
	}
	res, err = Exec(ctx, m, &Plan{Action: ActUpdate, Limit: -1, Match: dport22, Change: change}, nil,
		&ExecOptions{Progress: func(n int) { progress = append(progress, n) }})
	if err != nil || res.Count != 2 || !reflect.DeepEqual(m.updated, []int{50, 30}) ||
		!reflect.DeepEqual(m.marks, []uint32{50, 30}) || !reflect.DeepEqual(progress, []int{1, 2}) {
		t.Errorf("update: %+v %v, updated %v marks %v progress %v", res, err, m.updated, m.marks, progress)
	}

	m = &fakeMutator{sliceSource: sliceSource{flows: testFlows()}}
	res, err = Exec(ctx, m, &Plan{Action: ActInsert, Limit: -1, Create: []Flow{{Sport: 7}, {Sport: 8}}}, nil, nil)
	if err != nil || res.Count != 2 || !reflect.DeepEqual(m.created, []int{7, 8}) {
		t.Errorf("insert: %+v %v, created %v", res, err, m.created)
	}

	m = &fakeMutator{sliceSource: sliceSource{flows: testFlows()}}
	if _, err = Exec(ctx, m, &Plan{Action: ActFlush, Limit: -1}, nil, nil); err != nil || !reflect.DeepEqual(m.flushed, []Table{TableConntrack}) {
		t.Errorf("flush: %v, flushed %v", err, m.flushed)
	}

	// An exact plan is one filtered flush when the kernel can do it ...
	m = &fakeMutator{sliceSource: sliceSource{flows: testFlows()}, filterOK: true}
	res, err = Exec(ctx, m, &Plan{Action: ActDelete, Limit: -1, Match: dport22, Exact: true}, nil, nil)
	if err != nil || res.Count != 3 || !res.FilteredFlush || m.filtered != 1 || m.deleted != nil {
		t.Errorf("filtered flush: %+v %v, deleted %v", res, err, m.deleted)
	}
	// ... and batched deletes when it cannot.
	m = &fakeMutator{sliceSource: sliceSource{flows: testFlows()}}
	res, err = Exec(ctx, m, &Plan{Action: ActDelete, Limit: -1, Match: dport22, Exact: true}, nil, nil)
	if err != nil || res.Count != 3 || res.FilteredFlush || m.filtered != 1 || len(m.deleted) != 3 {
		t.Errorf("no filtered flush: %+v %v, deleted %v", res, err, m.deleted)
	}

	// Failures are reported, with the rest done.
	m = &fakeMutator{sliceSource: sliceSource{flows: testFlows()}, fail: true}
	_, err = Exec(ctx, m, &Plan{Action: ActDelete, Limit: -1, Match: dport22}, nil, nil)
	var me *MutationError
	if !errors.As(err, &me) || me.Stats.Failed != 3 {
		t.Errorf("failed deletes: %v", err)
	}

	// A read-only source refuses.
	if _, err = Exec(ctx, &sliceSource{flows: testFlows()}, &Plan{Action: ActDelete, Limit: -1, Match: dport22}, nil, nil); err == nil {
		t.Error("delete on a read-only source: want an error")
	}
}

// TestExecMutationEvalErrors: a condition or change that fails on some
// entries leaves those untouched, decides the others on their own (those
// after the failure too) and reports how many failed.
func TestExecMutationEvalErrors(t *testing.T) {
	ctx := context.Background()
	errZero := errors.New("division by zero")
	// 100 % (sport - 40) > 0: fails on sport 40, true on 50 (100%10=0: false), ...
	cond := func(f *Flow) (bool, error) {
		if f.Sport == 40 {
			return false, errZero
		}
		return f.Sport != 50, nil
	}
	// Sports in scan order: 50, 10, 40, 20, 30, 10.
	m := &fakeMutator{sliceSource: sliceSource{flows: testFlows()}}
	res, err := Exec(ctx, m, &Plan{Action: ActDelete, Limit: -1, Match: cond}, nil, nil)
	var me *MutationError
	if !errors.As(err, &me) || me.Unevaluated != 1 || !errors.Is(me.FirstEval, errZero) || me.Stats.Failed != 0 {
		t.Fatalf("delete: err %v, want a MutationError with 1 unevaluated entry", err)
	}
	if !reflect.DeepEqual(m.deleted, []int{10, 20, 30, 10}) || res.Count != 4 || res.Unevaluated != 1 || !errors.Is(res.FirstEval, errZero) {
		t.Errorf("delete: %+v, deleted %v; want 10 20 30 10 deleted and 1 unevaluated", res, m.deleted)
	}
	if !strings.Contains(err.Error(), "could not be evaluated on 1 entry") {
		t.Errorf("delete: error text %q", err)
	}

	// A limit counts the entries deleted, not those that failed.
	m = &fakeMutator{sliceSource: sliceSource{flows: testFlows()}}
	res, err = Exec(ctx, m, &Plan{Action: ActDelete, Limit: 3, Match: cond}, nil, nil)
	if !reflect.DeepEqual(m.deleted, []int{10, 20, 30}) || res.Unevaluated != 1 || err == nil {
		t.Errorf("delete limit 3: %+v %v, deleted %v", res, err, m.deleted)
	}

	// A dry run counts both.
	m = &fakeMutator{sliceSource: sliceSource{flows: testFlows()}}
	res, err = Exec(ctx, m, &Plan{Action: ActDelete, Limit: -1, Match: cond, Dry: true}, nil, nil)
	if res.Count != 4 || res.Unevaluated != 1 || err == nil || m.deleted != nil {
		t.Errorf("dry delete: %+v %v, deleted %v", res, err, m.deleted)
	}

	// An update whose change fails on an entry leaves it alone.
	change := func(f *Flow) (Change, error) {
		if f.Sport == 20 {
			return Change{}, errZero
		}
		return Change{SetMark: true, Mark: 1}, nil
	}
	m = &fakeMutator{sliceSource: sliceSource{flows: testFlows()}}
	res, err = Exec(ctx, m, &Plan{Action: ActUpdate, Limit: -1, Match: cond, Change: change}, nil, nil)
	if !errors.As(err, &me) || me.Unevaluated != 2 || !reflect.DeepEqual(m.updated, []int{10, 30, 10}) || res.Count != 3 {
		t.Errorf("update: %+v %v, updated %v; want 10 30 10 and 2 unevaluated", res, err, m.updated)
	}

	// Failed requests and unevaluated entries are reported together.
	m = &fakeMutator{sliceSource: sliceSource{flows: testFlows()}, fail: true}
	_, err = Exec(ctx, m, &Plan{Action: ActDelete, Limit: -1, Match: cond}, nil, nil)
	if !errors.As(err, &me) || me.Unevaluated != 1 || me.Stats.Failed != 4 {
		t.Errorf("failing delete: %v", err)
	}
}

// sendingMutator's batches are Senders that record when they were told to
// send.
type sendingMutator struct{ fakeMutator }

func (m *sendingMutator) NewBatch(context.Context) (Batch, error) {
	return &sendingBatch{fakeBatch: fakeBatch{m: &m.fakeMutator}}, nil
}

type sendingBatch struct {
	fakeBatch
	sentAt []int // requests queued at each Send
}

func (b *sendingBatch) Send() error {
	b.sentAt = append(b.sentAt, len(b.m.deleted)+len(b.m.updated)+len(b.m.created))
	return nil
}

// TestExecMutationGuardGroups: a delete or update sends its requests every
// GuardGroup entries, so that little time passes between reading an
// entry and deleting it; an insert leaves the batching to the batch.
func TestExecMutationGuardGroups(t *testing.T) {
	flows := make([]Flow, 3*GuardGroup+5)
	for i := range flows {
		flows[i].Sport = i
	}
	var last *sendingBatch
	m := &sendingMutator{fakeMutator{sliceSource: sliceSource{flows: flows}}}
	newBatch := func() (Batch, error) {
		b, err := m.NewBatch(context.Background())
		last = b.(*sendingBatch)
		return b, err
	}
	src := &batchHook{sendingMutator: m, newBatch: newBatch}
	if _, err := Exec(context.Background(), src, &Plan{Action: ActDelete, Limit: -1}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if want := []int{GuardGroup, 2 * GuardGroup, 3 * GuardGroup}; !reflect.DeepEqual(last.sentAt, want) || len(m.deleted) != len(flows) {
		t.Errorf("delete sent at %v, want %v", last.sentAt, want)
	}
	create := make([]Flow, 2*GuardGroup)
	if _, err := Exec(context.Background(), src, &Plan{Action: ActInsert, Limit: -1, Create: create}, nil, nil); err != nil {
		t.Fatal(err)
	}
	if last.sentAt != nil {
		t.Errorf("insert sent at %v, want none (the batch decides)", last.sentAt)
	}
}

// batchHook hands out the batches of newBatch.
type batchHook struct {
	*sendingMutator
	newBatch func() (Batch, error)
}

func (h *batchHook) NewBatch(context.Context) (Batch, error) { return h.newBatch() }
