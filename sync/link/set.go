//go:build linux

package link

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"ctq/sync/config"
	"ctq/sync/wire"
)

// recvRetry is the wait before a member link's Recv is tried again after
// an error other than a closed link.
const recvRetry = 100 * time.Millisecond

// Set is several dedicated links of one transport, as conntrackd's
// multichannel (up to config.MaxLinks): one is active and carries what
// this node sends; all of them are read. The active link changes
//   - when its interface goes down (admin down or carrier lost: not both
//     IFF_UP and IFF_RUNNING), as rtnetlink reports it: the next link, in
//     block order after the active one and wrapping, whose interface is
//     up (or that names no interface) becomes active; with none, the
//     active link stays;
//   - when a Send on it fails: the same; a datagram link (UDP, Multicast)
//     then sends the datagram again on the new active link (a TCP link
//     keeps it in its error queue, to send once connected again);
//   - whenever a datagram of valid messages arrives on another link: that
//     link becomes active, as the peer has moved to it.
//
// A datagram counts as the peer's traffic when each of its messages
// decodes (wire.Decode: the header and payload checks of conntrackd's
// receiver), and, on a link with an AuthKey, when its trailer verifies
// (each member is an Auth of its own, which drops what fails before the
// Set sees it): a stray or junk datagram sent to a backup link's port is
// handed on, for the node to count, and moves nothing. conntrackd moves
// once a message checks out (its header and, in FTFW, its sequence); the
// Set does not look at FTFW sequences. conntrackd looks for the next link from the
// first one, and takes an interface with IFF_UP or IFF_RUNNING; the Set
// goes round from the active link and wants both. A link that comes back
// up does not become active again by itself.
type Set struct {
	members    []*member
	active     atomic.Int32
	tcp        bool
	maxPayload int

	// in passes datagrams from the member readers to Recv.
	in   chan datagram
	done chan struct{}
	// watch reports the members' interfaces going up and down; nil when
	// none names an interface.
	watch *watcher
	// log gets the failovers an interface going down causes (nil: none).
	log       func(level slog.Level, msg string)
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup
}

// member is one link of a Set.
type member struct {
	link      Link
	name      string
	transport config.Transport
	ifname    string
	ifindex   int
	line      int
	// up is false while the interface is down.
	up atomic.Bool
	// flags are the interface's IFF_UP and IFF_RUNNING as last seen.
	flags atomic.Uint32
	// free hands the reader's buffer back once Recv has copied it.
	free chan []byte
}

// datagram is one datagram a member read: buf[:n] of member i.
type datagram struct {
	i   int
	buf []byte
	n   int
}

// LinkStatus is one link of a Set, as `conntrackd -s link` shows it.
type LinkStatus struct {
	// Name is the link's interface, or its local address (UDP, TCP) or
	// group (Multicast) and port when it names none.
	Name      string
	Transport config.Transport
	// Interface is the interface the block names, "" for none.
	Interface string
	// Line is the line of the link's block.
	Line int
	// Up is false while the interface is down (admin or carrier).
	Up bool
	// State is the interface's state as conntrackd's `-s link` names it:
	// StateRunning, StateNoCarrier or StateDown.
	State string
	// Active is true for the link that sends; the others are backups.
	Active bool
	Stats  Stats
	// ServerConnected and ClientConnected are a TCP link's connections
	// (TCP.Connections); false for the other transports.
	ServerConnected, ClientConnected bool
}

// Options are what OpenSetWith takes besides the link blocks.
type Options struct {
	// ErrorQueueLength is Sync's ErrorQueueLength: how many messages a
	// TCP link holds while its peer is unreachable.
	ErrorQueueLength int
	// Log, when set, gets the links' notable events, a line each: the
	// datagrams an AuthKey dropped (at most a line per link every ten
	// seconds, with the counts by reason), and, as conntrackd logs them,
	// the active link's interface going down: "device `X' becomes
	// dedicated link" or "no dedicated links available!".
	Log func(level slog.Level, msg string)
}

// OpenSet is OpenSetWith without a log.
func OpenSet(links []config.Link, errorQueueLength int) (Link, error) {
	return OpenSetWith(links, Options{ErrorQueueLength: errorQueueLength})
}

