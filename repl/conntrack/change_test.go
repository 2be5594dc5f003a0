package conntrack

import (
	"bytes"
	"context"
	"strings"
	"syscall"
	"testing"

	"ctq/engine"
	"ctq/lang/ctargs"
)

// fakeKernel is a table whose batches refuse the requests for entries
// whose sport is in refuse with EBUSY, and report every outcome.
type fakeKernel struct {
	flows  []engine.Flow
	refuse map[int]bool
}

func (k *fakeKernel) Scan(_ context.Context, _ engine.Table, _ *engine.KernelFilter, yield func(*engine.Flow) error) (engine.ScanStats, error) {
	for i := range k.flows {
		f := k.flows[i]
		if err := yield(&f); err != nil {
			return engine.ScanStats{}, err
		}
	}
	return engine.ScanStats{Received: len(k.flows)}, nil
}

func (k *fakeKernel) Get(_ context.Context, key *engine.Flow) (*engine.Flow, error) {
	for i := range k.flows {
		if k.flows[i].Sport == key.Sport {
			f := k.flows[i]
			f.Use = 2
			return &f, nil
		}
	}
	return nil, engine.ErrNotFound
}

func (k *fakeKernel) Close() error { return nil }

func (k *fakeKernel) NewBatch(context.Context) (engine.Batch, error) { return &fakeBatch{k: k}, nil }
func (k *fakeKernel) Flush(context.Context, engine.Table, int) error { return nil }
func (k *fakeKernel) FlushFilter(context.Context, *engine.KernelFilter) (bool, error) {
	return false, nil
}

type fakeBatch struct {
	k       *fakeKernel
	n       int
	stats   engine.BatchStats
	observe func(int, error)
}

func (b *fakeBatch) Observe(fn func(int, error)) { b.observe = fn }

func (b *fakeBatch) answer(f *engine.Flow) error {
	var err error
	if b.k.refuse[f.Sport] {
		err = syscall.EBUSY
		b.stats.Failed++
		b.stats.Errors = append(b.stats.Errors, err)
	} else {
		b.stats.Done++
	}
	b.observe(b.n, err)
	b.n++
	return nil
}

func (b *fakeBatch) Delete(f *engine.Flow) error                  { return b.answer(f) }
func (b *fakeBatch) Update(f *engine.Flow, _ engine.Change) error { return b.answer(f) }
func (b *fakeBatch) Create(f *engine.Flow) error                  { return b.answer(f) }
func (b *fakeBatch) Close() (engine.BatchStats, error)            { return b.stats, nil }

func TestChangeFailures(t *testing.T) {
	k := &fakeKernel{refuse: map[int]bool{2: true}}
	for i := 1; i <= 3; i++ {
		var f engine.Flow
		f.SetProto(engine.ProtoUDP)
		f.Family = "ipv4"
		f.Src, f.Dst = mustAddr("192.0.2.1"), mustAddr("192.0.2.2")
		f.Sport, f.Dport, f.Timeout = i, 53, 30
		k.flows = append(k.flows, f)
	}
	var stdout, stderr bytes.Buffer
	cfg := Config{Stdout: &stdout, Stderr: &stderr, OpenLive: func(string) (engine.Source, error) { return k, nil }}
	mark := func(*engine.Flow) (engine.Change, error) { return engine.Change{SetMark: true, Mark: 1}, nil }

	// -U: the refused update is reported without the prefix and counted,
	// the others are printed as the kernel holds them.
	rc := Run(context.Background(), &ctargs.Command{Op: ctargs.OpUpdate,
		Plan: engine.Plan{Action: engine.ActUpdate, Limit: -1, Echo: true, Change: mark}}, cfg)
	if rc != 0 || strings.Count(stdout.String(), "\n") != 2 || strings.Contains(stdout.String(), "sport=2 ") ||
		stderr.String() != "Operation failed: Device or resource busy\n"+prefix+"3 flow entries have been updated.\n" {
		t.Errorf("-U with a refusal: rc %d, %q, %q", rc, stdout.String(), stderr.String())
	}

	// -D: a refused delete stops with conntrack's error.
	stdout.Reset()
	stderr.Reset()
	rc = Run(context.Background(), &ctargs.Command{Op: ctargs.OpDelete,
		Plan: engine.Plan{Action: engine.ActDelete, Limit: -1, Echo: true}}, cfg)
	if rc != 1 || strings.Count(stdout.String(), "\n") != 2 || stderr.String() != prefix+"Operation failed: Device or resource busy\n" {
		t.Errorf("-D with a refusal: rc %d, %q, %q", rc, stdout.String(), stderr.String())
	}

	// -D of nothing: the count, exit code 1; not in a load file.
	stdout.Reset()
	stderr.Reset()
	none := engine.Plan{Action: engine.ActDelete, Limit: -1, Echo: true, Match: func(*engine.Flow) (bool, error) { return false, nil }}
	if rc := Run(context.Background(), &ctargs.Command{Op: ctargs.OpDelete, Plan: none}, cfg); rc != 1 || stderr.String() != prefix+"0 flow entries have been deleted.\n" {
		t.Errorf("-D of nothing: rc %d, %q", rc, stderr.String())
	}
}
