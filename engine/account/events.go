package account

import (
	"sync"

	"ctq/engine"
	"ctq/engine/format"
)

// lockedEvents serializes an EventWriter between the watch, its flush
// timer, the resync and the SIGHUP handler.
type lockedEvents struct {
	mu sync.Mutex
	w  format.EventWriter
}

// WriteEvent writes ev.
func (l *lockedEvents) WriteEvent(ev *engine.Event) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.WriteEvent(ev)
}

// Flush writes out the buffer.
func (l *lockedEvents) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Flush()
}

// reopen flushes what the old file is owed, then reopens f.
func (l *lockedEvents) reopen(f *logFile) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.w.Flush(); err != nil {
		return err
	}
	return f.reopen()
}

// close ends the output.
func (l *lockedEvents) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Close()
}
