package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// MutationError reports the requests of a mutation that failed, and the
// entries whose condition or change could not be evaluated; the others
// were carried out.
type MutationError struct {
	Op    string // "delete", "update", "insert"
	Stats BatchStats
	// Unevaluated counts the entries on which the condition (or an
	// update's change) failed at run time: they were left untouched.
	// FirstEval is the first of those errors.
	Unevaluated int
	FirstEval   error
}

func (e *MutationError) Error() string {
	var b strings.Builder
	failed := e.Stats.Failed + e.Stats.Unknown
	if failed > 0 || e.Unevaluated == 0 {
		fmt.Fprintf(&b, "%s: %d of %d requests failed", e.Op, failed,
			e.Stats.Done+e.Stats.Gone+e.Stats.Failed+e.Stats.Unknown)
		if e.Stats.Unknown > 0 {
			fmt.Fprintf(&b, " (%d with unknown outcome: their answers were lost)", e.Stats.Unknown)
		}
	}
	if e.Unevaluated > 0 {
		if b.Len() > 0 {
			b.WriteString("; ")
		} else {
			fmt.Fprintf(&b, "%s: ", e.Op)
		}
		what := "entries"
		if e.Unevaluated == 1 {
			what = "entry"
		}
		fmt.Fprintf(&b, "the condition could not be evaluated on %d %s, left untouched; the first error: %v", e.Unevaluated, what, e.FirstEval)
	}
	for _, err := range e.Stats.Errors {
		fmt.Fprintf(&b, "\n  %v", err)
	}
	return b.String()
}

// evalErrors counts the entries of a mutation whose condition or change
// failed at run time. Such an entry is left untouched and the scan goes
// on: an error on one entry must not leave the mutation half applied,
// with the entries after it neither decided nor reported.
type evalErrors struct {
	n     int
	first error
}

func (e *evalErrors) add(err error) {
	if e.n == 0 {
		e.first = err
	}
	e.n++
}

// match wraps a plan's Match: an entry whose condition fails is counted
// and not selected.
func (e *evalErrors) match(m func(*Flow) (bool, error)) func(*Flow) (bool, error) {
	if m == nil {
		return nil
	}
	return func(f *Flow) (bool, error) {
		ok, err := m(f)
		if err != nil {
			e.add(err)
			return false, nil
		}
		return ok, nil
	}
}

// report fills res and turns the count into the mutation's error (err
// first, if any).
func (e *evalErrors) report(res *Result, op string, err error) error {
	res.Unevaluated, res.FirstEval = e.n, e.first
	if e.n == 0 {
		return err
	}
	var me *MutationError
	switch {
	case err == nil:
		return &MutationError{Op: op, Stats: res.Batch, Unevaluated: e.n, FirstEval: e.first}
	case errors.As(err, &me):
		me.Unevaluated, me.FirstEval = e.n, e.first
	}
	return err
}

