package engine

import (
	"context"
	"errors"
	"fmt"
)

// echo writes the entries a delete or update with Plan.Echo carried out:
// the batch reports each request's outcome, in request order (Observer),
// and drain writes the entries whose requests succeeded, in that order.
type echo struct {
	ctx    context.Context
	src    Source
	w      Writer
	update bool // write the entry as the kernel holds it now (a get)
	// pending are the entries of the requests not yet written or
	// dropped: request base+i is pending[i].
	pending []Flow
	base    int
	// reported[i] is pending[i]'s outcome, once reported: true when the
	// kernel carried the request out.
	reported []bool
	keys     []Flow // the entries an update reads back (reused)
	written  int
	err      error // a report out of order
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
		if want := e.base + len(e.reported); req != want && e.err == nil {
			e.err = fmt.Errorf("echo: request %d reported where %d was due", req, want)
		}
		e.reported = append(e.reported, err == nil)
	})
	return e, nil
}

// queued records f as the next request's entry (a copy: f is reused).
func (e *echo) queued(f *Flow) { e.pending = append(e.pending, *f) }

// unqueued forgets the last entry recorded: its request was not queued.
func (e *echo) unqueued() { e.pending = e.pending[:len(e.pending)-1] }

// drain writes the entries whose requests were carried out and forgets
// every entry whose outcome was reported.
func (e *echo) drain() error {
	n := len(e.reported)
	switch {
	case e.err != nil:
		return e.err
	case n == 0:
		return nil
	case n > len(e.pending):
		return fmt.Errorf("echo: request %d was not recorded", e.base+len(e.pending))
	}
	write := func(f *Flow) error {
		if err := e.w.Write(f); err != nil {
			return err
		}
		e.written++
		return nil
	}
	if !e.update {
		for i, ok := range e.reported {
			if ok {
				if err := write(&e.pending[i]); err != nil {
					return err
				}
			}
		}
	} else {
		// Read the changed entries back, as the kernel holds them now.
		keys := e.keys[:0]
		for i, ok := range e.reported {
			if ok {
				keys = append(keys, e.pending[i])
			}
		}
		e.keys = keys
		err := getEach(e.ctx, e.src, keys, func(_ int, f *Flow, err error) error {
			switch {
			case errors.Is(err, ErrNotFound):
				return nil // gone since: nothing to show
			case err != nil:
				return fmt.Errorf("read the updated entry: %w", err)
			}
			return write(f)
		})
		if err != nil {
			return err
		}
	}
	e.pending = append(e.pending[:0], e.pending[n:]...)
	e.reported = e.reported[:0]
	e.base += n
	return nil
}

// getEach looks keys up with src's GetEach (MultiGetter), or with one Get
// each, and calls fn as GetEach does.
func getEach(ctx context.Context, src Source, keys []Flow, fn func(i int, f *Flow, err error) error) error {
	if mg, ok := src.(MultiGetter); ok {
		return mg.GetEach(ctx, keys, fn)
	}
	for i := range keys {
		f, err := src.Get(ctx, &keys[i])
		if err := fn(i, f, err); err != nil {
			return err
		}
	}
	return nil
}
