package engine

import (
	"context"
	"errors"
	"fmt"
)

// echo writes the entries a delete or update with Plan.Echo carried out:
// the batch reports each request's outcome (Observer), and drain writes the
// entries whose requests succeeded, in the order they were queued.
type echo struct {
	ctx    context.Context
	src    Source
	w      Writer
	update bool // write the entry as the kernel holds it now (a get)
	// pending are the entries queued since the last reset: request base+i
	// is pending[i].
	pending []Flow
	base    int
	done    []int // requests reported carried out, not yet written
	written int
}

// newEcho wires an echo to b; it fails when b cannot report outcomes.
func newEcho(ctx context.Context, src Source, p *Plan, out Output, b Batch) (*echo, error) {
	o, ok := b.(Observer)
	if !ok {
		return nil, errors.New("this source cannot report which entries a change reached (echo)")
	}
	w, err := out.Flows()
	if err != nil {
		return nil, err
	}
	e := &echo{ctx: ctx, src: src, w: w, update: p.Action == ActUpdate}
	o.Observe(func(req int, err error) {
		if err == nil {
			e.done = append(e.done, req)
		}
	})
	return e, nil
}

// queued records f as the next request's entry (a copy: f is reused).
func (e *echo) queued(f *Flow) { e.pending = append(e.pending, *f) }

// unqueued forgets the last entry recorded: its request was not queued.
func (e *echo) unqueued() { e.pending = e.pending[:len(e.pending)-1] }

// drain writes the entries whose requests were carried out. With reset
// every queued request has been sent, so the entries recorded are
// forgotten.
func (e *echo) drain(reset bool) error {
	for _, req := range e.done {
		i := req - e.base
		if i < 0 || i >= len(e.pending) {
			return fmt.Errorf("echo: request %d was not recorded", req)
		}
		f := &e.pending[i]
		if e.update {
			got, err := e.src.Get(e.ctx, f)
			if errors.Is(err, ErrNotFound) {
				continue // gone since: nothing to show
			}
			if err != nil {
				return fmt.Errorf("read the updated entry: %w", err)
			}
			f = got
		}
		if err := e.w.Write(f); err != nil {
			return err
		}
		e.written++
	}
	e.done = e.done[:0]
	if reset {
		e.base += len(e.pending)
		e.pending = e.pending[:0]
	}
	return nil
}
