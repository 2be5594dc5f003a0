package daemon

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"
)

// Notifier hears how a node is doing, as systemd's service manager does
// through sd_notify: "READY=1\nSTATUS=..." once the node runs,
// "WATCHDOG=1" keep-alives while it answers, "STOPPING=1" when it ends.
type Notifier interface {
	// Notify sends one notification.
	Notify(state string) error
	// WatchdogInterval is how often a keep-alive is owed; zero means
	// none.
	WatchdogInterval() time.Duration
}

// sdNotifier tells systemd about a node (Type=notify units), over the
// datagram socket NOTIFY_SOCKET names.
type sdNotifier struct {
	addr     string
	watchdog time.Duration
}

// SystemdNotifier is systemd's Notifier when the process runs under a
// unit that listens (NOTIFY_SOCKET is set), nil otherwise: keep-alives at
// half the unit's WatchdogSec (WATCHDOG_USEC, when WATCHDOG_PID is unset
// or this process). conntrackd's General { Systemd on } asks for the
// same; ctq notifies whenever systemd listens.
func SystemdNotifier() Notifier {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	if addr[0] == '@' {
		addr = "\x00" + addr[1:] // an abstract socket
	}
	n := &sdNotifier{addr: addr}
	usec, err := strconv.ParseInt(os.Getenv("WATCHDOG_USEC"), 10, 64)
	pid := os.Getenv("WATCHDOG_PID")
	if err == nil && usec > 0 && (pid == "" || pid == strconv.Itoa(os.Getpid())) {
		n.watchdog = time.Duration(usec) * time.Microsecond / 2
	}
	return n
}

// Notify sends one notification.
func (s *sdNotifier) Notify(state string) error {
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

// WatchdogInterval is half the unit's WatchdogSec, zero without one.
func (s *sdNotifier) WatchdogInterval() time.Duration { return s.watchdog }
