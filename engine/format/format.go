package format

import (
	"io"
	"time"

	"ctq/engine"
)

// Options tune the formats.
type Options struct {
	// Now is the clock used for delta-time (conntrack prints now - start in
	// whole seconds, using time(NULL), i.e. truncated seconds); nil means
	// time.Now.
	Now func() time.Time
	// LabelNames maps label bit numbers to names (from connlabel.conf);
	// labels are printed in the text and xml formats only when this map is
	// non-nil (conntrack's -o labels), as conntrack does. The json and csv
	// formats always print labels, by name where this map has one.
	LabelNames map[int]string
	// Location for ktimestamp's ctime() rendering and xml's <when>; nil
	// means time.Local.
	Location *time.Location
}

func (o *Options) now() time.Time {
	if o == nil || o.Now == nil {
		return time.Now()
	}
	return o.Now()
}

func (o *Options) location() *time.Location {
	if o == nil || o.Location == nil {
		return time.Local
	}
	return o.Location
}

func (o *Options) labelNames() map[int]string {
	if o == nil {
		return nil
	}
	return o.LabelNames
}

// Event is the kind of change a flow is printed for: none for listings,
// or the event type of conntrack -E.
type Event uint8

// Event kinds. They select the text label ("    [NEW] "), the xml type
// attribute and the save command (-A, -U, -D).
const (
	EventNone    Event = iota // NFCT_T_UNKNOWN: a listed entry
	EventNew                  // NFCT_T_NEW
	EventUpdate               // NFCT_T_UPDATE
	EventDestroy              // NFCT_T_DESTROY
)

// TextFlags are conntrack's -o flags that tune the text and xml formats.
type TextFlags uint8

// Text and xml flags.
const (
	// FlagExtended prints the layer-3 name and number first
	// (NFCT_OF_SHOW_LAYER3, -o extended). No effect on xml.
	FlagExtended TextFlags = 1 << iota
	// FlagID prints id= (NFCT_OF_ID, -o id). xml always has <id>.
	FlagID
	// FlagKTimestamp prints [start=] and [stop=] in text and <timestamp>
	// in xml (NFCT_OF_TIMESTAMP, -o ktimestamp).
	FlagKTimestamp
	// FlagTime is -o timestamp (NFCT_OF_TIME): the "[SECONDS.MICROSECONDS]\t"
	// prefix of text events and expectation lines, and <when> (the current
	// local time) in xml. conntrack honours it for events and for
	// expectation listings; the flow writers of New ignore it.
	FlagTime
)

// Kind is an output format family.
type Kind uint8

// The output format families.
const (
	KindText Kind = iota
	KindXML
	KindSave
	KindJSON
	KindCSV
	KindTable
)

// Spec is a parsed format name: a kind and, for text and xml, flags.
type Spec struct {
	Kind  Kind
	Flags TextFlags
}

// New returns a Writer for format name writing to w. name is one of:
//
//	text      conntrack's default line
//	extended  conntrack -o extended
//	id        conntrack -o id   (text with id=)
//	ktimestamp, labels            the other conntrack -o text flags
//	a comma list of conntrack text flags: e.g. "extended,id", "extended,ktimestamp"
//	xml       conntrack -o xml (header before the first entry; nothing at all
//	          for zero entries; closing </conntrack> on Flush only if the
//	          header was printed)
//	save      conntrack -o save (-A lines, for conntrack -R and ctq load)
//	json      one JSON object a line, typed fields
//	csv       a header row, then one row a flow
//	table     aligned columns for a terminal
//
// Unknown names give an error listing the valid names. The writers buffer
// through a bufio.Writer: call Flush at the end.
func New(name string, w io.Writer, opts Options) (engine.Writer, error) {
	s, err := Parse(name)
	if err != nil {
		return nil, err
	}
	o := &opts
	flags := s.Flags &^ FlagTime // conntrack -L ignores -o timestamp
	switch s.Kind {
	case KindXML:
		return newXMLWriter(w, XMLHeader, XMLFooter, func(buf []byte, f *engine.Flow) []byte {
			return AppendXML(buf, f, EventNone, flags, o)
		}), nil
	case KindSave:
		return NewLineWriter(w, func(buf []byte, f *engine.Flow) ([]byte, error) {
			return AppendSave(buf, f, EventNew)
		}), nil
	case KindJSON:
		return NewLineWriter(w, func(buf []byte, f *engine.Flow) ([]byte, error) {
			return AppendJSON(buf, f, o), nil
		}), nil
	case KindCSV:
		return newCSVWriter(w, csvColumns, o), nil
	case KindTable:
		return newTableWriter(w, tableColumns), nil
	}
	return NewLineWriter(w, func(buf []byte, f *engine.Flow) ([]byte, error) {
		return AppendText(buf, f, EventNone, flags, o), nil
	}), nil
}
