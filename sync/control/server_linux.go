package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"ctq/engine"
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
	DumpFlows(ctx context.Context, external bool, yield func(f *engine.Flow, created time.Time) error) error
	InternalExpect(ctx context.Context) ([]cache.ExpectEntry, error)
	ExternalExpect(ctx context.Context) ([]cache.ExpectEntry, error)
	RequestResync(ctx context.Context) error
	FlushCaches(ctx context.Context, internal, external bool) error
	FlushKernel(ctx context.Context, tables node.Tables) (int, error)
	Refresh(ctx context.Context, tables node.Tables) error
	BulkSend(ctx context.Context) error
	Purge(ctx context.Context) error
	Stats(ctx context.Context) (node.Stats, error)
	Commit(ctx context.Context, tables node.Tables) (node.CommitResult, error)
}

// Server answers requests on a control socket.
type Server struct {
	ln   *net.UnixListener
	path string
	node Node
	stop func()
	// uid is the node's user, who may use the socket besides root.
	uid uint32
	// refused counts the connections of other users.
	refused atomic.Uint64
	log     func(level slog.Level, msg string)
}

// Listen opens the control socket at path for n; stop is called after a
// stop request is answered. A socket file left by a node that is gone is
// replaced; one a node still answers on is an error.
//
// The socket file is made 0600 whatever the umask, and every connection's
// peer credentials (SO_PEERCRED) are checked: root and the node's own
// user are answered, anyone else refused with an error and counted
// (Refused, the status and metrics).
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
	if err := restrict(path); err != nil {
		ln.Close()
		return nil, fmt.Errorf("control socket: %w", err)
	}
	return &Server{ln: ln, path: path, node: n, stop: stop, uid: uint32(os.Geteuid())}, nil
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
	br := bufio.NewReaderSize(c, MaxRequest)
	if !s.checkPeer(c, br) {
		return
	}
	if first, err := br.Peek(1); err == nil && first[0] < 'a' {
		// Not a verb: conntrackd's client (conntrackd -C CONF -c ...)
		// sends a binary request code.
		s.handleConntrackd(ctx, c, br)
		return
	}
	line, err := readLine(br, MaxRequest)
	if err != nil {
		writeErr(c, fmt.Errorf("read request: %w", err))
		return
	}
	req, err := ParseRequest(line)
	if err != nil {
		writeErr(c, err)
		return
	}
	r := &replier{c: c, w: bufio.NewWriter(c)}
	err = s.answer(ctx, req, r)
	if !r.started {
		if err != nil {
			writeErr(c, err)
			return
		}
		r.start()
	}
	if err != nil {
		r.end(".ERR " + oneLine(err))
	} else {
		r.end(".")
	}
	if req.Verb == VerbStop && s.stop != nil {
		s.stop()
	}
}

// replier writes a reply: OK when the first body line comes (so that an
// error before it is a plain ERR), then the body, dot-stuffed, then the
// end line.
type replier struct {
	c       net.Conn
	w       *bufio.Writer
	started bool
}

// start writes the status line.
func (r *replier) start() {
	r.started = true
	r.w.WriteString("OK\n")
}

// line writes one body line; it fails once the client is gone or slow
// past replyTimeout.
func (r *replier) line(l string) error {
	if !r.started {
		r.start()
	}
	r.c.SetWriteDeadline(time.Now().Add(replyTimeout))
	if strings.HasPrefix(l, ".") {
		r.w.WriteByte('.')
	}
	r.w.WriteString(l)
	return r.w.WriteByte('\n')
}

// end writes the end line and flushes.
func (r *replier) end(l string) {
	r.c.SetWriteDeadline(time.Now().Add(replyTimeout))
	r.w.WriteString(l)
	r.w.WriteByte('\n')
	r.w.Flush()
}

