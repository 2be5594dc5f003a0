package repl

import (
	"fmt"
	"io"
	"time"
)

// progress shows a running count on stderr while a long mutation runs,
// when stderr is a terminal; elsewhere it prints nothing.
type progress struct {
	w     io.Writer
	verb  string
	last  time.Time
	shown bool
}

// newProgress returns a progress display for verb ("deleting"), or nil
// when w is not a terminal.
func newProgress(w io.Writer, verb string) *progress {
	if !isTerminal(w) {
		return nil
	}
	return &progress{w: w, verb: verb, last: time.Now()}
}

// update shows n, at most ten times a second and only once the work has
// taken a moment.
func (p *progress) update(n int) {
	if now := time.Now(); now.Sub(p.last) >= 100*time.Millisecond {
		p.last = now
		p.shown = true
		fmt.Fprintf(p.w, "\r%s: %d entries", p.verb, n)
	}
}

// done clears the display.
func (p *progress) done() {
	if p.shown {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// callback is update as an engine.ExecOptions.Progress, nil without a
// display.
func (p *progress) callback() func(int) {
	if p == nil {
		return nil
	}
	return p.update
}
