package repl

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/engine/format"
)

// output is the session's engine.Output for one statement: the writers of
// the statement's format, made when the engine asks for them, and closed
// by close.
type output struct {
	s    *Session
	name string   // the output format
	cols []string // a grouping's column names
	// Opened by the engine's requests.
	flows   engine.Writer
	expects engine.ExpectWriter
	events  format.EventWriter
	csv     *csv.Writer // a counting watch's CSV rows
}

func (s *Session) newOutput(name string, cols []string) *output {
	return &output{s: s, name: name, cols: cols}
}

// Flows is the writer of listed and got entries.
func (o *output) Flows() (engine.Writer, error) {
	w, err := format.New(o.name, o.s.cfg.Stdout, o.s.formatOptions(o.name))
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
	opts := format.EventOptions{Options: o.s.formatOptions(o.name), ProgName: cachedProgName()}
	w, err := format.NewEvents(o.name, o.s.cfg.Stdout, opts)
	if err != nil {
		return nil, err
	}
	o.events = w
	return w, nil
}

// Groups prints a grouping, one row a group, largest first: aligned
// columns for people (the keys, then the value), one JSON object a line
// ({"dport":443,"count":1520}), or CSV with a header.
func (o *output) Groups(groups []engine.Group) error {
	var err error
	switch o.kind() {
	case format.KindJSON:
		err = writeGroupsJSON(o.s.cfg.Stdout, o.cols, groups)
	case format.KindCSV:
		err = writeGroupsCSV(o.s.cfg.Stdout, o.cols, groups)
	default:
		err = writeGroupsText(o.s.cfg.Stdout, groups)
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// Interval prints one report of a counting watch ("watch new count by
// dport every 1s"): a line of text (the time, the total, then key=count
// pairs largest first), a JSON object, or CSV rows.
func (o *output) Interval(r *engine.IntervalReport) error {
	at := r.End.UTC().Format(time.RFC3339)
	var b strings.Builder
	switch o.kind() {
	case format.KindJSON:
		fmt.Fprintf(&b, `{"time":%q,"total":%d,"groups":[`, at, r.Total)
		for i, g := range r.Groups {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := writeGroupObject(&b, o.cols, g); err != nil {
				return err
			}
		}
		fmt.Fprintf(&b, "],\"overflows\":%d}\n", r.Overflows)
	case format.KindCSV:
		if o.csv == nil {
			o.csv = csv.NewWriter(o.s.cfg.Stdout)
			if err := o.csv.Write(append([]string{"time"}, o.cols...)); err != nil {
				return fmt.Errorf("write output: %w", err)
			}
		}
		for _, g := range r.Groups {
			row := []string{at}
			for _, k := range g.Keys {
				row = append(row, display(k))
			}
			if err := o.csv.Write(append(row, number(g.Value))); err != nil {
				return err
			}
		}
		o.csv.Flush()
		return o.csv.Error()
	default:
		fmt.Fprintf(&b, "%s  total=%d", at, r.Total)
		for _, g := range r.Groups {
			if len(g.Keys) == 0 {
				continue
			}
			keys := make([]string, len(g.Keys))
			for i, k := range g.Keys {
				keys[i] = display(k)
			}
			fmt.Fprintf(&b, "  %s=%s", strings.Join(keys, "/"), number(g.Value))
		}
		if r.Overflows > 0 {
			fmt.Fprintf(&b, "  (events lost: %d kernel overflows)", r.Overflows)
		}
		b.WriteByte('\n')
	}
	_, err := io.WriteString(o.s.cfg.Stdout, b.String())
	return err
}

// kind is the kind of the output format (text when it does not parse).
func (o *output) kind() format.Kind {
	if spec, err := format.Parse(o.name); err == nil {
		return spec.Kind
	}
	return format.KindText
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

// cachedProgName looks up the program behind a netlink port once per port
// for the watch (a lookup walks /proc: far too slow for every event of a
// burst from one process).
func cachedProgName() func(uint32) string {
	names := map[uint32]string{}
	return func(portid uint32) string {
		name, ok := names[portid]
		if !ok {
			name = ctnetlink.ProgName(portid)
			names[portid] = name
		}
		return name
	}
}
