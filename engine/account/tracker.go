package account

import "ctq/engine"

// destroyTracker writes the destroy events the condition selects, and
// forgets the entry of every destroy event.
type destroyTracker struct {
	w     engine.EventWriter
	known *state
}

// WriteEvent forgets ev's entry and writes ev if it is selected.
func (d *destroyTracker) WriteEvent(ev *engine.Event) error {
	if ev.Flow == nil {
		return nil
	}
	d.known.forget(ev.Flow.ID)
	if m := d.known.match; m != nil {
		if ok, err := m(ev.Flow); err != nil || !ok {
			return err
		}
	}
	return d.w.WriteEvent(ev)
}

// Flush flushes the log.
func (d *destroyTracker) Flush() error { return d.w.Flush() }
