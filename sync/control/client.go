package control

import (
	"bufio"
	"context"
	"fmt"
	"net"
)

// Stream sends req to the node listening at path and calls fn with each
// line of the reply's body as it arrives (a dump of a large cache is never
// held whole); an ERR reply is a *RemoteError.
func Stream(ctx context.Context, path string, req Request, fn func(line string) error) error {
	if _, err := ParseRequest(req.String()); err != nil {
		return err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return fmt.Errorf("connect to the sync node (is it running?): %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := fmt.Fprintf(c, "%s\n", req); err != nil {
		return fmt.Errorf("send %s request: %w", req.Verb, err)
	}
	err = readReply(bufio.NewReader(c), fn)
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// Do is Stream for a short reply: it returns the body's lines.
func Do(ctx context.Context, path string, req Request) ([]string, error) {
	var body []string
	err := Stream(ctx, path, req, func(line string) error {
		body = append(body, line)
		return nil
	})
	return body, err
}
