// Package snapshot is an engine.Source over a saved conntrack table: a file
// of conntrack's save lines (`conntrack -L -o save`), its text or extended
// lines (`conntrack -L`, `-o extended`, with or without `-o id,ktimestamp,
// labels`), or ctq's JSON lines. It only reads the file, so it needs no
// privilege.
//
// What a format cannot carry stays unset (its Has bit clear, or zero):
//   - save lines hold no mark (unless a hand-written -m), counters,
//     timestamps, helper, use, id, secctx or labels;
//   - text lines hold no status word for most bits: the status is rebuilt
//     as CONFIRMED (a listed entry is confirmed), SEEN_REPLY unless
//     [UNREPLIED], and the one of ASSURED, OFFLOAD, HW_OFFLOAD that
//     conntrack printed (it prints only the highest, so an offloaded entry
//     does not show ASSURED); SEQ_ADJUST, the *_NAT_DONE bits, DYING,
//     FIXED_TIMEOUT, TEMPLATE, HELPER and EXPECTED cannot be recovered;
//     neither can SCTP vtags or the DCCP role;
//   - in both conntrack formats SRC_NAT and DST_NAT are derived from the
//     tuples the way conntrack's own -n/-g filters decide: DST_NAT when the
//     reply source differs from the original destination (address, or port
//     for protocols with ports), SRC_NAT when the reply destination differs
//     from the original source; each with its *_NAT_DONE bit.
//
// A text line's delta-time= sets Age and, without [start=...], Start =
// now - delta-time; [start=...] and [stop=...] are read in local time (as
// conntrack prints them with ctime). labels= names are mapped to bits with
// the connlabel.conf of this machine (or Options.Labels).
package snapshot

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"ctq/internal/quote"

	"ctq/engine"
)

// maxLine bounds one line of a snapshot file.
const maxLine = 16 << 20

// Options configure a Snapshot.
type Options struct {
	// Now gives the time that delta-time= counts back from (text format);
	// nil means time.Now.
	Now func() time.Time
	// Labels maps label bits to names (as engine.LoadConnlabels returns
	// them) for the labels= of text lines; nil reads connlabel.conf when a
	// line has labels.
	Labels map[int]string
}

// Snapshot is a Source over a saved table. Scans of one Snapshot must not
// run concurrently.
type Snapshot struct {
	name string
	// file is the open file (os.Stdin for "-"); r is what scans read:
	// file itself, or another reader for streams.
	file *os.File
	r    io.Reader
	// once is set for standard input and other files that cannot be
	// re-read (pipes, FIFOs); used records that their one pass is taken.
	once   bool
	used   bool
	format fileFormat
	opts   Options
	// labelBits maps label names to bits, loaded on first use.
	labelBits map[string]int
}

// Snapshot is a Source.
var _ engine.Source = (*Snapshot)(nil)

// LineError is a bad line of a snapshot file.
type LineError struct {
	File string
	// Line and Col are 1-based; Col is the byte column in the line.
	Line, Col int
	Msg       string
}

// Error renders "FILE:LINE:COL: MSG", control characters escaped (\x1b).
func (e *LineError) Error() string {
	return quote.Escape(fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg))
}

// Open opens a saved table; path "-" is standard input. The format is
// detected from the first line that is not blank, a "#" comment or
// conntrack's trailing summary: conntrack save lines start with "-",
// text or extended lines with a protocol name or ipv4/ipv6, ctq JSON lines
// with "{". For a regular file Open reads up to that line to check it.
func Open(path string, opts *Options) (*Snapshot, error) {
	if path == "-" {
		s := newStream("stdin", os.Stdin, opts)
		s.file = os.Stdin
		return s, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	s := newStream(path, f, opts)
	s.file = f
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open snapshot: %w", err)
	}
	if !st.Mode().IsRegular() {
		return s, nil
	}
	s.once = false
	if err := s.detect(); err != nil {
		f.Close()
		return nil, err
	}
	return s, nil
}

// newStream returns a Snapshot that reads r once.
func newStream(name string, r io.Reader, opts *Options) *Snapshot {
	s := &Snapshot{name: name, r: r, once: true}
	if opts != nil {
		s.opts = *opts
	}
	if s.opts.Now == nil {
		s.opts.Now = time.Now
	}
	return s
}

// detect reads a regular file up to its first entry line to learn the
// format.
func (s *Snapshot) detect() error {
	sc := newScanner(s.file)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Bytes()
		if skipLine(line) {
			continue
		}
		ff, col, msg := detectFormat(line)
		if ff == formatNone {
			return &LineError{File: s.name, Line: n, Col: col, Msg: msg}
		}
		s.format = ff
		break
	}
	if err := sc.Err(); err != nil {
		return s.readError(err, n)
	}
	return nil
}

