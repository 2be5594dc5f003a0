//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"ctq/internal/nstest"
)

// syncTestConf is a sync configuration of one side of the bench: FTFW
// over UDP; %[1]s is the scratch directory, %[2]s the side, %[3]s the
// interface, %[4]s the local and %[5]s the peer address.
const syncTestConf = `Sync {
	Mode FTFW {
		ResendQueueSize 131072
		ACKWindowSize 300
	}
	UDP Default {
		IPv4_address %[4]s
		IPv4_Destination_Address %[5]s
		Port 3780
		Interface %[3]s
		Checksum on
	}
}
General {
	HashSize 8192
	HashLimit 65536
	LockFile %[1]s/%[2]s.lock
	UNIX {
		Path %[1]s/%[2]s.sock
	}
}
`

// udpFlows inserts UDP entries from src to dst port 53, source ports from
// up to to, into ns and returns their original tuples as syncTuples
// prints them, sorted.
func udpFlows(t *testing.T, ns *nstest.NS, src, dst string, from, to int) []string {
	t.Helper()
	var tuples []string
	for port := from; port < to; port++ {
		ns.Run(t, "conntrack", "-I", "-t", "600", "-p", "udp", "-s", src, "-d", dst,
			"--sport", strconv.Itoa(port), "--dport", "53")
		tuples = append(tuples, fmt.Sprintf("src=%s dst=%s sport=%d dport=53", src, dst, port))
	}
	slices.Sort(tuples)
	return tuples
}

// writeSyncConfs writes the configurations of both sides of the bench
// (interfaces ctqa and ctqb, addresses addrA and addrB) into dir, from
// textA and textB (syncTestConf's layout), and returns their paths.
func writeSyncConfs(t *testing.T, dir, textA, textB, addrA, addrB string) (confA, confB string) {
	t.Helper()
	confA, confB = filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf")
	for _, c := range []struct{ path, text, side, iface, local, peer string }{
		{confA, textA, "a", "ctqa", addrA, addrB},
		{confB, textB, "b", "ctqb", addrB, addrA},
	} {
		if err := os.WriteFile(c.path, fmt.Appendf(nil, c.text, dir, c.side, c.iface, c.local, c.peer), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return confA, confB
}

// waitControl waits until the nodes of confs answer on their control
// sockets.
func waitControl(t *testing.T, confs ...string) {
	t.Helper()
	for _, conf := range confs {
		nstest.WaitFor(t, "the control socket of "+conf, func() bool {
			_, _, rc := ctq(t, "-e", `sync status "`+conf+`"`)
			return rc == 0
		})
	}
}

// syncDaemon is a `ctq --netns NS -e 'sync run "CONF"'` process.
type syncDaemon struct {
	cmd *exec.Cmd
	out bytes.Buffer
	// done is closed when the process has exited; err is then Wait's.
	done chan struct{}
	err  error
}

// startSyncDaemon starts a ctq sync node in ns and stops it (SIGTERM,
// then SIGKILL) when the test ends.
func startSyncDaemon(t *testing.T, bin string, ns *nstest.NS, conf string) *syncDaemon {
	t.Helper()
	return startSyncDaemonCmd(t, bin, "--netns", ns.Name(), "-e", `sync run "`+conf+`"`)
}

// startSyncDaemonCmd starts a sync node with the command name args and
// stops it (SIGTERM, then SIGKILL) when the test ends.
func startSyncDaemonCmd(t *testing.T, name string, args ...string) *syncDaemon {
	t.Helper()
	d := &syncDaemon{done: make(chan struct{})}
	d.cmd = exec.Command(name, args...)
	d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		d.err = d.cmd.Wait()
		close(d.done)
	}()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			d.cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-d.done:
			case <-time.After(10 * time.Second):
				d.cmd.Process.Kill()
				<-d.done
			}
		}
		if t.Failed() {
			t.Logf("%s %s output:\n%s", name, strings.Join(args, " "), d.out.String())
		}
	})
	return d
}

