package format

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"ctq/internal/quote"

	"ctq/engine"
)

// EventOptions tune the event writers of NewEvents.
type EventOptions struct {
	// Options are those of the listing formats. Options.Now is the clock
	// for events without a Time (and for nothing else: an event's Time is
	// its "now", for delta-time and xml's <when> as well).
	Options
	// ProgName names the process that owns a netlink port id, for the
	// " progname=NAME" conntrack adds to the [USERSPACE] suffix (it
	// searches /proc/net/netlink and /proc/*/fd). It is called at write
	// time, once for each event with a non-zero PortID; caching is up to
	// it. nil, or an empty name, prints no progname.
	ProgName func(portid uint32) string
	// SaveUserspace appends the [USERSPACE] suffix to save events too, as
	// conntrack -E -o save does (the conntrack front end); conntrack -R
	// and ctq's load skip it.
	SaveUserspace bool
}

// EventWriter writes a stream of events (the watch statement).
//
// WriteEvent renders each event into a reused buffer and hands it to a
// 64 KiB bufio.Writer: nothing reaches the output until that buffer fills
// or Flush is called. conntrack -E flushes after every line, which costs a
// write(2) per event under a burst; ctq leaves the moment to the caller,
// which must call Flush whenever its queue of received events is empty
// (the reader has nothing more ready), so that a burst costs one write
// every 64 KiB while an idle stream still shows each event at once.
//
// Close ends the stream: it writes what the format needs at its end (the
// closing tag of an xml document) and flushes. A WriteEvent after Close
// starts a new stream (a new xml document, a new csv header). Neither
// Flush nor Close closes the underlying io.Writer.
type EventWriter interface {
	WriteEvent(ev *engine.Event) error
	Flush() error
	Close() error
}

// EventOf maps an engine event type to the Event kind that selects the
// text label, the xml type attribute and the save command; an unknown type
// gives EventNone (no label, as conntrack prints it).
func EventOf(t engine.EventType) Event {
	switch t {
	case engine.EventNew:
		return EventNew
	case engine.EventUpdate:
		return EventUpdate
	case engine.EventDestroy:
		return EventDestroy
	}
	return EventNone
}

// eventNames are the event values of the json and csv formats.
var eventNames = [...]string{
	EventNone:    "unknown",
	EventNew:     "new",
	EventUpdate:  "update",
	EventDestroy: "destroy",
}

// docTable is the table whose document (xml) or header (csv) is open.
type docTable uint8

const (
	docNone    docTable = iota // nothing written since the start or Close
	docFlows                   // <conntrack>, the flow csv header
	docExpects                 // <expect>, the expectation csv header
)

// errEmptyEvent is returned for an event with neither a flow nor an
// expectation.
var errEmptyEvent = errors.New("write event: the event has neither a flow nor an expectation")

// NewEvents returns an EventWriter for format name writing to w: the
// output of conntrack -E (and -E expect) for the conntrack formats, and
// ctq's json and csv. name is one of the names New takes except table
// (which sizes its columns on the whole output, so it cannot stream):
//
//	text, extended, id, ktimestamp, labels and their comma lists
//	          conntrack -E's line byte for byte: the "%9s " label, the flow
//	          line (AppendText; AppendExpect for expectations), and
//	          " [USERSPACE] portid=N[ progname=NAME]" for events a process
//	          caused (PortID != 0; see below for expectations)
//	timestamp (alone or in a comma list) prefixes each text line with the event's
//	          Time, "[SECONDS.MICROSECONDS]\t" (AppendEventTime)
//	xml       a document with root <conntrack> (<expect> for expectations),
//	          one <flow type="new|update|destroy"> a line, header before the
//	          first event, closing tag on Close; with timestamp each flow has
//	          <when>, with ktimestamp <timestamp>
//	save      -A, -U and -D lines (AppendSave); expectations print their text
//	          line, as conntrack does
//	json      one object a line: "event" (new, update, destroy), "time" (RFC
//	          3339 in UTC with nine digits of nanoseconds), "portid" and
//	          "progname" when present, then the keys of AppendJSON (or
//	          AppendExpectJSON)
//	csv       columns event, time, portid, progname, then those of the flow
//	          (or expectation) csv format; the header comes before the first
//	          event
//
// Where ctq differs from conntrack 1.4.7 (bug 6 of the reference's list,
// and one addition):
//
//   - xml events carry no [USERSPACE] suffix: conntrack appends it after
//     </flow>, which makes the document not well-formed. Nor do save events
//     unless EventOptions.SaveUserspace asks for it (the conntrack front
//     end), so that the lines stay plain conntrack arguments. json and csv
//     carry the port id and name in their own fields.
//   - expectation events carry the [USERSPACE] suffix as flow events do.
//     conntrack never prints it for expectations (it reads them through a
//     callback that hides the netlink header); kernel-made expectations,
//     the usual ones, have no port id and print the same.
//
// An xml or csv stream holds one table: an event of the other table closes
// the open document (or ends the csv section) and starts a new one.
func NewEvents(name string, w io.Writer, opts EventOptions) (EventWriter, error) {
	s, err := Parse(name)
	if err != nil {
		return nil, err
	}
	if s.Kind == KindTable {
		return nil, fmt.Errorf("output format %q cannot stream events: it sizes its columns on the whole output (use text, json or csv)", name)
	}
	ew := &eventWriter{
		bw:     bufio.NewWriterSize(w, bufSize),
		buf:    make([]byte, 0, 2048),
		kind:   s.Kind,
		flags:  s.Flags,
		opts:   opts.Options,
		clock:  opts.Now,
		prog:   opts.ProgName,
		saveUS: opts.SaveUserspace,
	}
	ew.opts.Now = ew.eventTime
	return ew, nil
}

