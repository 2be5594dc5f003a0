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

// errNoOutput is returned for a plan that produces output when Exec was
// given none.
var errNoOutput = errors.New("the statement produces output, and none was given")

// FlowsTo is an Output for list and get plans: it hands w to the engine
// and refuses every other kind of output.
func FlowsTo(w Writer) Output { return &only{flows: w} }

// EventsTo is an Output for watch plans: it hands w to the engine and
// refuses every other kind of output.
func EventsTo(w EventWriter) Output { return &only{events: w} }

// only is the Output of FlowsTo and EventsTo.
type only struct {
	flows  Writer
	events EventWriter
}

// errNotWanted is returned for output the caller did not ask for.
var errNotWanted = errors.New("the statement's output is not of the kind the caller takes")

func (o *only) Flows() (Writer, error) {
	if o.flows == nil {
		return nil, errNotWanted
	}
	return o.flows, nil
}

func (o *only) Events() (EventWriter, error) {
	if o.events == nil {
		return nil, errNotWanted
	}
	return o.events, nil
}

func (o *only) Expects() (ExpectWriter, error) { return nil, errNotWanted }
func (o *only) Groups([]Group) error           { return errNotWanted }
func (o *only) Interval(*IntervalReport) error { return errNotWanted }
