//go:build linux

package link

import "net"

// Connections reports whether the link's two connections are up: server,
// the peer's connection this node accepted (what the peer sends); client,
// this node's connection to the peer (what it sends). conntrackd's -s
// shows them as server=connected client=connected.
func (t *TCP) Connections() (server, client bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.srv != nil, t.out != nil
}

// dropServer forgets the accepted connection c once Recv found it closed
// (unless a newer one replaced it meanwhile).
func (t *TCP) dropServer(c net.Conn) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.srv == c {
		t.srv = nil
	}
}

// connectionsOf reports l's connections if it is a TCP link.
func connectionsOf(l Link) (server, client, ok bool) {
	t, ok := l.(*TCP)
	if !ok {
		return false, false, false
	}
	server, client = t.Connections()
	return server, client, true
}
