package conntrack

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/lang/ctargs"
)

// honoured are the -o text flags each command prints with (conntrack
// ignores the others): -D and -U drop ktimestamp.
func honoured(op ctargs.Op) format.TextFlags {
	switch op {
	case ctargs.OpDelete, ctargs.OpUpdate:
		return format.FlagExtended | format.FlagID
	case ctargs.OpEvent:
		return format.FlagExtended | format.FlagID | format.FlagKTimestamp | format.FlagTime
	}
	return format.FlagExtended | format.FlagID | format.FlagKTimestamp
}

// xmlDoc is how a command frames its -o xml flows: -L in a document
// (nothing at all for no entry), -G without the closing tag, -D and -U as
// bare <flow> lines.
type xmlDoc struct{ header, footer string }

func xmlFraming(op ctargs.Op) xmlDoc {
	switch op {
	case ctargs.OpList:
		return xmlDoc{format.XMLHeader, format.XMLFooter}
	case ctargs.OpGet:
		return xmlDoc{header: format.XMLHeader}
	}
	return xmlDoc{}
}

// saveEvent is the -o save prefix of a command's entries: -D for deleted
// ones, -A for the others.
func saveEvent(op ctargs.Op) format.Event {
	if op == ctargs.OpDelete {
		return format.EventDestroy
	}
	return format.EventNew
}

// flowWriter returns the writer of the entries a command prints, on w.
func flowWriter(op ctargs.Op, out ctargs.Output, w io.Writer, opts *format.Options) engine.Writer {
	flags := out.Spec.Flags & honoured(op)
	switch out.Spec.Kind {
	case format.KindSave:
		ev := saveEvent(op)
		return format.NewLineWriter(w, func(b []byte, f *engine.Flow) ([]byte, error) {
			return format.AppendSave(b, f, ev)
		})
	case format.KindXML:
		doc := xmlFraming(op)
		return &xmlLines{bw: bufio.NewWriterSize(w, 64<<10), doc: doc, render: func(b []byte, f *engine.Flow) []byte {
			return format.AppendXML(b, f, format.EventNone, flags, opts)
		}}
	}
	return format.NewLineWriter(w, func(b []byte, f *engine.Flow) ([]byte, error) {
		return format.AppendText(b, f, format.EventNone, flags, opts), nil
	})
}

// xmlLines writes <flow> lines framed as a command frames them.
type xmlLines struct {
	bw     *bufio.Writer
	buf    []byte
	doc    xmlDoc
	render func([]byte, *engine.Flow) []byte
	opened bool
}

func (x *xmlLines) Write(f *engine.Flow) error {
	b := x.buf[:0]
	if !x.opened {
		b = append(b, x.doc.header...)
		x.opened = true
	}
	b = x.render(b, f)
	b = append(b, '\n')
	x.buf = b
	if _, err := x.bw.Write(b); err != nil {
		return fmt.Errorf("write xml: %w", err)
	}
	return nil
}

// Flush closes the document if one was opened, and flushes.
func (x *xmlLines) Flush() error {
	if x.opened {
		x.opened = false
		if _, err := x.bw.WriteString(x.doc.footer); err != nil {
			return fmt.Errorf("write xml: %w", err)
		}
	}
	if err := x.bw.Flush(); err != nil {
		return fmt.Errorf("flush xml: %w", err)
	}
	return nil
}

// specName is the format name of s for format.NewEvents and
// format.NewExpect ("text", "xml,ktimestamp", "extended,id", "save").
func specName(s format.Spec) string {
	var words []string
	switch s.Kind {
	case format.KindSave:
		return "save"
	case format.KindJSON:
		return "json"
	case format.KindCSV:
		return "csv"
	case format.KindTable:
		return "table"
	case format.KindXML:
		words = append(words, "xml")
	}
	for _, fw := range []struct {
		flag format.TextFlags
		name string
	}{
		{format.FlagExtended, "extended"},
		{format.FlagID, "id"},
		{format.FlagKTimestamp, "ktimestamp"},
		{format.FlagTime, "timestamp"},
	} {
		if s.Flags&fw.flag != 0 {
			words = append(words, fw.name)
		}
	}
	if len(words) == 0 {
		return "text"
	}
	return strings.Join(words, ",")
}