// wait waits for the daemon to exit and returns its error.
func (d *syncDaemon) wait(t *testing.T) error {
	t.Helper()
	select {
	case <-d.done:
		return d.err
	case <-time.After(15 * time.Second):
		t.Fatal("ctq sync run did not end")
	}
	return nil
}

// syncCtl runs a sync client statement in-process and fails the test when
// it fails.
func syncCtl(t *testing.T, stmt string) string {
	t.Helper()
	out, errOut, rc := ctq(t, "-e", stmt)
	if rc != 0 {
		t.Fatalf("ctq -e '%s': exit %d: %s", stmt, rc, errOut)
	}
	return out
}

// tupleRE is the original tuple of a UDP conntrack text line.
var tupleRE = regexp.MustCompile(`src=\S+ dst=\S+ sport=\d+ dport=\d+`)

// syncTuples returns the sorted original tuples of the text lines of out
// whose destination is dst.
func syncTuples(out, dst string) []string {
	var ts []string
	for _, l := range strings.Split(out, "\n") {
		if m := tupleRE.FindString(l); m != "" && strings.Contains(m, "dst="+dst+" ") {
			ts = append(ts, m)
		}
	}
	slices.Sort(ts)
	return ts
}

// TestSyncDaemons runs two ctq sync nodes in namespaces joined by a veth
// pair and drives them with client statements: A's table reaches B's
// external cache, a commit writes it into B's kernel table, stop ends both.
func TestSyncDaemons(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	bin := buildCtq(t)
	a, b := nstest.Joined(t, "ctqa", "192.0.2.1", "ctqb", "192.0.2.2")

	// A's table before its node starts: loaded by the node's first dump.
	const dst = "203.0.113.7"
	want := udpFlows(t, a, "198.51.100.1", dst, 1000, 1005)

	confA, confB := writeSyncConfs(t, t.TempDir(), syncTestConf, syncTestConf, "192.0.2.1", "192.0.2.2")
	da := startSyncDaemon(t, bin, a, confA)
	db := startSyncDaemon(t, bin, b, confB)
	waitControl(t, confA, confB)

	if got := syncTuples(syncCtl(t, `sync dump internal "`+confA+`"`), dst); !slices.Equal(got, want) {
		t.Fatalf("A's internal cache: %q, want %q", got, want)
	}
	// B asks A for its table (again, should a datagram be lost).
	var external string
	nstest.WaitFor(t, "A's table in B's external cache", func() bool {
		syncCtl(t, `sync resync "`+confB+`"`)
		time.Sleep(100 * time.Millisecond)
		external = syncCtl(t, `sync dump external "`+confB+`"`)
		return slices.Equal(syncTuples(external, dst), want)
	})
	if got := syncTuples(b.Run(t, "conntrack", "-L"), dst); len(got) != 0 {
		t.Fatalf("B's kernel table before the commit: %q", got)
	}

	status := syncCtl(t, `sync status "`+confB+`"`)
	for _, s := range []string{"cache external:", "datagrams sent:", "data sent:"} {
		if !strings.Contains(status, s) {
			t.Errorf("status lacks %q:\n%s", s, status)
		}
	}

	commit := syncCtl(t, `sync commit "`+confB+`"`)
	if !strings.HasPrefix(commit, fmt.Sprintf("%d entries committed (%d created", len(want), len(want))) {
		t.Errorf("commit: %q", commit)
	}
	if got := syncTuples(b.Run(t, "conntrack", "-L"), dst); !slices.Equal(got, want) {
		t.Errorf("B's kernel table after the commit: %q, want %q", got, want)
	}

	// A flow made while the nodes run travels as an event (a new one each
	// try: the node may not follow the kernel's events yet).
	port := 2000
	nstest.WaitFor(t, "a new flow of A in B's external cache", func() bool {
		port++
		a.Run(t, "conntrack", "-I", "-t", "600", "-p", "udp", "-s", "198.51.100.2", "-d", dst,
			"--sport", strconv.Itoa(port), "--dport", "53")
		time.Sleep(100 * time.Millisecond)
		return strings.Contains(syncCtl(t, `sync dump external "`+confB+`"`), fmt.Sprintf("src=198.51.100.2 dst=%s sport=%d", dst, port))
	})

	for _, d := range []struct {
		conf string
		p    *syncDaemon
	}{{confA, da}, {confB, db}} {
		syncCtl(t, `sync stop "`+d.conf+`"`)
		if err := d.p.wait(t); err != nil {
			t.Errorf("ctq sync run %s after sync stop: %v", d.conf, err)
		}
		if _, err := os.Stat(strings.TrimSuffix(d.conf, ".conf") + ".sock"); !os.IsNotExist(err) {
			t.Errorf("control socket of %s after stop: %v", d.conf, err)
		}
	}
	if _, errOut, rc := ctq(t, "-e", `sync status "`+confB+`"`); rc == 0 || !strings.Contains(errOut, "is it running?") {
		t.Errorf("status of a stopped node: exit %d, %s", rc, errOut)
	}

	// SIGTERM ends sync run cleanly, as systemd stops it.
	da = startSyncDaemon(t, bin, a, confA)
	waitControl(t, confA)
	da.cmd.Process.Signal(syscall.SIGTERM)
	if err := da.wait(t); err != nil {
		t.Errorf("ctq sync run after SIGTERM: %v", err)
	}
}

