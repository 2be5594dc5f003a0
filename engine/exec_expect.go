package engine

import (
	"context"
	"errors"
	"fmt"
)

// execExpect runs a plan of the expect table: list, get and count (through
// MatchExpect), delete, insert and flush. Listed expectations go to out.
// A get is a list that finds one expectation or fails with ErrNotFound:
// MatchExpect selects it (by its tuple, as conntrack -G expect does); the
// kernel's lookup by tuple answers no more than a dump does, for a table
// that is small.
func execExpect(ctx context.Context, src Source, p *Plan, out Output) (Result, error) {
	es, ok := src.(ExpectSource)
	if !ok {
		return Result{}, errors.New("this source has no expect table")
	}
	switch p.Action {
	case ActFlush:
		m, ok := src.(Mutator)
		if !ok {
			return Result{}, errors.New("this source cannot be changed")
		}
		if err := m.Flush(ctx, TableExpect, p.Filter.Family); err != nil {
			return Result{}, fmt.Errorf("flush expect: %w", err)
		}
		return Result{}, nil
	case ActInsert:
		var res Result
		for i := range p.CreateExpect {
			if err := es.CreateExpect(ctx, &p.CreateExpect[i]); err != nil {
				return res, fmt.Errorf("insert expect: %w", err)
			}
			res.Count++
		}
		return res, nil
	case ActList, ActGet, ActCount, ActDelete:
	default:
		return Result{}, fmt.Errorf("%s is not supported on the expect table", actionName(p.Action))
	}
	var w ExpectWriter
	if p.Action == ActList || p.Action == ActGet {
		var err error
		if w, err = out.Expects(); err != nil {
			return Result{}, err
		}
	}
	var res Result
	// Deletes are collected first: expectations are few, and deleting
	// while the dump runs could upset it.
	var doomed []Expect
	stats, err := es.ScanExpect(ctx, func(e *Expect) error {
		if p.MatchExpect != nil {
			ok, err := p.MatchExpect(e)
			if err != nil || !ok {
				return err
			}
		}
		if p.Limit >= 0 && res.Count >= p.Limit {
			return errStop
		}
		res.Count++
		switch {
		case p.Action == ActList:
			return w.WriteExpect(e)
		case p.Action == ActGet:
			if err := w.WriteExpect(e); err != nil {
				return err
			}
			return errStop
		case p.Action == ActDelete && !p.Dry:
			doomed = append(doomed, *e)
		}
		return nil
	})
	res.Stats = stats
	if err != nil && !errors.Is(err, errStop) {
		return res, err
	}
	if p.Action == ActGet && res.Count == 0 {
		return res, ErrNotFound
	}
	if len(doomed) > 0 {
		res.Count = 0
		for i := range doomed {
			switch err := es.DeleteExpect(ctx, &doomed[i]); {
			case err == nil:
				res.Count++
				res.Batch.Done++
			case errors.Is(err, ErrNotFound):
				res.Batch.Gone++
			default:
				res.Batch.Failed++
				if len(res.Batch.Errors) < 10 {
					res.Batch.Errors = append(res.Batch.Errors, err)
				}
			}
		}
		if res.Batch.Failed > 0 {
			return res, &MutationError{Op: "delete expect", Stats: res.Batch}
		}
	}
	return res, nil
}
