package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"
)

// Timeouts of a request when Client.Timeout is zero: how long the client
// waits for the node to take the request, and then for each piece of the
// reply (an idle deadline, reset whenever some of the reply arrives: a
// long dump that keeps coming never times out). The requests that work
// on the whole kernel table before they answer (commit, refresh, flush
// kernel, bulk) wait LongTimeout for the first piece.
const (
	DefaultTimeout = 30 * time.Second
	LongTimeout    = 10 * time.Minute
)

// Client sends requests to the node listening on a control socket.
type Client struct {
	// Path is the control socket's path.
	Path string
	// Timeout, when not zero, is the request's idle deadline in place of
	// DefaultTimeout and LongTimeout.
	Timeout time.Duration
}

// TimeoutError is a request the node did not answer in time (a stalled
// node).
type TimeoutError struct {
	Path  string
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("sync node at %s did not answer within %s", e.Path, e.After)
}

// Timeout reports true (net.Error's method).
func (e *TimeoutError) Timeout() bool { return true }

// timeout is the idle deadline of req.
func (c Client) timeout(req Request) time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	switch req.Verb {
	case VerbCommit, VerbRefresh, VerbBulk:
		return LongTimeout
	case VerbFlush:
		if strings.HasPrefix(req.Arg, "kernel") {
			return LongTimeout
		}
	}
	return DefaultTimeout
}

// Stream sends req to the node listening at path and calls fn with each
// line of the reply's body as it arrives (a dump of a large cache is never
// held whole); an ERR reply is a *RemoteError, a node that stops
// answering a *TimeoutError.
func Stream(ctx context.Context, path string, req Request, fn func(line string) error) error {
	return Client{Path: path}.Stream(ctx, req, fn)
}

// Stream sends req to the node and calls fn with each line of the
// reply's body as it arrives; see the package function Stream.
func (cl Client) Stream(ctx context.Context, req Request, fn func(line string) error) error {
	if _, err := ParseRequest(req.String()); err != nil {
		return err
	}
	timeout := cl.timeout(req)
	d := net.Dialer{Timeout: timeout}
	c, err := d.DialContext(ctx, "unix", cl.Path)
	if err != nil {
		if ctx.Err() == nil && errors.Is(err, os.ErrDeadlineExceeded) {
			return &TimeoutError{Path: cl.Path, After: timeout}
		}
		return fmt.Errorf("connect to the sync node (is it running?): %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	c.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := fmt.Fprintf(c, "%s\n", req); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return &TimeoutError{Path: cl.Path, After: timeout}
		}
		return fmt.Errorf("send %s request: %w", req.Verb, err)
	}
	err = readReply(bufio.NewReader(&idleReader{c: c, idle: timeout}), fn)
	switch {
	case err != nil && ctx.Err() != nil:
		return ctx.Err()
	case errors.Is(err, os.ErrDeadlineExceeded):
		return &TimeoutError{Path: cl.Path, After: timeout}
	}
	return err
}

// idleReader reads c with a deadline of idle from each read on: the
// time the node takes to send more, not the time the caller takes with
// what it got.
type idleReader struct {
	c    net.Conn
	idle time.Duration
}

func (r *idleReader) Read(p []byte) (int, error) {
	r.c.SetReadDeadline(time.Now().Add(r.idle))
	return r.c.Read(p)
}

// Do is Stream for a short reply: it returns the body's lines.
func Do(ctx context.Context, path string, req Request) ([]string, error) {
	return Client{Path: path}.Do(ctx, req)
}

// Do is Stream for a short reply: it returns the body's lines.
func (cl Client) Do(ctx context.Context, req Request) ([]string, error) {
	var body []string
	err := cl.Stream(ctx, req, func(line string) error {
		body = append(body, line)
		return nil
	})
	return body, err
}