// OpenSetWith opens the dedicated links of the Sync section (all of one
// transport, at most config.MaxLinks) in the calling thread's network
// namespace; a link whose block has an AuthKey is wrapped in an Auth (the
// Auths of a node share its epoch and what it knows of the peer, and each
// sends a hello). For one link naming no interface it returns that link;
// for one naming an interface, or several, a *Set
// whose active link is first the one marked Default, else the first
// (unless its interface is down: then the next one that is up).
func OpenSetWith(links []config.Link, o Options) (Link, error) {
	errorQueueLength := o.ErrorQueueLength
	switch {
	case len(links) == 0:
		return nil, errors.New("open links: no dedicated link")
	case len(links) > config.MaxLinks:
		return nil, fmt.Errorf("open links: %d dedicated links: at most %d", len(links), config.MaxLinks)
	}
	g, err := newAuthGroup(o.Log)
	if err != nil {
		return nil, fmt.Errorf("open links: %w", err)
	}
	// One link is returned as it is, unless it names an interface: then
	// it is a Set of one, so that its interface is watched (its state
	// shown, its loss logged) as conntrackd does.
	if len(links) == 1 && links[0].Interface == "" {
		l, err := openAuthed(&links[0], errorQueueLength, g, 0, linkName(&links[0]))
		if a, ok := l.(*Auth); ok {
			a.hello()
		}
		return l, err
	}
	active := 0
	for i, l := range links {
		if l.Transport != links[0].Transport {
			return nil, fmt.Errorf("open links: %s link of line %d with %s links", l.Transport, l.Line, links[0].Transport)
		}
		if l.Default && !links[active].Default {
			active = i
		}
	}
	members := make([]*member, 0, len(links))
	closeAll := func() {
		for _, m := range members {
			m.link.Close()
		}
	}
	for i := range links {
		m, err := openMember(&links[i], errorQueueLength, g, i)
		if err != nil {
			closeAll()
			return nil, fmt.Errorf("open links: %w", err)
		}
		members = append(members, m)
	}
	var w *watcher
	for _, m := range members {
		if m.ifname != "" {
			var err error
			if w, err = openWatcher(); err != nil {
				closeAll()
				return nil, fmt.Errorf("open links: %w", err)
			}
			break
		}
	}
	// The interfaces' state is read after the watcher subscribed, so that
	// no change is missed in between.
	for _, m := range members {
		if m.ifname == "" {
			continue
		}
		ifi, err := net.InterfaceByName(m.ifname)
		if err != nil {
			w.close()
			closeAll()
			return nil, fmt.Errorf("open links: interface %s: %w", m.ifname, err)
		}
		m.ifindex = ifi.Index
		var flags uint32
		if ifi.Flags&net.FlagUp != 0 {
			flags |= unix.IFF_UP
		}
		if ifi.Flags&net.FlagRunning != 0 {
			flags |= unix.IFF_RUNNING
		}
		m.setFlags(flags)
	}
	set := newSet(members, active, w, o.Log)
	for _, m := range members {
		if a, ok := m.link.(*Auth); ok {
			a.hello()
		}
	}
	return set, nil
}

// linkName is a link's name in status and logs: its interface, else its
// local address (UDP, TCP) or group (Multicast) and port.
func linkName(l *config.Link) string {
	if l.Interface != "" {
		return l.Interface
	}
	return netip.AddrPortFrom(l.Address, uint16(l.Port)).String()
}

// openMember opens link index of a Set; g is the node's authentication
// state.
func openMember(l *config.Link, errorQueueLength int, g *authGroup, index int) (*member, error) {
	name := linkName(l)
	ln, err := openAuthed(l, errorQueueLength, g, index, name)
	if err != nil {
		return nil, err
	}
	m := &member{link: ln, name: name, transport: l.Transport, ifname: l.Interface, line: l.Line}
	m.setFlags(unix.IFF_UP | unix.IFF_RUNNING)
	return m, nil
}

