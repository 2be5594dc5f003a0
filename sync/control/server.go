package control

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"ctq/engine/format"
	"ctq/sync/cache"
	"ctq/sync/node"
)

const (
	// requestTimeout bounds how long the server waits for a request line.
	requestTimeout = 5 * time.Second
	// replyTimeout bounds how long the server waits for a client to take
	// its reply.
	replyTimeout = 30 * time.Second
)

// Node is what the server asks: a *node.Node.
type Node interface {
	Internal(ctx context.Context) ([]cache.Entry, error)
	External(ctx context.Context) ([]cache.Entry, error)
	RequestResync(ctx context.Context) error
	FlushCaches(ctx context.Context, internal, external bool) error
	Stats(ctx context.Context) (node.Stats, error)
	Commit(ctx context.Context) (node.CommitResult, error)
}

// Server answers requests on a control socket.
type Server struct {
	ln   *net.UnixListener
	path string
	node Node
	stop func()
}

// Listen opens the control socket at path for n; stop is called after a
// stop request is answered. A socket file left by a node that is gone is
// replaced; one a node still answers on is an error.
func Listen(path string, n Node, stop func()) (*Server, error) {
	if c, err := net.DialTimeout("unix", path, time.Second); err == nil {
		c.Close()
		return nil, fmt.Errorf("control socket %s: a sync node is already running there", path)
	}
	if fi, err := os.Lstat(path); err == nil {
		if fi.Mode()&os.ModeSocket == 0 {
			return nil, fmt.Errorf("control socket %s: the path exists and is not a socket", path)
		}
		if err := os.Remove(path); err != nil {
			return nil, fmt.Errorf("control socket %s: remove the stale socket: %w", path, err)
		}
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("control socket: %w", err)
	}
	// Close removes the file (the listener unlinks what it created).
	ln.SetUnlinkOnClose(true)
	return &Server{ln: ln, path: path, node: n, stop: stop}, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Serve answers requests until ctx ends, then closes the socket (removing
// its file) and waits for the requests in progress.
func (s *Server) Serve(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		<-ctx.Done()
		s.ln.Close()
	}()
	for {
		c, err := s.ln.AcceptUnix()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("control socket %s: accept: %w", s.path, err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.handle(ctx, c)
		}()
	}
}

// handle answers one connection's request.
func (s *Server) handle(ctx context.Context, c *net.UnixConn) {
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(requestTimeout))
	line, err := readLine(bufio.NewReaderSize(c, MaxRequest), MaxRequest)
	if err != nil {
		writeErr(c, fmt.Errorf("read request: %w", err))
		return
	}
	req, err := ParseRequest(line)
	if err != nil {
		writeErr(c, err)
		return
	}
	body, err := s.answer(ctx, req)
	if err != nil {
		writeErr(c, err)
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "OK %d\n", len(body))
	for _, l := range body {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	c.SetWriteDeadline(time.Now().Add(replyTimeout))
	c.Write(b.Bytes())
	if req.Verb == VerbStop && s.stop != nil {
		s.stop()
	}
}

// writeErr sends an ERR reply (on one line).
func writeErr(c net.Conn, err error) {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	c.SetWriteDeadline(time.Now().Add(replyTimeout))
	fmt.Fprintf(c, "ERR %s\n", msg)
}

// answer runs a request and returns the reply's body lines.
func (s *Server) answer(ctx context.Context, req Request) ([]string, error) {
	switch req.Verb {
	case VerbStatus:
		st, err := s.node.Stats(ctx)
		if err != nil {
			return nil, err
		}
		return StatusLines(&st), nil
	case VerbCommit:
		res, err := s.node.Commit(ctx)
		if err != nil {
			return nil, err
		}
		return CommitLines(&res), nil
	case VerbFlush:
		return nil, s.node.FlushCaches(ctx, true, true)
	case VerbResync:
		return nil, s.node.RequestResync(ctx)
	case VerbDump:
		get := s.node.Internal
		if req.Arg == "external" {
			get = s.node.External
		}
		entries, err := get(ctx)
		if err != nil {
			return nil, err
		}
		return dumpLines(entries)
	case VerbStop:
		return nil, nil
	}
	return nil, errors.New("unknown request")
}

// dumpLines renders cache entries in conntrack's text format.
func dumpLines(entries []cache.Entry) ([]string, error) {
	var b bytes.Buffer
	w, err := format.New("text", &b, format.Options{})
	if err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	for i := range entries {
		if err := w.Write(&entries[i].Flow); err != nil {
			return nil, fmt.Errorf("dump: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return nil, fmt.Errorf("dump: %w", err)
	}
	return splitLines(b.String()), nil
}

// splitLines splits text into lines, without a last empty one.
func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