// eventWriter is the EventWriter of every format.
type eventWriter struct {
	bw      *bufio.Writer
	buf     []byte
	scratch []byte
	kind    Kind
	flags   TextFlags
	opts    Options             // the caller's, with Now reporting cur
	clock   func() time.Time    // the caller's Now; nil means time.Now
	prog    func(uint32) string // EventOptions.ProgName
	saveUS  bool                // EventOptions.SaveUserspace
	cur     time.Time           // the time of the event being written
	open    docTable
}

// eventTime is the clock the line builders see: the current event's time.
func (w *eventWriter) eventTime() time.Time { return w.cur }

// WriteEvent renders ev and buffers it. The event's Flow is written, or its
// Expect when Flow is nil.
func (w *eventWriter) WriteEvent(ev *engine.Event) error {
	if ev.Flow == nil && ev.Expect == nil {
		return errEmptyEvent
	}
	w.cur = ev.Time
	if w.cur.IsZero() {
		if w.clock != nil {
			w.cur = w.clock()
		} else {
			w.cur = time.Now()
		}
	}
	kind := EventOf(ev.Type)
	b := w.buf[:0]
	var err error
	switch w.kind {
	case KindXML:
		b = w.appendXML(b, ev, kind)
	case KindSave:
		b, err = w.appendSave(b, ev, kind)
	case KindJSON:
		b = w.appendJSON(b, ev, kind)
	case KindCSV:
		b = w.appendCSV(b, ev, kind)
	default:
		b = w.appendText(b, ev, kind)
	}
	if err != nil {
		return err
	}
	b = append(b, '\n')
	w.buf = b
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	return nil
}

// Flush writes out whatever is buffered.
func (w *eventWriter) Flush() error {
	if err := w.bw.Flush(); err != nil {
		return fmt.Errorf("flush events: %w", err)
	}
	return nil
}

// Close closes an open xml document and flushes.
func (w *eventWriter) Close() error {
	if w.kind == KindXML && w.open != docNone {
		footer := XMLFooter
		if w.open == docExpects {
			footer = XMLExpectFooter
		}
		if _, err := w.bw.WriteString(footer); err != nil {
			return fmt.Errorf("write events: %w", err)
		}
	}
	w.open = docNone
	return w.Flush()
}

// progName is the name of the process behind a non-zero port id, or "".
func (w *eventWriter) progName(portid uint32) string {
	if portid == 0 || w.prog == nil {
		return ""
	}
	return w.prog(portid)
}

// appendText appends conntrack -E's line: the -o timestamp prefix, the
// labelled line and the [USERSPACE] suffix.
func (w *eventWriter) appendText(b []byte, ev *engine.Event, kind Event) []byte {
	if w.flags&FlagTime != 0 {
		b = AppendEventTime(b, w.cur)
	}
	if ev.Flow != nil {
		b = AppendText(b, ev.Flow, kind, w.flags, &w.opts)
	} else {
		b = AppendExpect(b, ev.Expect, kind, &w.opts)
	}
	return w.appendUserspace(b, ev)
}

// appendUserspace appends " [USERSPACE] portid=N[ progname=NAME]" for an
// event a process caused.
func (w *eventWriter) appendUserspace(b []byte, ev *engine.Event) []byte {
	if ev.PortID == 0 {
		return b
	}
	b = append(b, " [USERSPACE] portid="...)
	b = appendUint(b, uint64(ev.PortID))
	if name := w.progName(ev.PortID); name != "" {
		b = append(b, " progname="...)
		b = quote.Append(b, name)
	}
	return b
}

// appendSave appends the -A/-U/-D line of a flow event, or the text line of
// an expectation event.
func (w *eventWriter) appendSave(b []byte, ev *engine.Event, kind Event) ([]byte, error) {
	if ev.Flow == nil {
		return AppendExpect(b, ev.Expect, kind, &w.opts), nil
	}
	b, err := AppendSave(b, ev.Flow, kind)
	if err != nil || !w.saveUS {
		return b, err
	}
	return w.appendUserspace(b, ev), nil
}

