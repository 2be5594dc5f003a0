package daemon

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestSystemdNotifier(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	if n := SystemdNotifier(); n != nil {
		t.Errorf("without NOTIFY_SOCKET: %v, want nil", n)
	}
	sock := filepath.Join(t.TempDir(), "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "")
	t.Setenv("WATCHDOG_PID", "")
	n := SystemdNotifier()
	if n == nil || n.WatchdogInterval() != 0 {
		t.Fatalf("without WATCHDOG_USEC: %v", n)
	}
	if err := n.Notify("READY=1"); err != nil {
		t.Fatal(err)
	}
	ln.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64)
	k, err := ln.Read(buf)
	if err != nil || string(buf[:k]) != "READY=1" {
		t.Errorf("received %q, %v", buf[:k], err)
	}

	t.Setenv("WATCHDOG_USEC", "100000")
	if got := SystemdNotifier().WatchdogInterval(); got != 50*time.Millisecond {
		t.Errorf("watchdog interval %v, want half of WATCHDOG_USEC", got)
	}
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	if got := SystemdNotifier().WatchdogInterval(); got != 50*time.Millisecond {
		t.Errorf("watchdog interval for this process %v", got)
	}
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()+1))
	if got := SystemdNotifier().WatchdogInterval(); got != 0 {
		t.Errorf("watchdog interval for another process %v, want 0", got)
	}
}
