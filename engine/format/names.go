package format

import (
	"fmt"
	"strings"
)

// word is a word of a format name: a format of its own, or a conntrack -o
// flag of the text and xml formats.
type word struct {
	name string
	kind Kind      // the kind it selects (KindText for a flag)
	flag TextFlags // the text flag it sets
	// alone marks the kinds that take no flags and cannot be combined
	// (save, json, csv, table).
	alone bool
	// hidden words are accepted but not listed by Names (timestamp, which
	// only events and expectation listings honour).
	hidden bool
	// summary is the word's line in help, "" when another word's line
	// covers it.
	summary string
}

// words are the words of format names, in the order Names lists them. The
// table is never changed.
var words = []word{
	{name: "text", summary: "conntrack's default line (byte for byte)"},
	{name: "extended", flag: FlagExtended, summary: "conntrack -o extended; also id, ktimestamp, labels and lists: extended,id"},
	{name: "id", flag: FlagID},
	{name: "ktimestamp", flag: FlagKTimestamp},
	{name: "labels"},
	{name: "timestamp", flag: FlagTime, hidden: true},
	{name: "xml", kind: KindXML, summary: "conntrack -o xml"},
	{name: "save", kind: KindSave, alone: true, summary: "conntrack -o save (for conntrack -R and ctq's load)"},
	{name: "json", kind: KindJSON, alone: true, summary: "one object a line, typed fields"},
	{name: "csv", kind: KindCSV, alone: true, summary: "a header, then a row an entry"},
	{name: "table", kind: KindTable, alone: true, summary: "aligned columns"},
}

// lookup returns the word called name.
func lookup(name string) (word, bool) {
	for _, w := range words {
		if w.name == name {
			return w, true
		}
	}
	return word{}, false
}

// Names lists the format names New accepts (for help and completion).
// Besides these, New accepts comma lists of conntrack's text flags
// ("extended,id", "xml,ktimestamp").
func Names() []string {
	var out []string
	for _, w := range words {
		if !w.hidden {
			out = append(out, w.name)
		}
	}
	return out
}

// Hidden lists the format words New accepts that Names leaves out
// (timestamp, conntrack's -o timestamp).
func Hidden() []string {
	var out []string
	for _, w := range words {
		if w.hidden {
			out = append(out, w.name)
		}
	}
	return out
}

// Summary is the one-line description of the format name for help, ""
// for a name that is not one of Names or whose description is another
// name's (id, ktimestamp and labels are extended's flags).
func Summary(name string) string {
	w, _ := lookup(name)
	return w.summary
}

// Parse parses a format name: one of Names, or a comma list of conntrack
// -o keywords among text, extended, id, ktimestamp, labels, timestamp and
// xml (save, json, csv and table stand alone). Names are case-insensitive.
//
// "labels" is accepted for compatibility and has no flag of its own: labels
// print when Options.LabelNames is non-nil (the caller loads connlabel.conf
// for it, as conntrack does for -o labels). "timestamp" sets FlagTime.
func Parse(name string) (Spec, error) {
	lower := strings.ToLower(strings.TrimSpace(name))
	if w, ok := lookup(lower); ok && w.alone {
		return Spec{Kind: w.kind}, nil
	}
	var s Spec
	for _, item := range strings.Split(lower, ",") {
		item = strings.TrimSpace(item)
		w, ok := lookup(item)
		switch {
		case !ok:
			return Spec{}, fmt.Errorf("unknown output format %q (valid: %s, or a comma list of text flags such as extended,id)", name, strings.Join(Names(), ", "))
		case w.alone:
			return Spec{}, fmt.Errorf("output format %q: %s cannot be combined with other formats", name, item)
		}
		s.Flags |= w.flag
		if w.kind != KindText {
			s.Kind = w.kind
		}
	}
	return s, nil
}

// KindOf is the kind of format name; text for a name Parse rejects.
func KindOf(name string) Kind {
	if spec, err := Parse(name); err == nil {
		return spec.Kind
	}
	return KindText
}