// openAuthed opens link index and, when its block has an AuthKey, wraps
// it in an Auth of g: each link of a Set is authenticated on its own, so
// that a forged datagram is dropped before the Set sees it (and cannot
// make its link the active one).
func openAuthed(l *config.Link, errorQueueLength int, g *authGroup, index int, name string) (Link, error) {
	ln, err := Open(l, errorQueueLength)
	if err != nil || l.AuthKey == nil {
		return ln, err
	}
	a, err := g.newAuth(ln, l.AuthKey, index, fmt.Sprintf("%s (line %d)", name, l.Line))
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("link of line %d: %w", l.Line, err)
	}
	return a, nil
}

// newSet starts a Set of members, with members[active] active (or the next
// link that is up, when its interface is down), and its watcher w (nil for
// none), logging to log (nil: nowhere).
func newSet(members []*member, active int, w *watcher, log func(level slog.Level, msg string)) *Set {
	s := &Set{
		members:    members,
		tcp:        members[0].transport == config.TransportTCP,
		maxPayload: members[0].link.MaxPayload(),
		in:         make(chan datagram),
		done:       make(chan struct{}),
		watch:      w,
		log:        log,
	}
	s.active.Store(int32(active))
	if !members[active].up.Load() {
		// conntrackd would start on it anyway; a link without carrier
		// takes datagrams without a send error and drops them.
		s.failover(active)
	}
	for i, m := range members {
		s.maxPayload = min(s.maxPayload, m.link.MaxPayload())
		m.free = make(chan []byte, 1)
		s.wg.Add(1)
		go s.read(i, m)
	}
	if w != nil {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			w.run(s.done, s.flagsChanged)
		}()
	}
	return s
}

// read passes the datagrams of member i to Recv, one at a time, until the
// Set closes.
func (s *Set) read(i int, m *member) {
	defer s.wg.Done()
	buf := make([]byte, maxMessage)
	for {
		n, err := m.link.Recv(buf)
		if err != nil {
			if isClosed(err) {
				return
			}
			select {
			case <-time.After(recvRetry):
				continue
			case <-s.done:
				return
			}
		}
		select {
		case s.in <- datagram{i: i, buf: buf, n: n}:
		case <-s.done:
			return
		}
		select {
		case buf = <-m.free:
		case <-s.done:
			return
		}
	}
}

// setFlags records the interface's flags.
func (m *member) setFlags(flags uint32) {
	m.flags.Store(flags & (unix.IFF_UP | unix.IFF_RUNNING))
	m.up.Store(flagsUp(flags))
}

// linkChanged is flagsChanged with the flags of an interface up or down.
func (s *Set) linkChanged(ifindex int, up bool) {
	var flags uint32
	if up {
		flags = unix.IFF_UP | unix.IFF_RUNNING
	}
	s.flagsChanged(ifindex, flags)
}

// flagsChanged takes the flags of interface ifindex from rtnetlink and
// moves off the active link when its interface went down, logging it as
// conntrackd does: the link that becomes active, or that there is none
// (conntrackd logs it on each interface event while the active link is
// down; the Set when the active link goes down).
func (s *Set) flagsChanged(ifindex int, flags uint32) {
	up := flagsUp(flags)
	for i, m := range s.members {
		if m.ifindex != ifindex || m.ifname == "" {
			continue
		}
		was := m.up.Load()
		m.setFlags(flags)
		if up || int(s.active.Load()) != i {
			continue
		}
		next := s.failover(i)
		if !was || s.log == nil {
			continue
		}
		if next < 0 {
			s.log(slog.LevelError, "no dedicated links available!")
			continue
		}
		s.log(slog.LevelInfo, fmt.Sprintf("device `%s' becomes dedicated link", s.members[next].name))
	}
}

// failover makes the next link after from whose interface is up active,
// if from is still the active one, and returns the active link after it;
// -1 when no other link is up.
func (s *Set) failover(from int) int {
	for k := 1; k < len(s.members); k++ {
		i := (from + k) % len(s.members)
		if !s.members[i].up.Load() {
			continue
		}
		if s.active.CompareAndSwap(int32(from), int32(i)) {
			return i
		}
		return int(s.active.Load())
	}
	return -1
}

