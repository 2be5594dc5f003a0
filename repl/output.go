package repl

import (
	"errors"
	"fmt"

	"ctq/engine"
	"ctq/engine/format"
)

// output is the session's engine.Output for one statement: the writers of
// the statement's format, made when the engine asks for them, and closed
// by close.
type output struct {
	s    *Session
	name string   // the output format
	cols []string // a grouping's column names
	// labels shows the labels in conntrack's text and xml formats too
	// (the statement filters on labels, as with conntrack -l).
	labels bool
	// Opened by the engine's requests.
	flows   engine.Writer
	expects engine.ExpectWriter
	events  format.EventWriter
	reports *format.GroupReportWriter
	// groups is how many groups a grouping printed.
	groups int
}

func (s *Session) newOutput(name string, cols []string) *output {
	return &output{s: s, name: name, cols: cols}
}

// Flows is the writer of listed and got entries.
func (o *output) Flows() (engine.Writer, error) {
	opts := o.s.formatOptions(o.name)
	if o.labels {
		opts.LabelNames = o.s.labels
	}
	w, err := format.New(o.name, o.s.cfg.Stdout, opts)
	o.flows = w
	return w, err
}

// Expects is the writer of listed expectations.
func (o *output) Expects() (engine.ExpectWriter, error) {
	w, err := format.NewExpect(o.name, o.s.cfg.Stdout, o.s.formatOptions(o.name))
	o.expects = w
	return w, err
}

// Events is the writer of watched events.
func (o *output) Events() (engine.EventWriter, error) {
	opts := format.EventOptions{Options: o.s.formatOptions(o.name), ProgName: engine.ProgNames(o.s.src)}
	if o.labels {
		opts.LabelNames = o.s.labels
	}
	w, err := format.NewEvents(o.name, o.s.cfg.Stdout, opts)
	if err != nil {
		return nil, err
	}
	o.events = w
	return w, nil
}

// Groups prints a grouping, one row a group, largest first (see
// format.WriteGroups).
func (o *output) Groups(groups []engine.Group) error {
	o.groups = len(groups)
	return format.WriteGroups(o.s.cfg.Stdout, o.name, o.cols, groups)
}

// Interval prints one report of a counting watch ("watch new count by
// dport every 1s"; see format.GroupReportWriter).
func (o *output) Interval(r *engine.IntervalReport) error {
	if o.reports == nil {
		w, err := format.NewGroupReports(o.name, o.s.cfg.Stdout, o.cols)
		if err != nil {
			return err
		}
		o.reports = w
	}
	return o.reports.Write(r)
}

// close flushes and closes what the engine was handed.
func (o *output) close() error {
	var errs []error
	if o.flows != nil {
		errs = append(errs, o.flows.Flush())
	}
	if o.expects != nil {
		errs = append(errs, o.expects.Flush())
	}
	if o.events != nil {
		errs = append(errs, o.events.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}