// oneLine is an error's text on one line.
func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// writeErr sends an ERR reply (on one line).
func writeErr(c net.Conn, err error) {
	c.SetWriteDeadline(time.Now().Add(replyTimeout))
	fmt.Fprintf(c, "ERR %s\n", oneLine(err))
}

// lineWriter takes a reply's body lines.
type lineWriter interface {
	line(l string) error
}

// answer runs a request and writes the reply's body lines with r.
func (s *Server) answer(ctx context.Context, req Request, r lineWriter) error {
	lines := func(ls []string) error {
		for _, l := range ls {
			if err := r.line(l); err != nil {
				return err
			}
		}
		return nil
	}
	switch req.Verb {
	case VerbStatus:
		st, err := s.node.Stats(ctx)
		if err != nil {
			return err
		}
		if err := lines(StatusLines(&st)); err != nil {
			return err
		}
		return lines([]string{"", "control socket:", fmt.Sprintf("  connections refused: %12d   (users other than root and uid %d)", s.Refused(), s.uid)})
	case VerbCommit:
		res, err := s.node.Commit(ctx, tablesArg(req.Arg))
		if err != nil {
			return err
		}
		if err := lines(CommitLines(&res)); err != nil {
			return err
		}
		return CommitError(&res)
	case VerbFlush:
		if which, ok := strings.CutPrefix(req.Arg, "kernel"); ok {
			tables := tablesArg(strings.TrimSpace(which))
			n, err := s.node.FlushKernel(ctx, tables)
			if err != nil {
				return err
			}
			return r.line(node.FlushedText(n, tables))
		}
		switch req.Arg {
		case "internal":
			return s.node.FlushCaches(ctx, true, false)
		case "external":
			return s.node.FlushCaches(ctx, false, true)
		}
		return s.node.FlushCaches(ctx, true, true)
	case VerbResync:
		return s.node.RequestResync(ctx)
	case VerbRefresh:
		return s.node.Refresh(ctx, tablesArg(req.Arg))
	case VerbBulk:
		return s.node.BulkSend(ctx)
	case VerbPurge:
		return s.node.Purge(ctx)
	case VerbDump:
		which, expect := strings.CutSuffix(req.Arg, " expect")
		if expect {
			return s.dumpExpect(ctx, which == "external", r)
		}
		return s.dump(ctx, which == "external", r)
	case VerbMetrics:
		st, err := s.node.Stats(ctx)
		if err != nil {
			return err
		}
		for _, m := range Metrics(&st, s.Refused(), time.Now()) {
			if err := r.line(m.String()); err != nil {
				return err
			}
		}
		return nil
	case VerbStop:
		return nil
	}
	return errors.New("unknown request")
}

// dump streams a cache in conntrack's text format.
func (s *Server) dump(ctx context.Context, external bool, r lineWriter) error {
	var buf []byte
	return s.node.DumpFlows(ctx, external, func(f *engine.Flow, _ time.Time) error {
		buf = format.AppendText(buf[:0], f, format.EventNone, 0, nil)
		return r.line(string(buf))
	})
}

// dumpExpect writes an expectation cache in conntrack's expect format.
func (s *Server) dumpExpect(ctx context.Context, external bool, r lineWriter) error {
	get := s.node.InternalExpect
	if external {
		get = s.node.ExternalExpect
	}
	entries, err := get(ctx)
	if err != nil {
		return err
	}
	var buf []byte
	for i := range entries {
		buf = format.AppendExpect(buf[:0], &entries[i].Expect, format.EventNone, nil)
		if err := r.line(strings.TrimSuffix(string(buf), "\n")); err != nil {
			return err
		}
	}
	return nil
}

// tablesArg is the tables an argument of commit, refresh or flush kernel
// names: conntrack, expect, or both when empty.
func tablesArg(arg string) node.Tables {
	switch arg {
	case "conntrack":
		return node.ConntrackTable
	case "expect":
		return node.ExpectTable
	}
	return node.AllTables
}
