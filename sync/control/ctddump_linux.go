package control

import (
	"context"
	"strconv"
	"time"

	"ctq/engine"
	"ctq/engine/format"
)

// ctdHidden are the attributes conntrackd's cache dumps leave out: its
// caches keep no timeout, use count or counters of an entry.
const ctdHidden = engine.HasTimeout | engine.HasUse | engine.HasCounters | engine.HasStart | engine.HasStop

// ctdFlow is f as conntrackd's caches hold it: without ctdHidden, with a
// mark (0 when none came); an entry of the external cache has no reply
// tuple (the peer does not send it) and no ID.
func ctdFlow(f *engine.Flow, external bool) engine.Flow {
	c := *f
	c.Has &^= ctdHidden
	c.Has |= engine.HasMark
	if external {
		c.Has &^= engine.HasReply | engine.HasID
	}
	return c
}

// appendCtdFlow appends one line of `conntrackd -i` or `-e`: conntrack's
// text line of the cached entry, then " [active since Ns]" (the time since
// the entry entered the cache).
func appendCtdFlow(buf []byte, f *engine.Flow, external bool, active time.Duration) []byte {
	c := ctdFlow(f, external)
	return appendActive(format.AppendText(buf, &c, format.EventNone, 0, nil), active)
}

// age is how long an entry created at created has been in its cache; 0
// when the time is unknown (a kernel entry without timestamps).
func age(now, created time.Time) time.Duration {
	if created.IsZero() {
		return 0
	}
	return now.Sub(created)
}

// appendActive appends the " [active since Ns]" that ends a line of
// conntrackd's cache dumps.
func appendActive(buf []byte, active time.Duration) []byte {
	buf = append(buf, " [active since "...)
	buf = strconv.AppendInt(buf, int64(max(active, 0)/time.Second), 10)
	return append(buf, "s]"...)
}

// appendCtdFlowXML appends one line of `conntrackd -i -x` or `-e -x`: the
// <flow> element alone (conntrackd writes no document around them).
func appendCtdFlowXML(buf []byte, f *engine.Flow, external bool) []byte {
	c := ctdFlow(f, external)
	return format.AppendXML(buf, &c, format.EventNone, 0, nil)
}

// ctdDump streams a cache as conntrackd's -i/-e (xml: -x) do.
func (s *Server) ctdDump(ctx context.Context, external, xml bool, out *plainLines) error {
	now := time.Now()
	var buf []byte
	return s.node.DumpFlows(ctx, external, func(f *engine.Flow, created time.Time) error {
		if xml {
			buf = appendCtdFlowXML(buf[:0], f, external)
		} else {
			buf = appendCtdFlow(buf[:0], f, external, age(now, created))
		}
		return out.line(string(buf))
	})
}

// ctdExpect is an expectation as conntrackd's caches hold it: without
// its timeout and ID.
func ctdExpect(x *engine.Expect) engine.Expect {
	c := *x
	c.Has &^= engine.HasExpTimeout | engine.HasExpID
	return c
}

// appendCtdExpect appends one line of `conntrackd -i expect` or
// `-e expect`: conntrack's expect line of the cached expectation, then
// " [active since Ns]".
func appendCtdExpect(buf []byte, x *engine.Expect, active time.Duration) []byte {
	c := ctdExpect(x)
	return appendActive(format.AppendExpect(buf, &c, format.EventNone, nil), active)
}

// appendCtdExpectXML appends one line of `conntrackd -i expect -x`: the
// <flow> element alone.
func appendCtdExpectXML(buf []byte, x *engine.Expect) []byte {
	c := ctdExpect(x)
	return format.AppendExpectXML(buf, &c, format.EventNone, 0, nil)
}

// ctdDumpExpect writes an expectation cache as conntrackd's -i/-e expect
// (xml: -x) do.
func (s *Server) ctdDumpExpect(ctx context.Context, external, xml bool, out *plainLines) error {
	get := s.node.InternalExpect
	if external {
		get = s.node.ExternalExpect
	}
	entries, err := get(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	var buf []byte
	for i := range entries {
		e := &entries[i]
		if xml {
			buf = appendCtdExpectXML(buf[:0], &e.Expect)
		} else {
			buf = appendCtdExpect(buf[:0], &e.Expect, age(now, e.Created))
		}
		if err := out.line(string(buf)); err != nil {
			return err
		}
	}
	return nil
}
