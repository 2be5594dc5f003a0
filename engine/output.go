package engine

import "errors"

// Output is where Exec sends what a plan produces. Exec asks for a writer
// only when the plan produces that kind of output, at most once a call;
// the caller flushes and closes what it handed out after Exec returns. A
// caller implements Output once, for every statement.
type Output interface {
	// Flows receives the entries of ActList and ActGet on a flow table.
	Flows() (Writer, error)
	// Expects receives the expectations of ActList on the expect table.
	Expects() (ExpectWriter, error)
	// Events receives the events of an ActWatch without grouping.
	Events() (EventWriter, error)
	// Groups receives the result of an ActGroup, largest first.
	Groups(groups []Group) error
	// Interval receives each report of a counting ActWatch.
	Interval(r *IntervalReport) error
}

// ErrNoOutput is returned by Exec for a plan whose output the caller's
// Output does not take (a nil Output takes none).
var ErrNoOutput = errors.New("the statement produces output of a kind the caller does not take")

// FlowsTo is an Output for list and get plans: it hands w to the engine
// and refuses every other kind of output.
func FlowsTo(w Writer) Output { return &only{flows: w} }

// EventsTo is an Output for watch plans: it hands w to the engine and
// refuses every other kind of output.
func EventsTo(w EventWriter) Output { return &only{events: w} }

// GroupsTo is an Output for grouping plans: it hands the groups to fn and
// refuses every other kind of output.
func GroupsTo(fn func([]Group) error) Output { return &only{groups: fn} }

// only is the Output of FlowsTo, EventsTo and GroupsTo, and, empty, what
// Exec uses for a nil Output: each kind it was not given is refused with
// ErrNoOutput.
type only struct {
	flows  Writer
	events EventWriter
	groups func([]Group) error
}

func (o *only) Flows() (Writer, error) {
	if o.flows == nil {
		return nil, ErrNoOutput
	}
	return o.flows, nil
}

func (o *only) Events() (EventWriter, error) {
	if o.events == nil {
		return nil, ErrNoOutput
	}
	return o.events, nil
}

func (o *only) Groups(g []Group) error {
	if o.groups == nil {
		return ErrNoOutput
	}
	return o.groups(g)
}

func (o *only) Expects() (ExpectWriter, error) { return nil, ErrNoOutput }
func (o *only) Interval(*IntervalReport) error { return ErrNoOutput }
