//go:build linux

package ctnetlink

import (
	"context"
	"sync"
)

// dumpStarts counts the dump requests of a Live source that are being
// sent. The kernel serves a dump request inside its sendmsg, under the
// mutex of its conntrack subsystem, up to the first datagram; a sparse dump
// (a filter few entries pass) walks the whole hash there. Every request of
// a batch sent meanwhile waits on that mutex in the kernel, spinning on a
// core the dump's reader and decoder need; a batch waits here instead.
type dumpStarts struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed when n drops to 0; nil while n is 0
}

// begin counts a dump request about to be sent.
func (s *dumpStarts) begin() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n == 0 {
		s.idle = make(chan struct{})
	}
	s.n++
}

// end counts a dump request sent (or failed).
func (s *dumpStarts) end() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n--; s.n == 0 {
		close(s.idle)
		s.idle = nil
	}
}

// wait returns once no dump request is being sent, or ctx is done.
func (s *dumpStarts) wait(ctx context.Context) {
	s.mu.Lock()
	idle := s.idle
	s.mu.Unlock()
	if idle == nil {
		return
	}
	select {
	case <-idle:
	case <-ctx.Done():
	}
}
