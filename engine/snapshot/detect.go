package snapshot

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"time"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/engine/savefmt"
)

// fileFormat is the format of a snapshot file.
type fileFormat uint8

const (
	formatNone fileFormat = iota // not known yet
	formatSave                   // conntrack -o save lines
	formatText                   // conntrack text or extended lines
	formatJSON                   // ctq json lines
)

var formatNames = [...]string{"unknown", "conntrack save", "conntrack text", "ctq JSON"}

// summaryLine matches conntrack's trailing summary, which `conntrack -L >
// file 2>&1` mixes into the file.
var summaryLine = regexp.MustCompile(`^conntrack v[0-9][0-9.]* \(conntrack-tools\): [0-9]+ flow entries have been shown\.$`)

// posError is a decoding error at a column of the line.
type posError struct {
	col int
	msg string
}

func (e *posError) Error() string {
	return fmt.Sprintf("column %d: %s", e.col, e.msg)
}

// trimLine drops a trailing carriage return and leading blanks; off is the
// number of leading bytes dropped.
func trimLine(line []byte) (rest []byte, off int) {
	line = bytes.TrimSuffix(line, []byte("\r"))
	rest = bytes.TrimLeft(line, " \t")
	return rest, len(line) - len(rest)
}

// skipLine reports whether a line holds no entry: blank, a "#" comment or
// conntrack's summary.
func skipLine(line []byte) bool {
	t, _ := trimLine(line)
	return len(t) == 0 || t[0] == '#' || summaryLine.Match(bytes.TrimRight(t, " \t"))
}

// detectFormat tells the format of an entry line; for a line of no known
// format it returns formatNone with a column and a message.
func detectFormat(line []byte) (ff fileFormat, col int, msg string) {
	t, off := trimLine(line)
	col = off + 1
	word := t
	if i := bytes.IndexAny(t, " \t"); i >= 0 {
		word = t[:i]
	}
	switch {
	case t[0] == '-':
		return formatSave, col, ""
	case t[0] == '{':
		return formatJSON, col, ""
	case slices.Contains(engine.ProtoNames, string(word)) ||
		slices.Contains([]string{"unknown", "ipv4", "ipv6"}, string(word)):
		return formatText, col, ""
	case t[0] == '[':
		return formatNone, col, "conntrack event lines (conntrack -E) are not a table; save `conntrack -L` output instead"
	case t[0] == '<':
		return formatNone, col, "XML is not supported; save `conntrack -L -o save` or `-o extended` output instead"
	}
	return formatNone, col, fmt.Sprintf("unrecognised line `%s': expected conntrack -L text or extended lines, -o save lines or ctq JSON lines", word)
}

// decode decodes one entry line into f.
func (s *Snapshot) decode(line []byte, f *engine.Flow, now time.Time) error {
	ff, col, msg := detectFormat(line)
	if ff == formatNone {
		return &posError{col, msg}
	}
	if s.format == formatNone {
		s.format = ff
	}
	if ff != s.format {
		return &posError{col, fmt.Sprintf("a %s line in a file of %s lines", formatNames[ff], formatNames[s.format])}
	}
	switch ff {
	case formatSave:
		return decodeSave(string(line), f)
	case formatText:
		return decodeText(string(bytes.TrimSuffix(line, []byte("\r"))), f, now, s.labelBit)
	}
	if err := format.DecodeJSON(line, f); err != nil {
		// DecodeJSON gives no position; its message says where.
		return &posError{col, err.Error()}
	}
	return nil
}

// labelBit maps a label name to its bit.
func (s *Snapshot) labelBit(name string) (int, error) {
	if s.labelBits == nil {
		names := s.opts.Labels
		if names == nil {
			var err error
			if names, err = engine.LoadConnlabels(); err != nil {
				return 0, err
			}
		}
		s.labelBits = make(map[string]int, len(names))
		for bit, n := range names {
			s.labelBits[n] = bit
		}
	}
	bit, ok := s.labelBits[name]
	if !ok {
		return 0, fmt.Errorf("unknown label `%s' (label names come from connlabel.conf, which has no such name here)", name)
	}
	return bit, nil
}

// decodeSave decodes a save line that describes an entry (-A, -I, -U or
// -D with both addresses of a direction, the protocol and its tuple).
func decodeSave(line string, f *engine.Flow) error {
	l, err := savefmt.Parse(line)
	if err != nil {
		var e *savefmt.Error
		if errors.As(err, &e) {
			return &posError{e.Col, e.Msg}
		}
		return err
	}
	if msg := entryProblem(&l); msg != "" {
		return &posError{firstCol(line), msg}
	}
	*f = l.Flow
	f.SetStatus(f.Status | engine.StatusConfirmed)
	deriveNAT(f)
	return nil
}

// firstCol is the column of a line's first non-blank byte.
func firstCol(line string) int {
	_, off := trimLine([]byte(line))
	return off + 1
}

// entryProblem says why a parsed save line is not an entry, or "".
func entryProblem(l *savefmt.Line) string {
	if l.Cmd == savefmt.CmdFlush {
		return "a -F line holds no entry"
	}
	set := l.Set
	orig := set.Has(savefmt.FieldSrc | savefmt.FieldDst)
	reply := (set.Has(savefmt.FieldReplySrc) || set.Has(savefmt.FieldDstNAT)) &&
		(set.Has(savefmt.FieldReplyDst) || set.Has(savefmt.FieldSrcNAT))
	if !set.Has(savefmt.FieldProto) || !orig && !reply {
		return "the line holds no entry: it needs -p and the addresses of a direction (-s and -d, or -r and -q)"
	}
	p := l.Flow.ProtoNum
	switch {
	case engine.HasPorts(p):
		if !set.Has(savefmt.FieldSport|savefmt.FieldDport) && !set.Has(savefmt.FieldReplySport|savefmt.FieldReplyDport) {
			return fmt.Sprintf("the line holds no entry: protocol %s needs the ports (keys) of a direction", l.Flow.Proto)
		}
	case p == engine.ProtoICMP || p == engine.ProtoICMPv6:
		if !set.Has(savefmt.FieldICMPType | savefmt.FieldICMPCode) {
			return fmt.Sprintf("the line holds no entry: protocol %s needs the type and code", l.Flow.Proto)
		}
	}
	return ""
}

// deriveNAT sets SRC_NAT and DST_NAT from the tuples, as conntrack's -n and
// -g filters decide them, each with its *_NAT_DONE bit (the kernel sets
// both when it sets up a translation).
func deriveNAT(f *engine.Flow) {
	const (
		snat = engine.StatusSrcNAT | engine.StatusSrcNATDone
		dnat = engine.StatusDstNAT | engine.StatusDstNATDone
	)
	st := f.Status &^ (snat | dnat)
	ports := engine.HasPorts(f.ProtoNum)
	if f.ReplySrc != f.Dst || ports && f.ReplySport != f.Dport {
		st |= dnat
	}
	if f.ReplyDst != f.Src || ports && f.ReplyDport != f.Sport {
		st |= snat
	}
	f.SetStatus(st)
}