// appendXML appends the <flow> element, after the document header when
// the event's table has no open document.
func (w *eventWriter) appendXML(b []byte, ev *engine.Event, kind Event) []byte {
	table, header := docFlows, XMLHeader
	if ev.Flow == nil {
		table, header = docExpects, XMLExpectHeader
	}
	if w.open != table {
		switch w.open {
		case docFlows:
			b = append(b, XMLFooter...)
		case docExpects:
			b = append(b, XMLExpectFooter...)
		}
		b = append(b, header...)
		w.open = table
	}
	if ev.Flow != nil {
		return AppendXML(b, ev.Flow, kind, w.flags, &w.opts)
	}
	return AppendExpectXML(b, ev.Expect, kind, w.flags, &w.opts)
}

// appendJSON appends the event's keys and then the flow's (or
// expectation's) in the same object.
func (w *eventWriter) appendJSON(b []byte, ev *engine.Event, kind Event) []byte {
	b = append(b, `{"event":"`...)
	b = append(b, eventNames[kind]...)
	b = append(b, `","time":"`...)
	b = w.cur.UTC().AppendFormat(b, jsonTimeLayout)
	b = append(b, '"')
	if ev.PortID != 0 {
		b = append(b, `,"portid":`...)
		b = appendUint(b, uint64(ev.PortID))
		if name := w.progName(ev.PortID); name != "" {
			b = append(b, `,"progname":`...)
			b = appendJSONString(b, name)
		}
	}
	// The record's object continues this one: its '{' becomes a ','.
	start := len(b)
	if ev.Flow != nil {
		b = AppendJSON(b, ev.Flow, &w.opts)
	} else {
		b = AppendExpectJSON(b, ev.Expect)
	}
	b[start] = ','
	return b
}

// appendCSV appends the event's row, after the header when the event's
// table has no open section.
func (w *eventWriter) appendCSV(b []byte, ev *engine.Event, kind Event) []byte {
	table := docFlows
	if ev.Flow == nil {
		table = docExpects
	}
	if w.open != table {
		b = append(b, "event,time,portid,progname,"...)
		if table == docFlows {
			b = AppendCSVHeader(b)
		} else {
			b = AppendExpectCSVHeader(b)
		}
		b = append(b, '\n')
		w.open = table
	}
	b = append(b, eventNames[kind]...)
	b = append(b, ',')
	b = w.cur.UTC().AppendFormat(b, jsonTimeLayout)
	b = append(b, ',')
	if ev.PortID != 0 {
		b = appendUint(b, uint64(ev.PortID))
	}
	b = append(b, ',')
	w.scratch = append(w.scratch[:0], w.progName(ev.PortID)...)
	b = appendCSVField(b, w.scratch)
	b = append(b, ',')
	if ev.Flow != nil {
		b, w.scratch = AppendCSV(b, w.scratch, ev.Flow, &w.opts)
	} else {
		b, w.scratch = AppendExpectCSV(b, w.scratch, ev.Expect)
	}
	return b
}

// LossText is the line a text or save event stream gets where events were
// lost. conntrack -E marks nothing there; ctq's marker starts with '#',
// which no flow line does.
const LossText = "# ctq: events lost here: the kernel's event queue overflowed (ENOBUFS)"

// WriteLoss marks the point of the stream where the kernel dropped events
// (engine.LossWriter): LossText in the text and save formats (with "xN"
// for N reports at once), an object {"lost":true,"overflows":N,"time":T}
// in json, an xml comment in xml (inside the open document; a flows
// document is opened if none is), and a row whose event is "lost" in csv.
func (w *eventWriter) WriteLoss(overflows int, at time.Time) error {
	b := w.buf[:0]
	switch w.kind {
	case KindJSON:
		b = append(b, `{"lost":true,"overflows":`...)
		b = appendUint(b, uint64(overflows))
		b = append(b, `,"time":"`...)
		b = at.UTC().AppendFormat(b, jsonTimeLayout)
		b = append(b, `"}`...)
	case KindXML:
		if w.open == docNone {
			b = append(b, XMLHeader...)
			w.open = docFlows
		}
		b = append(b, "<!-- "...)
		b = appendLossText(b, overflows)
		b = append(b, " -->"...)
	case KindCSV:
		if w.open == docNone {
			b = append(b, "event,time,portid,progname,"...)
			b = AppendCSVHeader(b)
			b = append(b, '\n')
			w.open = docFlows
		}
		var header []byte
		if w.open == docFlows {
			header = AppendCSVHeader(nil)
		} else {
			header = AppendExpectCSVHeader(nil)
		}
		b = append(b, "lost,"...)
		b = at.UTC().AppendFormat(b, jsonTimeLayout)
		// event,time,portid,progname, then the record's columns: empty.
		for range 3 + bytes.Count(header, []byte{','}) {
			b = append(b, ',')
		}
	default:
		b = appendLossText(b, overflows)
	}
	b = append(b, '\n')
	w.buf = b
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	return nil
}

// appendLossText appends LossText, with " xN" for several reports.
func appendLossText(b []byte, overflows int) []byte {
	b = append(b, LossText...)
	if overflows > 1 {
		b = append(b, " x"...)
		b = appendUint(b, uint64(overflows))
	}
	return b
}
