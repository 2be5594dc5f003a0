package engine

import (
	"cmp"
	"context"
	"errors"
	"fmt"
)

// Result reports what Exec did.
type Result struct {
	// Count is the number of entries written (list, get) or counted (count).
	Count int
	// Stats describes the scan, when there was one.
	Stats ScanStats
	// FromCounter is set when a count came from the kernel's global counter
	// instead of a scan.
	FromCounter bool
	// Batch reports the requests of a mutation.
	Batch BatchStats
	// FilteredFlush is set when a delete was one kernel-side filtered flush.
	FilteredFlush bool
	// Watch counts what a watch saw: events delivered, undecodable
	// messages, kernel overflows (lost events).
	Watch WatchStats
	// Unevaluated counts the entries of a delete or update on which the
	// condition (or the change) failed at run time; they were left
	// untouched. FirstEval is the first of those errors.
	Unevaluated int
	FirstEval   error
}

// ExecOptions tune Exec; nil means none.
type ExecOptions struct {
	// Progress, when set, is called with the number of changes a mutation
	// has queued so far (for a progress bar).
	Progress func(n int)
	// Resync, when set, runs after the kernel reported lost events
	// (ENOBUFS) during a watch; the watch goes on afterwards.
	Resync func(ctx context.Context) error
}

// Counter is implemented by sources that know the size of the conntrack
// table without scanning it (the kernel's global counter).
type Counter interface {
	Count(ctx context.Context) (int, error)
}

// errStop ends a scan early once a limit is reached; Exec never returns it.
var errStop = errors.New("stop scan")

// errSkip, returned by execScan's emit, leaves an entry out of the count
// and goes on; Exec never returns it.
var errSkip = errors.New("skip entry")

// Exec runs p against src: it is the one place that decides how each
// action on each table is carried out. Output goes to out, which may be
// nil for plans that produce none (count, the mutations).
func Exec(ctx context.Context, src Source, p *Plan, out Output, opts *ExecOptions) (Result, error) {
	var o ExecOptions
	if opts != nil {
		o = *opts
	}
	if out == nil {
		out = &only{}
	}
	switch {
	case p.Action == ActWatch && p.Group != nil:
		st, err := watchGroups(ctx, src, p, out.Interval)
		return Result{Watch: st}, err
	case p.Action == ActWatch:
		w, err := out.Events()
		if err != nil {
			return Result{}, err
		}
		st, n, err := watch(ctx, src, p, w, o.Resync)
		return Result{Count: n, Watch: st}, err
	case p.Action == ActGroup:
		groups, res, err := aggregate(ctx, src, p)
		if err != nil {
			return res, err
		}
		return res, out.Groups(groups)
	case p.Table == TableExpect:
		return execExpect(ctx, src, p, out)
	}
	switch p.Action {
	case ActDelete, ActUpdate, ActInsert, ActFlush:
		return execMutation(ctx, src, p, out, o.Progress)
	case ActCount:
		if c, ok := src.(Counter); ok && p.Match == nil && p.Filter.Empty() &&
			p.Limit < 0 && p.Table == TableConntrack {
			n, err := c.Count(ctx)
			if err != nil {
				return Result{}, fmt.Errorf("count entries: %w", err)
			}
			return Result{Count: n, FromCounter: true}, nil
		}
		return execScan(ctx, src, p, func(*Flow) error { return nil })
	case ActGet, ActList:
		if p.Zero {
			if err := checkZero(src, p); err != nil {
				return Result{}, err
			}
			z := *p
			z.Filter.Zero = true
			p = &z
		}
		w, err := out.Flows()
		if err != nil {
			return Result{}, err
		}
		switch {
		case p.Action == ActGet:
			return execGet(ctx, src, p, w)
		case len(p.Order) > 0:
			return execSorted(ctx, src, p, w)
		}
		ordered := *p
		ordered.Filter = p.ScanFilter()
		return execScan(ctx, src, &ordered, w.Write)
	}
	return Result{}, fmt.Errorf("unknown action %d", p.Action)
}