// execMutation runs ActDelete, ActUpdate, ActInsert and ActFlush on the
// conntrack table.
//
// An entry on which the condition (or an update's change) fails at run time
// is counted in Result.Unevaluated and left untouched; the others are
// decided on their own, and the error (a *MutationError) says how many
// failed.
func execMutation(ctx context.Context, src Source, p *Plan, out Output, progress func(int)) (Result, error) {
	var evals evalErrors
	if p.Dry && (p.Action == ActDelete || p.Action == ActUpdate) {
		res, err := execScan(ctx, src, &Plan{Table: p.Table, Filter: p.Filter, Match: evals.match(p.Match), Limit: -1},
			func(f *Flow) error {
				if p.Action == ActUpdate {
					if _, err := p.Change(f); err != nil {
						evals.add(err)
						return errSkip
					}
				}
				return nil
			})
		return res, evals.report(&res, actionName(p.Action), err)
	}
	m, ok := src.(Mutator)
	if !ok {
		return Result{}, errors.New("this source cannot be changed (a saved table is read-only)")
	}
	switch p.Action {
	case ActFlush:
		if err := m.Flush(ctx, p.Table, p.Filter.Family); err != nil {
			return Result{}, fmt.Errorf("flush %s: %w", p.Table, err)
		}
		return Result{}, nil
	case ActDelete:
		if p.Exact && p.Limit < 0 && !p.Echo {
			if res, done, err := execFilteredFlush(ctx, src, m, p); done || err != nil {
				return res, err
			}
		}
	}
	b, err := m.NewBatch(ctx)
	if err != nil {
		return Result{}, err
	}
	var res Result
	queued := 0
	sender, _ := b.(Sender)
	if p.Action == ActInsert {
		sender = nil
	}
	create := b.Create
	if p.Action == ActInsert && p.IfAbsent {
		ac, ok := b.(AbsentCreator)
		if !ok {
			_, _ = b.Close()
			return Result{}, errors.New("this source cannot create an entry only if it is absent")
		}
		create = ac.CreateIfAbsent
	}
	var ec *echo
	if p.Echo && (p.Action == ActDelete || p.Action == ActUpdate) {
		if ec, err = newEcho(ctx, src, p, out, b); err != nil {
			_, _ = b.Close()
			return Result{}, err
		}
	}
	queue := func(f *Flow) error {
		var err error
		var c Change
		if p.Action == ActUpdate {
			if c, err = p.Change(f); err != nil {
				evals.add(err)
				return errSkip
			}
			if c.Empty() {
				return nil
			}
		}
		if ec != nil {
			ec.queued(f)
		}
		switch p.Action {
		case ActDelete:
			err = b.Delete(f)
		case ActUpdate:
			err = b.Update(f, c)
		case ActInsert:
			err = create(f)
		}
		if err != nil {
			if ec != nil {
				ec.unqueued()
			}
			return err
		}
		queued++
		if progress != nil {
			progress(queued)
		}
		if sender != nil && queued%GuardGroup == 0 {
			if err = sender.Send(); err != nil {
				return err
			}
		}
		if ec != nil {
			return ec.drain()
		}
		return nil
	}
	if p.Action == ActInsert {
		for i := range p.Create {
			if err = queue(&p.Create[i]); err != nil {
				break
			}
		}
	} else {
		res, err = execScan(ctx, src, &Plan{Table: p.Table, Filter: p.Filter, Match: evals.match(p.Match), Limit: p.Limit}, queue)
	}
	stats, cerr := b.Close()
	if ec != nil {
		if eerr := ec.drain(); err == nil {
			err = eerr
		}
	}
	res.Count = stats.Done
	res.Batch = stats
	if err == nil {
		err = cerr
	}
	if err == nil && (stats.Failed > 0 || stats.Unknown > 0) {
		err = &MutationError{Op: actionName(p.Action), Stats: stats}
	}
	return res, evals.report(&res, actionName(p.Action), err)
}

// execFilteredFlush deletes with one filtered flush when the kernel honours
// the whole filter. It first counts the entries the flush will take (a
// filtered dump), to report a number; entries that appear between the
// count and the flush match the statement too and go with it. done is false
// when the kernel cannot do it, and nothing was deleted.
func execFilteredFlush(ctx context.Context, src Source, m Mutator, p *Plan) (res Result, done bool, err error) {
	count, err := execScan(ctx, src, &Plan{Table: p.Table, Filter: p.Filter, Match: p.Match, Limit: -1},
		func(*Flow) error { return nil })
	if err != nil {
		return count, false, err
	}
	if count.Count == 0 {
		return count, true, nil
	}
	ok, err := m.FlushFilter(ctx, &p.Filter)
	if err != nil {
		return Result{}, false, fmt.Errorf("filtered flush: %w", err)
	}
	if !ok {
		return Result{}, false, nil
	}
	count.Batch.Done = count.Count
	count.FilteredFlush = true
	return count, true, nil
}

// actionName names an action in messages.
func actionName(a Action) string {
	switch a {
	case ActDelete:
		return "delete"
	case ActUpdate:
		return "update"
	case ActInsert:
		return "insert"
	case ActFlush:
		return "flush"
	case ActList:
		return "list"
	case ActGet:
		return "get"
	case ActCount:
		return "count"
	}
	return fmt.Sprintf("action %d", a)
}
