//go:build linux

package ctnetlink

import (
	"errors"
	"fmt"
	"sync"

	"github.com/mdlayher/netlink"

	"ctq/engine"
)

// subscription is the engine.Subscription of a watch on a netlink socket:
// it joins and leaves the socket's multicast groups.
type subscription struct {
	mu         sync.Mutex
	c          *netlink.Conn
	table      engine.Table
	joined     engine.EventMask
	readBuffer int
}

// ReadBuffer is the receive buffer the kernel granted the watch's socket,
// in bytes.
func (s *subscription) ReadBuffer() int {
	return s.readBuffer
}

// Joined returns the event types the watch receives.
func (s *subscription) Joined() engine.EventMask {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.joined
}

// Leave stops the delivery of the event types of m. It refuses to leave
// every group: with net.netfilter.nf_conntrack_events at its default (2),
// the kernel gives new entries no event record while no socket listens to
// any conntrack group, and such entries never report a change, not even
// after the watch joins again.
func (s *subscription) Leave(m engine.EventMask) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.joined&^m == 0 {
		return errors.New("watch events: leave every group: new entries would get no event record")
	}
	return s.change(m&s.joined, false)
}

// Join (re)starts the delivery of the event types of m.
func (s *subscription) Join(m engine.EventMask) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.change(m&^s.joined, true)
}

// change joins or leaves the groups of m, one by one, and records each.
func (s *subscription) change(m engine.EventMask, join bool) error {
	for _, t := range []engine.EventType{engine.EventNew, engine.EventUpdate, engine.EventDestroy} {
		if m&t == 0 {
			continue
		}
		groups, err := watchGroups(&engine.WatchConfig{Table: s.table, Events: t})
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
