package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// MutationError reports the requests of a mutation that failed; the others
// were carried out.
type MutationError struct {
	Op    string // "delete", "update", "insert"
	Stats BatchStats
}

func (e *MutationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d of %d requests failed", e.Op, e.Stats.Failed+e.Stats.Unknown,
		e.Stats.Done+e.Stats.Gone+e.Stats.Failed+e.Stats.Unknown)
	if e.Stats.Unknown > 0 {
		fmt.Fprintf(&b, " (%d with unknown outcome: their answers were lost)", e.Stats.Unknown)
	}
	for _, err := range e.Stats.Errors {
		fmt.Fprintf(&b, "\n  %v", err)
	}
	return b.String()
}

// execMutation runs ActDelete, ActUpdate, ActInsert and ActFlush on the
// conntrack table.
func execMutation(ctx context.Context, src Source, p *Plan, progress func(int)) (Result, error) {
	if p.Dry && (p.Action == ActDelete || p.Action == ActUpdate) {
		return execScan(ctx, src, &Plan{Table: p.Table, Filter: p.Filter, Match: p.Match, Limit: -1},
			func(*Flow) error { return nil })
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
		if p.Exact && p.Limit < 0 {
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
	queue := func(f *Flow) error {
		var err error
		switch p.Action {
		case ActDelete:
			err = b.Delete(f)
		case ActUpdate:
			var c Change
			if c, err = p.Change(f); err != nil {
				return fmt.Errorf("update: %w", err)
			}
			if c.Empty() {
				return nil
			}
			err = b.Update(f, c)
		case ActInsert:
			err = b.Create(f)
		}
		if err != nil {
			return err
		}
		queued++
		if progress != nil {
			progress(queued)
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
		res, err = execScan(ctx, src, &Plan{Table: p.Table, Filter: p.Filter, Match: p.Match, Limit: p.Limit}, queue)
	}
	stats, cerr := b.Close()
	res.Count = stats.Done
	res.Batch = stats
	if err == nil {
		err = cerr
	}
	if err == nil && (stats.Failed > 0 || stats.Unknown > 0) {
		err = &MutationError{Op: actionName(p.Action), Stats: stats}
	}
	return res, err
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
	}
	return fmt.Sprintf("action %d", a)
}
