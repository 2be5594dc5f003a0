package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// AggFunc is what an ActGroup plan computes over each group.
type AggFunc uint8

// The aggregate functions.
const (
	// AggCount counts the entries of a group.
	AggCount AggFunc = iota
	// AggSum adds up Grouping.Value over a group.
	AggSum
	// AggMin is the least Grouping.Value of a group.
	AggMin
	// AggMax is the greatest Grouping.Value of a group.
	AggMax
	// AggAvg is the mean of Grouping.Value over a group.
	AggAvg
)

// String is the function's name: count, sum, min, max or avg.
func (a AggFunc) String() string {
	switch a {
	case AggSum:
		return "sum"
	case AggMin:
		return "min"
	case AggMax:
		return "max"
	case AggAvg:
		return "avg"
	}
	return "count"
}

// MaxGroupKeys is the most keys a Grouping may have.
const MaxGroupKeys = 4

// Group is one group of an aggregation: its keys (in the order of
// Grouping.By), the number of entries in it and the computed value (the
// count again for AggCount).
type Group struct {
	Keys  []any
	Count int
	Value float64
}

// groupKey is the map key of a group: comparable key values.
type groupKey [MaxGroupKeys]any

// accumulator gathers one group.
type accumulator struct {
	n   int
	val float64
}

// aggregate runs an ActGroup plan: it streams the table through the
// predicate and keeps one accumulator per group, so memory grows with the
// number of groups, never with the table. The groups come largest value
// first, ties by their keys in ascending order, at most p.Limit of them
// (negative: all).
func aggregate(ctx context.Context, src Source, p *Plan) ([]Group, Result, error) {
	g := p.Group
	if g == nil {
		return nil, Result{}, errors.New("aggregate: the plan has no grouping")
	}
	if len(g.By) > MaxGroupKeys {
		return nil, Result{}, fmt.Errorf("aggregate: at most %d group keys", MaxGroupKeys)
	}
	if g.Agg != AggCount && g.Value == nil {
		return nil, Result{}, fmt.Errorf("aggregate: %s needs a value", g.Agg)
	}
	agg := newAggregator(g)
	scan := &Plan{Table: p.Table, Filter: p.Filter, Match: p.Match, Limit: -1}
	res, err := execScan(ctx, src, scan, agg.add)
	if err != nil {
		return nil, res, err
	}
	out, err := agg.result(p.Limit)
	if err != nil {
		return nil, res, err
	}
	res.Count = len(out)
	return out, res, nil
}

// aggregator keeps one accumulator per group of a Grouping.
type aggregator struct {
	g      *Grouping
	groups map[groupKey]*accumulator
}

func newAggregator(g *Grouping) *aggregator {
	return &aggregator{g: g, groups: map[groupKey]*accumulator{}}
}

// add counts f into its group.
func (a *aggregator) add(f *Flow) error {
	g := a.g
	var k groupKey
	for i, by := range g.By {
		v, err := by(f)
		if err != nil {
			return fmt.Errorf("group key: %w", err)
		}
		k[i] = v
	}
	var v float64
	if g.Value != nil {
		var err error
		if v, err = g.Value(f); err != nil {
			return fmt.Errorf("%s: %w", g.Agg, err)
		}
	}
	acc, ok := a.groups[k]
	if !ok {
		acc = &accumulator{val: v}
		a.groups[k] = acc
	} else {
		switch g.Agg {
		case AggSum, AggAvg:
			acc.val += v
		case AggMin:
			acc.val = min(acc.val, v)
		case AggMax:
			acc.val = max(acc.val, v)
		}
	}
	acc.n++
	return nil
}

// result lists the groups, largest value first, ties by their keys in
// ascending order, at most limit of them (negative: all).
func (a *aggregator) result(limit int) ([]Group, error) {
	g := a.g
	out := make([]Group, 0, len(a.groups))
	for k, acc := range a.groups {
		grp := Group{Keys: slices.Clone(k[:len(g.By)]), Count: acc.n, Value: acc.val}
		switch g.Agg {
		case AggCount:
			grp.Value = float64(acc.n)
		case AggAvg:
			grp.Value = acc.val / float64(acc.n)
		}
		out = append(out, grp)
	}
	var cmpErr error
	slices.SortFunc(out, func(x, y Group) int {
		if x.Value != y.Value {
			if x.Value > y.Value {
				return -1
			}
			return 1
		}
		for i := range x.Keys {
			c, err := compareValues(x.Keys[i], y.Keys[i])
			if err != nil && cmpErr == nil {
				cmpErr = fmt.Errorf("group key: %w", err)
			}
			if c != 0 {
				return c
			}
		}
		return 0
	})
	if cmpErr != nil {
		return nil, cmpErr
	}
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// reset empties every group.
func (a *aggregator) reset() {
	clear(a.groups)
}