// TestSyncKilledNodeResyncs kills a backup node (SIGKILL: it leaves its
// lock file behind) and starts it again: the stale lock is taken over, and
// with StartupResync the new node asks the primary for its table at once.
func TestSyncKilledNodeResyncs(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	bin := buildCtq(t)
	a, b := nstest.Joined(t, "ctqa", "192.0.2.1", "ctqb", "192.0.2.2")
	const dst = "203.0.113.8"
	want := udpFlows(t, a, "198.51.100.1", dst, 1000, 1003)
	dir := t.TempDir()
	resyncing := strings.Replace(syncTestConf, "ACKWindowSize 300", "ACKWindowSize 300\n\t\tStartupResync on", 1)
	confA, confB := writeSyncConfs(t, dir, syncTestConf, resyncing, "192.0.2.1", "192.0.2.2")
	startSyncDaemon(t, bin, a, confA)
	waitControl(t, confA)
	inB := func() bool {
		_, _, rc := ctq(t, "-e", `sync status "`+confB+`"`)
		return rc == 0 && slices.Equal(syncTuples(syncCtl(t, `sync dump external "`+confB+`"`), dst), want)
	}
	db := startSyncDaemon(t, bin, b, confB)
	nstest.WaitFor(t, "A's table in B (startup resync)", inB)

	db.cmd.Process.Kill()
	db.wait(t)
	if _, err := os.Stat(filepath.Join(dir, "b.lock")); err != nil {
		t.Fatalf("lock file of the killed node: %v", err)
	}
	startSyncDaemon(t, bin, b, confB)
	nstest.WaitFor(t, "A's table in the restarted B", inB)
}

// TestSyncScheduler runs a node whose configuration asks for SCHED_RR:
// every thread of the process runs under it.
func TestSyncScheduler(t *testing.T) {
	nstest.RequireCommand(t, "chrt")
	bin := buildCtq(t)
	a, _ := nstest.Joined(t, "ctqa", "192.0.2.1", "ctqb", "192.0.2.2")
	text := strings.Replace(syncTestConf, "General {", "General {\n\tScheduler {\n\t\tType RR\n\t\tPriority 1\n\t}", 1)
	conf, _ := writeSyncConfs(t, t.TempDir(), text, text, "192.0.2.1", "192.0.2.2")
	d := startSyncDaemon(t, bin, a, conf)
	waitControl(t, conf)
	out, err := exec.Command("chrt", "-a", "-p", strconv.Itoa(d.cmd.Process.Pid)).CombinedOutput()
	if err != nil {
		t.Fatalf("chrt: %v: %s", err, out)
	}
	policies := strings.Count(string(out), "current scheduling policy: SCHED_RR")
	priorities := strings.Count(string(out), "current scheduling priority: 1\n")
	if policies == 0 || policies != strings.Count(string(out), "current scheduling policy") || priorities != policies {
		t.Errorf("threads of the node:\n%s", out)
	}
}