// Send sends b on the active link; when that fails, the next link that is
// up becomes active and (UDP, Multicast) sends b.
func (s *Set) Send(b []byte) error {
	select {
	case <-s.done:
		return fmt.Errorf("send: %w", net.ErrClosed)
	default:
	}
	i := int(s.active.Load())
	err := s.members[i].link.Send(b)
	if err == nil {
		return nil
	}
	next := s.failover(i)
	if next < 0 || s.tcp {
		return fmt.Errorf("link %s: %w", s.members[i].name, err)
	}
	if err2 := s.members[next].link.Send(b); err2 != nil {
		return fmt.Errorf("link %s: %w; link %s: %w", s.members[i].name, err, s.members[next].name, err2)
	}
	return nil
}

// Recv returns the next datagram of any link; one of valid messages makes
// that link active. Over TCP, buf must hold 65535 bytes, as for a TCP
// link.
func (s *Set) Recv(buf []byte) (int, error) {
	if s.tcp && len(buf) < maxMessage {
		return 0, fmt.Errorf("receive: a %d-byte buffer may not hold a message", len(buf))
	}
	select {
	case d := <-s.in:
		n := copy(buf, d.buf[:d.n])
		s.members[d.i].free <- d.buf
		if int(s.active.Load()) != d.i && valid(buf[:n]) {
			s.active.Store(int32(d.i))
		}
		return n, nil
	case <-s.done:
		return 0, fmt.Errorf("receive: %w", net.ErrClosed)
	}
}

// errInvalid stops valid's walk at the first message the peer's node
// would reject.
var errInvalid = errors.New("invalid message")

// valid reports whether d is traffic of a peer: one or more messages, all
// of which a node takes (wire.Decode finds nothing wrong with them). Only
// such a datagram moves the Set to the link it came from: junk or a
// stray packet sent to a backup link's port must not.
func valid(d []byte) bool {
	if len(d) == 0 {
		return false
	}
	return wire.Decode(d, func(_ *wire.Message, err error) error {
		if err != nil {
			return errInvalid
		}
		return nil
	}) == nil
}

// MaxPayload is the smallest of the links'.
func (s *Set) MaxPayload() int {
	return s.maxPayload
}

// Stats sums the links' counters.
func (s *Set) Stats() Stats {
	var t Stats
	for _, m := range s.members {
		st := m.link.Stats()
		t.SentBytes += st.SentBytes
		t.SentDatagrams += st.SentDatagrams
		t.SendErrors += st.SendErrors
		t.RecvBytes += st.RecvBytes
		t.RecvDatagrams += st.RecvDatagrams
		t.RecvErrors += st.RecvErrors
		t.RecvDropped += st.RecvDropped
		t.PeerConnects += st.PeerConnects
	}
	return t
}

// AuthStats sums the authentication counters of the links that have an
// AuthKey.
func (s *Set) AuthStats() AuthStats {
	var t AuthStats
	for _, m := range s.members {
		if a, ok := m.link.(*Auth); ok {
			t = t.plus(a.AuthStats())
		}
	}
	return t
}

// Links returns the links in block order with their state and counters.
func (s *Set) Links() []LinkStatus {
	active := int(s.active.Load())
	out := make([]LinkStatus, len(s.members))
	for i, m := range s.members {
		out[i] = LinkStatus{
			Name: m.name, Transport: m.transport, Interface: m.ifname, Line: m.line,
			Up: m.up.Load(), State: stateName(m.flags.Load()), Active: i == active, Stats: m.link.Stats(),
		}
		out[i].ServerConnected, out[i].ClientConnected, _ = connectionsOf(m.link)
	}
	return out
}

// Close closes every link and the interface watch and waits for the Set's
// goroutines; a blocked Recv returns.
func (s *Set) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		var errs []error
		for _, m := range s.members {
			if err := m.link.Close(); err != nil {
				errs = append(errs, err)
			}
		}
		if s.watch != nil {
			s.watch.close()
		}
		s.wg.Wait()
		if err := errors.Join(errs...); err != nil {
			s.closeErr = fmt.Errorf("close links: %w", err)
		}
	})
	return s.closeErr
}
