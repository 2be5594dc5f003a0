package engine

import (
	"errors"
	"fmt"
	"sync"

	"github.com/mdlayher/netlink"
)

// Subscription is the group membership of a running watch: Watch hands it
// to WatchConfig.Subscribed. Leaving a group stops the kernel from even
// building the events of that type while nobody else listens (it checks
// for listeners per group), which is what a bulk write of the caller's own
// (a sync commit) gains from; the events of that time are lost, so the
// caller reads the table again afterwards. Its methods are safe to call
// from any goroutine while the watch runs.
type Subscription struct {
	mu         sync.Mutex
	c          *netlink.Conn
	table      Table
	joined     EventMask
	readBuffer int
}

// ReadBuffer is the receive buffer the kernel granted the watch's socket,
// in bytes.
func (s *Subscription) ReadBuffer() int {
	return s.readBuffer
}

// Joined returns the event types the watch receives.
func (s *Subscription) Joined() EventMask {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joined
}

// Leave stops the delivery of the event types of m. It refuses to leave
// every group: with net.netfilter.nf_conntrack_events at its default (2),
// the kernel gives new entries no event record while no socket listens to
// any conntrack group, and such entries never report a change, not even
// after the watch joins again.
func (s *Subscription) Leave(m EventMask) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.joined&^m == 0 {
		return errors.New("watch events: leave every group: new entries would get no event record")
	}
	return s.change(m&s.joined, false)
}

// Join (re)starts the delivery of the event types of m.
func (s *Subscription) Join(m EventMask) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.change(m&^s.joined, true)
}

// change joins or leaves the groups of m, one by one, and records each.
func (s *Subscription) change(m EventMask, join bool) error {
	for _, t := range []EventType{EventNew, EventUpdate, EventDestroy} {
		if m&t == 0 {
			continue
		}
		groups, err := watchGroups(&WatchConfig{Table: s.table, Events: t})
		if err != nil {
			return fmt.Errorf("watch events: %w", err)
		}
		if join {
			err = s.c.JoinGroup(groups[0])
		} else {
			err = s.c.LeaveGroup(groups[0])
		}
		if err != nil {
			return kernelError(fmt.Sprintf("watch events: change membership of group %d", groups[0]), err)
		}
		if join {
			s.joined |= t
		} else {
			s.joined &^= t
		}
	}
	return nil
}