// rewind readies the file for a scan.
func (s *Snapshot) rewind() error {
	if s.once {
		if s.used {
			return fmt.Errorf("snapshot %s: it can be read only once (save it to a file to query it again)", s.name)
		}
		s.used = true
		return nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("snapshot %s: rewind: %w", s.name, err)
	}
	return nil
}

// newScanner returns a line scanner with room for long lines.
func newScanner(r io.Reader) *bufio.Scanner {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 16<<10), maxLine)
	return sc
}

// readError describes a read failure after line n.
func (s *Snapshot) readError(err error, n int) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return &LineError{File: s.name, Line: n + 1, Col: 1, Msg: fmt.Sprintf("line longer than %d bytes", maxLine)}
	}
	return fmt.Errorf("snapshot %s: read: %w", s.name, err)
}

// Scan calls yield for each entry of the file, in file order. Only the
// conntrack table exists in a snapshot. The filter's family, mark, status,
// zone and tuple fields (except the tuple zones) are applied; ScanStats.
// Pushed says so. A bad line ends the scan with a *LineError; entries
// before it have been yielded.
func (s *Snapshot) Scan(ctx context.Context, table engine.Table, filter *engine.KernelFilter, yield func(*engine.Flow) error) (engine.ScanStats, error) {
	var st engine.ScanStats
	if table != engine.TableConntrack {
		return st, fmt.Errorf("snapshot %s: holds only the conntrack table, not %s", s.name, table)
	}
	if err := s.rewind(); err != nil {
		return st, err
	}
	st.Pushed = pushable(filter)
	now := s.opts.Now().Round(0)
	sc := newScanner(s.r)
	var f engine.Flow
	n := 0
	for sc.Scan() {
		n++
		if n%64 == 0 {
			if err := ctx.Err(); err != nil {
				return st, err
			}
		}
		line := sc.Bytes()
		if skipLine(line) {
			continue
		}
		if err := s.decode(line, &f, now); err != nil {
			var pe *posError
			if errors.As(err, &pe) {
				return st, &LineError{File: s.name, Line: n, Col: pe.col, Msg: pe.msg}
			}
			return st, err
		}
		if !match(&f, &st.Pushed) {
			continue
		}
		st.Received++
		if err := yield(&f); err != nil {
			return st, err
		}
	}
	if err := sc.Err(); err != nil {
		return st, s.readError(err, n)
	}
	return st, ctx.Err()
}

// errFound stops the scan of Get once the entry is found.
var errFound = errors.New("found")

// Get scans the file for the entry whose original tuple and zone equal
// key's (addresses, protocol, ports or ICMP type, code and id, and the
// original-direction zone), and returns a copy of it. On standard input it
// takes the one scan there is.
func (s *Snapshot) Get(ctx context.Context, key *engine.Flow) (*engine.Flow, error) {
	var found *engine.Flow
	_, err := s.Scan(ctx, engine.TableConntrack, nil, func(f *engine.Flow) error {
		if sameOrig(f, key) {
			c := *f
			found = &c
			return errFound
		}
		return nil
	})
	if err != nil && !errors.Is(err, errFound) {
		return nil, err
	}
	if found == nil {
		return nil, engine.ErrNotFound
	}
	return found, nil
}

// Close closes the file (standard input stays open).
func (s *Snapshot) Close() error {
	if s.file == nil || s.file == os.Stdin {
		return nil
	}
	if err := s.file.Close(); err != nil {
		return fmt.Errorf("snapshot %s: close: %w", s.name, err)
	}
	return nil
}

// sameOrig reports whether f's original tuple and zone are key's.
func sameOrig(f, key *engine.Flow) bool {
	if f.ProtoNum != key.ProtoNum || f.Src != key.Src || f.Dst != key.Dst || origZone(f) != origZone(key) {
		return false
	}
	switch {
	case engine.HasPorts(f.ProtoNum):
		return f.Sport == key.Sport && f.Dport == key.Dport
	case f.ProtoNum == engine.ProtoICMP || f.ProtoNum == engine.ProtoICMPv6:
		return f.ICMPType == key.ICMPType && f.ICMPCode == key.ICMPCode && f.ICMPID == key.ICMPID
	}
	return true
}

// origZone is the zone of the original direction: the directional zone
// when there is one, else the entry's zone.
func origZone(f *engine.Flow) int {
	if f.Has&engine.HasOrigZone != 0 {
		return f.OrigZone
	}
	return f.Zone
}