// checkZero refuses a Zero plan that the source cannot carry out: only a
// list of the live conntrack table (a Mutator) zeroes counters.
func checkZero(src Source, p *Plan) error {
	if p.Action != ActList || p.Table != TableConntrack {
		return fmt.Errorf("zeroing counters needs a list of the conntrack table, not %s of %s", actionName(p.Action), p.Table)
	}
	if _, ok := src.(Mutator); !ok {
		return errors.New("this source cannot zero counters (a saved table is read-only)")
	}
	return nil
}

// execScan streams the table through the predicate into emit, honouring
// the limit.
func execScan(ctx context.Context, src Source, p *Plan, emit func(*Flow) error) (Result, error) {
	var res Result
	if p.Limit == 0 {
		return res, nil
	}
	stats, err := src.Scan(ctx, p.Table, &p.Filter, func(f *Flow) error {
		if p.Match != nil {
			ok, err := p.Match(f)
			if err != nil {
				return err
			}
			if !ok {
				return nil
			}
		}
		if err := emit(f); err != nil {
			if errors.Is(err, errSkip) {
				return nil
			}
			return err
		}
		res.Count++
		if p.Limit > 0 && res.Count >= p.Limit {
			return errStop
		}
		return nil
	})
	res.Stats = stats
	if err != nil && !errors.Is(err, errStop) {
		return res, err
	}
	return res, nil
}

func execGet(ctx context.Context, src Source, p *Plan, w Writer) (Result, error) {
	if p.Key == nil {
		return Result{}, errors.New("get: no tuple given")
	}
	f, err := src.Get(ctx, p.Key)
	if err != nil {
		return Result{}, err
	}
	if p.Match != nil {
		ok, err := p.Match(f)
		if err != nil || !ok {
			return Result{}, err
		}
	}
	if p.Limit == 0 {
		return Result{}, nil
	}
	if err := w.Write(f); err != nil {
		return Result{}, err
	}
	return Result{Count: 1}, nil
}

// sortedRow is a selected entry with its evaluated sort keys.
type sortedRow struct {
	flow Flow
	keys []any
	seq  int // scan order, to keep the sort stable
}

// execSorted selects, sorts and writes. With a limit it keeps only the best
// Limit rows in a heap, so memory grows with the limit, not the table;
// without one it must hold every selected entry.
func execSorted(ctx context.Context, src Source, p *Plan, w Writer) (Result, error) {
	var orderErr error // the first comparison error (mixed key types)
	rows := newBest(p.Limit, func(a, b *sortedRow) int {
		c, err := compareRows(p.Order, a, b)
		if err != nil && orderErr == nil {
			orderErr = fmt.Errorf("order by: %w", err)
		}
		return c
	}, nil)
	seen := 0
	res, err := execScan(ctx, src, &Plan{Table: p.Table, Filter: p.Filter, Match: p.Match, Limit: -1},
		func(f *Flow) error {
			keys := make([]any, len(p.Order))
			for i, k := range p.Order {
				v, err := k.Value(f)
				if err != nil {
					return fmt.Errorf("order by: %w", err)
				}
				keys[i] = v
			}
			rows.offer(sortedRow{flow: *f, keys: keys, seq: seen})
			seen++
			return orderErr
		})
	if err != nil {
		return res, err
	}
	out := rows.sorted()
	if orderErr != nil {
		return res, orderErr
	}
	res.Count = 0
	for i := range out {
		if err := w.Write(&out[i].flow); err != nil {
			return res, err
		}
		res.Count++
	}
	return res, nil
}

// compareRows orders rows as the plan's order keys say, ties in scan
// order.
func compareRows(order []OrderKey, a, b *sortedRow) (int, error) {
	for i, k := range order {
		c, err := compareValues(a.keys[i], b.keys[i])
		if err != nil {
			return 0, err
		}
		if c != 0 {
			if k.Desc {
				return -c, nil
			}
			return c, nil
		}
	}
	return cmp.Compare(a.seq, b.seq), nil
}
