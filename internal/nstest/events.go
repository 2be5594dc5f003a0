package nstest

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// SentinelSrc is the source address of sentinel entries: UDP entries
// from SentinelSrc to sentinelDst port 9 that tell a test when an event
// listener reports events. Tests use other addresses for their own
// entries.
const SentinelSrc = "203.0.113.1"

// sentinelDst is the destination address of sentinel entries.
const sentinelDst = "203.0.113.2"

// eventsWait bounds ConntrackE's and ConntrackEExpect's wait for the
// first event and Stop's wait for conntrack -E to end; reaching it fails
// the test (it is not a measurement).
const eventsWait = 60 * time.Second

// syncWait is how long ConntrackE and ConntrackEExpect wait for one
// synchronizing entry to show up before they make the next.
const syncWait = 200 * time.Millisecond

// InsertSentinel creates, with conntrack -I, the sentinel entry with
// source port port (timeout 60s); SentinelLine(port) is part of the
// lines conntrack -E prints for it.
func (n *NS) InsertSentinel(t testing.TB, port int) {
	t.Helper()
	n.Run(t, "conntrack", "-I", "-t", "60", "-s", SentinelSrc, "-d", sentinelDst, "-p", "udp",
		"--sport", strconv.Itoa(port), "--dport", "9")
}

// SentinelLine is the original tuple of the sentinel entry with source
// port port as conntrack prints it, with a blank after it: the part of a
// conntrack -E line that identifies that entry.
func SentinelLine(port int) string {
	return fmt.Sprintf("src=%s dst=%s sport=%d dport=9 ", SentinelSrc, sentinelDst, port)
}

// ConntrackEvents is `conntrack -E` running in a namespace. It counts
// some of the lines it prints and keeps some (see ConntrackE and
// ConntrackEExpect); it is killed when the test ends if Stop did not end
// it before.
type ConntrackEvents struct {
	cmd  *exec.Cmd
	done chan struct{}

	mu      sync.Mutex
	lines   []string // the lines kept
	counted int      // the lines counted
	all     int      // all lines
}

// ConntrackE runs conntrack -E with args (e.g. "-e", "NEW") in the
// namespace and returns once it reports events: conntrack -E subscribes
// some time after it starts, so ConntrackE inserts sentinel entries, with
// source ports from next on, until one is reported; it returns the next
// unused sentinel port. It counts the lines match accepts and keeps them
// if store is set; it always keeps the lines of sentinel entries. It
// fails the test if conntrack -E cannot start or reports nothing within a
// minute.
func (n *NS) ConntrackE(t testing.TB, next int, match func(line string) bool, store bool, args ...string) (*ConntrackEvents, int) {
	t.Helper()
	sentinel := " src=" + SentinelSrc + " "
	c := n.conntrackE(t, args, func(line string) (string, bool) {
		counted := match(line)
		if counted && store || strings.Contains(line, sentinel) {
			return line, counted
		}
		return "", counted
	})
	start := time.Now()
	for ; ; next++ {
		n.InsertSentinel(t, next)
		if c.WaitLine(SentinelLine(next), syncWait) != "" {
			return c, next + 1
		}
		if time.Since(start) > eventsWait {
			t.Fatalf("nstest: conntrack -E in %s reported no event within %v", n.name, eventsWait)
		}
	}
}

// ConntrackEExpect runs `conntrack -E expect` in the namespace and
// returns once it reports events: it makes expectations with
// FTPExpectation (passive) until one is reported. It keeps and counts
// every line, with leading blanks removed and runs of blanks made one
// space. It fails the test if conntrack -E cannot start or reports
// nothing within a minute.
func (n *NS) ConntrackEExpect(t testing.TB) *ConntrackEvents {
	t.Helper()
	c := n.conntrackE(t, []string{"expect"}, func(line string) (string, bool) {
		return strings.Join(strings.Fields(line), " "), true
	})
	start := time.Now()
	for {
		ftp := n.FTPExpectation(t, true)
		if c.WaitLine(fmt.Sprintf(" dport=%d ", ftp.DataPort), syncWait) != "" {
			return c
		}
		if time.Since(start) > eventsWait {
			t.Fatalf("nstest: conntrack -E expect in %s reported no event within %v", n.name, eventsWait)
		}
	}
}

// conntrackE starts conntrack -E with args in the namespace. filter gets
// each line and returns the line to keep ("" for none) and whether the
// line counts.
func (n *NS) conntrackE(t testing.TB, args []string, filter func(line string) (string, bool)) *ConntrackEvents {
	t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.name, "conntrack", "-E"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("nstest: conntrack -E in %s: %v", n.name, err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("nstest: conntrack -E in %s: %v", n.name, err)
	}
	c := &ConntrackEvents{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(c.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.mu.Lock()
			c.all++
			keep, counted := filter(sc.Text())
			if counted {
				c.counted++
			}
			if keep != "" {
				c.lines = append(c.lines, keep)
			}
			c.mu.Unlock()
		}
		// A line too long for the scanner ends the scan: drain the rest
		// so that conntrack -E never blocks on a full pipe.
		_, _ = io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.done
		_ = cmd.Wait()
	})
	return c
}

// Pid is the process ID of conntrack -E (ip netns exec becomes the
// command it runs).
func (c *ConntrackEvents) Pid() int {
	return c.cmd.Process.Pid
}

// WaitLine returns the first kept line containing s, waiting up to d for
// it; "" if none came.
func (c *ConntrackEvents) WaitLine(s string, d time.Duration) string {
	deadline := time.Now().Add(d)
	for {
		c.mu.Lock()
		i := slices.IndexFunc(c.lines, func(l string) bool { return strings.Contains(l, s) })
		line := ""
		if i >= 0 {
			line = c.lines[i]
		}
		c.mu.Unlock()
		if line != "" || time.Now().After(deadline) {
			return line
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop ends conntrack -E (SIGTERM) and returns the lines kept, the number
// of lines counted and of all lines. It fails the test if conntrack -E
// does not end within a minute.
func (c *ConntrackEvents) Stop(t testing.TB) (lines []string, counted, all int) {
	t.Helper()
	_ = c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(eventsWait):
		t.Fatalf("nstest: conntrack -E did not end within %v of SIGTERM", eventsWait)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.lines), c.counted, c.all
}
