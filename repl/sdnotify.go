package repl

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// sdNotifier tells systemd about a sync node (Type=notify units): READY
// once the node runs, STOPPING when it ends, and WATCHDOG keep-alives
// when the unit has WatchdogSec. It does nothing outside systemd (no
// NOTIFY_SOCKET). conntrackd's General { Systemd on } asks for the same;
// ctq notifies whenever systemd listens.
type sdNotifier struct {
	addr string
}

// newSDNotifier reads NOTIFY_SOCKET; nil when there is none.
func newSDNotifier() *sdNotifier {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:] // an abstract socket
	}
	return &sdNotifier{addr: addr}
}

// send sends one notification.
func (s *sdNotifier) send(state string) error {
	if s == nil {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: s.addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	return nil
}

// watchdog sends WATCHDOG=1 at half the unit's WatchdogSec
// (WATCHDOG_USEC, for this process: WATCHDOG_PID) while alive returns
// nil, until ctx ends.
func (s *sdNotifier) watchdog(ctx context.Context, alive func(context.Context) error) {
	if s == nil {
		return
	}
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	if err != nil || usec <= 0 {
		return
	}
	if pid := os.Getenv("WATCHDOG_PID"); pid != "" && pid != strconv.Itoa(os.Getpid()) {
		return
	}
	t := time.NewTicker(time.Duration(usec) * time.Microsecond / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A node whose loop no longer answers gets no keep-alive, and
			// systemd restarts it.
			if alive(ctx) == nil {
				s.send("WATCHDOG=1")
			}
		}
	}
}
