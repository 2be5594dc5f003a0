package control

import (
	"bufio"
	"context"
	"fmt"
	"net"
)

// Do sends req to the node listening at path and returns the reply's body
// lines; an ERR reply is a *RemoteError.
func Do(ctx context.Context, path string, req Request) ([]string, error) {
	if _, err := ParseRequest(req.String()); err != nil {
		return nil, err
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, fmt.Errorf("connect to the sync node (is it running?): %w", err)
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if _, err := fmt.Fprintf(c, "%s\n", req); err != nil {
		return nil, fmt.Errorf("send %s request: %w", req.Verb, err)
	}
	body, err := readReply(bufio.NewReader(c))
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return body, err
}
