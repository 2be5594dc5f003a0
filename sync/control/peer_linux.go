package control

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// peerUID is the user ID of the process at the other end of c
// (SO_PEERCRED: the credentials it connected with).
func peerUID(c *net.UnixConn) (uint32, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, err
	}
	var (
		cred *unix.Ucred
		gerr error
	)
	if err := raw.Control(func(fd uintptr) {
		cred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, err
	}
	if gerr != nil {
		return 0, fmt.Errorf("SO_PEERCRED: %w", gerr)
	}
	return cred.Uid, nil
}

// allowed reports whether a client of user uid may use the socket: root,
// and the user the node runs as.
func (s *Server) allowed(uid uint32) bool {
	return uid == 0 || uid == s.uid
}

// checkPeer refuses c unless its peer is allowed: it answers with an
// error in the client's protocol (an ERR reply, or an ERROR: line for
// conntrackd's client), counts and logs the refusal, and reports false.
func (s *Server) checkPeer(c *net.UnixConn, br *bufio.Reader) bool {
	uid, err := peerUID(c)
	var msg string
	switch {
	case err != nil:
		msg = fmt.Sprintf("permission denied: cannot tell the client's user (%v)", err)
	case s.allowed(uid):
		return true
	default:
		msg = fmt.Sprintf("permission denied: uid %d may not use the control socket of this sync node (root and uid %d only)", uid, s.uid)
	}
	s.refused.Add(1)
	if s.log != nil {
		s.log(slog.LevelWarn, "control socket "+s.path+": "+msg)
	}
	c.SetWriteDeadline(time.Now().Add(replyTimeout))
	if first, err := br.Peek(1); err == nil && first[0] < 'a' {
		fmt.Fprintf(c, "ERROR: %s\n", msg)
	} else {
		fmt.Fprintf(c, "ERR %s\n", msg)
	}
	return false
}

// Refused is how many connections the server refused (a client of a
// user other than root and the node's).
func (s *Server) Refused() uint64 { return s.refused.Load() }

// SetLog sets where the server logs refused connections (the node's log);
// call it before Serve.
func (s *Server) SetLog(log func(level slog.Level, msg string)) { s.log = log }

// restrict makes the socket file at path 0600 (whatever the umask was at
// bind; a client that connected before is still checked by checkPeer).
func restrict(path string) error {
	return os.Chmod(path, 0o600)
}
