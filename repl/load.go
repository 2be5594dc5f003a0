package repl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"ctq/internal/quote"

	"ctq/engine"
	"ctq/engine/format"
	"ctq/engine/savefmt"
	"ctq/lang"
)

// LoadError is a line of a load file that does not parse; nothing of the
// file was applied.
type LoadError struct {
	File string
	Line int
	Err  error
}

func (e *LoadError) Error() string {
	var se *savefmt.Error
	if errors.As(e.Err, &se) {
		return quote.Escape(fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, se.Col, se.Msg))
	}
	return quote.Escape(fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err))
}

func (e *LoadError) Unwrap() error { return e.Err }

// load applies a conntrack -R file: every line is parsed first, and only
// a file without errors is applied, in order: -A/-I create, -U updates and
// -D deletes the entry of the line's original tuple, -F flushes. Lines are
// sent in batches.
func (s *Session) load(ctx context.Context, st *lang.LoadStep) error {
	src, err := s.source()
	if err != nil {
		return err
	}
	formatName := s.cfg.Format
	name, open, err := loadInput(st.Path)
	if err != nil {
		return err
	}
	lines := 0
	if err := eachLoadLine(name, open, func(*savefmt.Line) error { lines++; return nil }); err != nil {
		return err
	}
	m, ok := src.(engine.Mutator)
	if !ok {
		return errors.New("load: this source cannot be changed (a saved table is read-only)")
	}
	prog := newProgress(s.cfg.Stderr, "loading")
	var total engine.BatchStats
	b, err := m.NewBatch(ctx)
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	closeBatch := func() error {
		st, err := b.Close()
		total.Done += st.Done
		total.Gone += st.Gone
		total.Failed += st.Failed
		total.Unknown += st.Unknown
		total.Errors = append(total.Errors, st.Errors...)
		return err
	}
	queued := 0
	err = eachLoadLine(name, open, func(l *savefmt.Line) error {
		var err error
		switch l.Cmd {
		case savefmt.CmdAdd, savefmt.CmdCreate:
			err = b.Create(&l.Flow)
		case savefmt.CmdDelete:
			err = b.Delete(&l.Flow)
		case savefmt.CmdUpdate:
			err = b.Update(&l.Flow, lineChange(l))
		case savefmt.CmdFlush:
			if err = closeBatch(); err != nil {
				return err
			}
			if err = m.Flush(ctx, engine.TableConntrack, l.Flow.L3Num()); err != nil {
				return err
			}
			total.Done++
			b, err = m.NewBatch(ctx)
		}
		queued++
		if prog != nil {
			prog.update(queued)
		}
		return err
	})
	if cerr := closeBatch(); err == nil {
		err = cerr
	}
	if prog != nil {
		prog.done()
	}
	if err != nil {
		return fmt.Errorf("load %s: %w", name, err)
	}
	if perr := s.loadSummary(name, lines, total, formatName); perr != nil {
		return perr
	}
	if total.Failed+total.Unknown > 0 {
		return &engine.MutationError{Op: "load " + name, Stats: total}
	}
	return nil
}

// loadSummary prints what a load did.
func (s *Session) loadSummary(name string, lines int, st engine.BatchStats, formatName string) error {
	var err error
	if format.KindOf(formatName) == format.KindJSON {
		_, err = fmt.Fprintf(s.cfg.Stdout, "{\"loaded\":%d,\"lines\":%d,\"gone\":%d,\"failed\":%d}\n", st.Done, lines, st.Gone, st.Failed+st.Unknown)
	} else {
		line := fmt.Sprintf("loaded %d of %d lines from %s", st.Done, lines, name)
		if st.Gone > 0 {
			line += fmt.Sprintf(", %d entries already gone", st.Gone)
		}
		if f := st.Failed + st.Unknown; f > 0 {
			line += fmt.Sprintf(", %d failed", f)
		}
		_, err = fmt.Fprintln(s.cfg.Stdout, line)
	}
	if err != nil {
		return fmt.Errorf("write output: %w", err)
	}
	return nil
}

// lineChange is the change an -U line asks for.
func lineChange(l *savefmt.Line) engine.Change {
	var c engine.Change
	if l.Set.Has(savefmt.FieldMark) {
		c.SetMark, c.Mark = true, uint32(l.Flow.Mark)
	}
	if l.Set.Has(savefmt.FieldTimeout) {
		c.SetTimeout, c.Timeout = true, uint32(l.Flow.Timeout)
	}
	if l.Set.Has(savefmt.FieldStatus) {
		c.SetStatus = l.Flow.Status & (engine.StatusSeenReply | engine.StatusAssured | engine.StatusFixedTimeout)
	}
	return c
}

// loadInput returns a name for messages and a way to read the file twice
// (standard input is kept in memory for the second pass).
func loadInput(path string) (string, func() (io.ReadCloser, error), error) {
	if path != "-" {
		return path, func() (io.ReadCloser, error) { return os.Open(path) }, nil
	}
	data, err := io.ReadAll(os.Stdin)
	if err != nil {
		return "", nil, fmt.Errorf("load: read standard input: %w", err)
	}
	return "<stdin>", func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, nil
}

// maxLoadLine is the longest line of a load file (a conntrack -R line is
// a few hundred bytes).
const maxLoadLine = 1 << 20

// eachLoadLine parses every line of the input and calls fn for each
// command line; blank lines and # comments are skipped. -U and -D lines
// must name one entry (its original addresses and protocol).
func eachLoadLine(name string, open func() (io.ReadCloser, error), fn func(*savefmt.Line) error) error {
	r, err := open()
	if err != nil {
		return fmt.Errorf("load: %w", err)
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLoadLine)
	n := 1
	for ; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		l, err := savefmt.Parse(text)
		if err != nil {
			return &LoadError{File: name, Line: n, Err: err}
		}
		if (l.Cmd == savefmt.CmdUpdate || l.Cmd == savefmt.CmdDelete) &&
			!l.Set.Has(savefmt.FieldSrc|savefmt.FieldDst|savefmt.FieldProto) {
			return &LoadError{File: name, Line: n, Err: fmt.Errorf("%s lines must give -s, -d and -p: ctq's load changes one entry a line", l.Cmd)}
		}
		if err := fn(&l); err != nil {
			return err
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		return &LoadError{File: name, Line: n, Err: fmt.Errorf("line longer than %d bytes", maxLoadLine)}
	} else if err != nil {
		return fmt.Errorf("load %s: %w", name, err)
	}
	return nil
}
