package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// syncConf is one side's sync configuration, as conntrackd-pair.sh writes
// it (FTFW over UDP unicast); both conntrackd and ctq read it. %[1]s is
// the scratch directory, %[2]s the side, %[3]s the interface, %[4]s the
// local and %[5]s the peer address.
const syncConf = `Sync {
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
	HashSize 65536
	HashLimit 262144
	LogFile %[1]s/%[2]s.log
	Syslog off
	LockFile %[1]s/%[2]s.lock
	UNIX {
		Path %[1]s/%[2]s.sock
	}
	NetlinkBufferSize 33554432
	NetlinkBufferSizeMaxGrowth 268435456
}
`

// syncPollInterval is how often the backup's caches and table are polled.
const syncPollInterval = 50 * time.Millisecond

// syncTimeout bounds each wait: replication and commit.
const syncTimeout = 5 * time.Minute

// syncImpl is one implementation of the sync daemon and its client.
type syncImpl struct {
	name string
	// daemon is the argv of the foreground daemon for conf.
	daemon func(conf string) []string
	// status, commit and dump are client argvs for conf.
	status, commit, dump func(conf string) []string
}

// pollStatus is the client argv that polls either daemon's external cache:
// conntrackd's own client, which a ctq node answers too, so that the
// poll costs the same for both (a Go client's start-up would otherwise
// count as replication lag).
func pollStatus(conf string) []string { return []string{"conntrackd", "-C", conf, "-s"} }

// syncImpls are conntrackd and ctq, in report order.
func syncImpls(cfg config) []syncImpl {
	ctq := func(stmt string) func(string) []string {
		return func(conf string) []string { return []string{cfg.ctq, "-e", fmt.Sprintf("sync %s %q", stmt, conf)} }
	}
	cd := func(opt string) func(string) []string {
		return func(conf string) []string { return []string{"conntrackd", "-C", conf, opt} }
	}
	return []syncImpl{
		{
			name:   "conntrackd",
			daemon: func(conf string) []string { return []string{"conntrackd", "-C", conf} },
			status: cd("-s"), commit: cd("-c"), dump: cd("-e"),
		},
		{
			name:   "ctq",
			daemon: ctq("run"),
			status: ctq("status"), commit: ctq("commit"), dump: ctq("dump external"),
		},
	}
}

// syncResult is one implementation's measurements.
type syncResult struct {
	load   time.Duration // conntrack -R of the flows on the primary
	synced time.Duration // from the start of the load to a complete external cache on the backup
	lag    time.Duration // synced less load (the median of its own over runs)
	commit time.Duration // from the commit request to a complete kernel table on the backup
}

// benchSync measures, for a conntrackd pair and a ctq pair in turn, how
// long the backup's external cache takes to hold a table loaded into the
// primary, and how long committing it into the backup's kernel takes.
func benchSync(ctx context.Context, cfg config) error {
	dir, err := os.MkdirTemp("", "ctqbench-sync")
	if err != nil {
		return fmt.Errorf("sync scratch directory: %w", err)
	}
	defer os.RemoveAll(dir)
	flows := filepath.Join(dir, "flows.save")
	if err := writeSyncFlows(flows, cfg.syncFlows); err != nil {
		return err
	}
	impls := syncImpls(cfg)
	results := make([][]syncResult, len(impls))
	for run := range cfg.syncRuns {
		// The order alternates, so that neither always runs on a kernel
		// the other has just used.
		for k := range impls {
			i := k
			if run%2 == 1 {
				i = len(impls) - 1 - k
			}
			impl := impls[i]
			// Each pair starts on a kernel done with the namespaces before it.
			if err := settle(ctx, cfg.baseline); err != nil {
				return fmt.Errorf("sync %s: wait for the kernel to settle: %w", impl.name, err)
			}
			scratch := filepath.Join(dir, impl.name)
			if err := os.RemoveAll(scratch); err != nil {
				return fmt.Errorf("sync scratch directory: %w", err)
			}
			r, err := benchSyncPair(ctx, cfg, impl, scratch, flows, i)
			if err != nil {
				return fmt.Errorf("sync %s: %w", impl.name, err)
			}
			results[i] = append(results[i], r)
		}
	}
	cd, ctq := medianSync(results[0]), medianSync(results[1])
	reportSync(cfg, cd, ctq)
	return nil
}

// medianSync is the median of each measurement of runs.
func medianSync(runs []syncResult) syncResult {
	pick := func(get func(*syncResult) time.Duration) time.Duration {
		d := make([]time.Duration, len(runs))
		for i := range runs {
			d[i] = get(&runs[i])
		}
		return median(d)
	}
	return syncResult{
		load:   pick(func(r *syncResult) time.Duration { return r.load }),
		synced: pick(func(r *syncResult) time.Duration { return r.synced }),
		lag:    pick(func(r *syncResult) time.Duration { return r.synced - r.load }),
		commit: pick(func(r *syncResult) time.Duration { return r.commit }),
	}
}

// writeSyncFlows writes n established TCP flows with unique tuples as
// conntrack -R lines: 198.18.0.0/16 to 198.19.0.1 port 22.
func writeSyncFlows(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create flow file: %w", err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < n; i++ {
		fmt.Fprintf(w, "-A -t 600 -u ASSURED,SEEN_REPLY -p tcp --state ESTABLISHED -s 198.18.%d.%d -d 198.19.0.1 --sport %d --dport 22\n",
			i>>8&0xff, i&0xff, 1024+i>>16)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("write flow file: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write flow file: %w", err)
	}
	return nil
}

// syncPair is a primary and a backup namespace joined by a veth pair,
// each with its sync daemon.
type syncPair struct {
	a, b       *namespace
	confA      string
	confB      string
	daemons    []*exec.Cmd
	daemonDone []chan struct{}
}

// close stops the daemons (SIGTERM, then SIGKILL) and removes the
// namespaces.
func (p *syncPair) close() {
	for i, d := range p.daemons {
		_ = d.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.daemonDone[i]:
		case <-time.After(10 * time.Second):
			_ = d.Process.Kill()
			<-p.daemonDone[i]
		}
	}
	for _, ns := range []*namespace{p.a, p.b} {
		if ns != nil {
			ns.remove()
		}
	}
}

// newSyncPair makes the two namespaces, the link and the configurations
// in dir, and starts impl's daemon on both sides; it waits until both
// answer on their control socket.
func newSyncPair(ctx context.Context, impl syncImpl, dir string, idx int) (p *syncPair, err error) {
	p = &syncPair{}
	defer func() {
		if err != nil {
			p.close()
		}
	}()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return p, fmt.Errorf("scratch directory: %w", err)
	}
	if p.a, err = newNamespace(fmt.Sprintf("sync%d-a", idx)); err != nil {
		return p, err
	}
	if p.b, err = newNamespace(fmt.Sprintf("sync%d-b", idx)); err != nil {
		return p, err
	}
	ia, ib := fmt.Sprintf("cqbs%da", idx), fmt.Sprintf("cqbs%db", idx)
	for _, argv := range [][]string{
		{"ip", "-n", p.a.name, "link", "add", ia, "type", "veth", "peer", "name", ib, "netns", p.b.name},
		{"ip", "-n", p.a.name, "addr", "add", "192.0.2.1/24", "dev", ia},
		{"ip", "-n", p.b.name, "addr", "add", "192.0.2.2/24", "dev", ib},
		{"ip", "-n", p.a.name, "link", "set", ia, "up"},
		{"ip", "-n", p.b.name, "link", "set", ib, "up"},
	} {
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			return p, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, out)
		}
	}
	p.confA, p.confB = filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf")
	for _, c := range []struct{ path, side, iface, local, peer string }{
		{p.confA, "a", ia, "192.0.2.1", "192.0.2.2"},
		{p.confB, "b", ib, "192.0.2.2", "192.0.2.1"},
	} {
		if err := os.WriteFile(c.path, fmt.Appendf(nil, syncConf, dir, c.side, c.iface, c.local, c.peer), 0o600); err != nil {
			return p, fmt.Errorf("write %s: %w", c.path, err)
		}
	}
	for _, side := range []struct {
		ns   *namespace
		conf string
	}{{p.a, p.confA}, {p.b, p.confB}} {
		argv := append([]string{"netns", "exec", side.ns.name}, impl.daemon(side.conf)...)
		d := exec.Command("ip", argv...)
		log, err := os.Create(strings.TrimSuffix(side.conf, ".conf") + ".out")
		if err != nil {
			return p, fmt.Errorf("daemon output file: %w", err)
		}
		d.Stdout, d.Stderr = log, log
		// A process group of its own: conntrackd signals its group when it
		// ends, and a terminal's ^C is for ctqbench, which stops it.
		d.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := d.Start(); err != nil {
			log.Close()
			return p, fmt.Errorf("start %s: %w", strings.Join(d.Args, " "), err)
		}
		done := make(chan struct{})
		go func() {
			_ = d.Wait()
			log.Close()
			close(done)
		}()
		p.daemons = append(p.daemons, d)
		p.daemonDone = append(p.daemonDone, done)
		err = poll(ctx, 20*time.Second, func() (bool, error) {
			select {
			case <-done:
				out, _ := os.ReadFile(log.Name())
				return false, fmt.Errorf("%s ended: %s", strings.Join(d.Args, " "), out)
			default:
			}
			return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", side.ns.name}, impl.status(side.conf)...)...).Run() == nil, nil
		})
		if err != nil {
			return p, fmt.Errorf("wait for the %s daemon of %s: %w", impl.name, side.conf, err)
		}
	}
	// The FTFW handshake (HELLO, HELLO_BACK) after both are up.
	time.Sleep(time.Second)
	return p, nil
}

// benchSyncPair measures one implementation on a fresh pair.
func benchSyncPair(ctx context.Context, cfg config, impl syncImpl, dir, flows string, idx int) (syncResult, error) {
	var r syncResult
	p, err := newSyncPair(ctx, impl, dir, idx)
	if err != nil {
		return r, err
	}
	defer p.close()
	n := cfg.syncFlows

	start := time.Now()
	if r.load, err = p.a.run(cfg.conntrack, "-R", flows); err != nil {
		return r, err
	}
	err = poll(ctx, syncTimeout, func() (bool, error) {
		got, err := externalActive(ctx, p.b, pollStatus(p.confB))
		return got >= n, err
	})
	if err != nil {
		return r, fmt.Errorf("wait for %d entries in the backup's external cache: %w", n, err)
	}
	r.synced = time.Since(start)
	r.lag = r.synced - r.load
	// The status counter is the polling signal; the dump is the proof.
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", p.b.name}, impl.dump(p.confB)...)...).Output()
	if err != nil {
		return r, fmt.Errorf("dump the backup's external cache: %w", err)
	}
	if got := strings.Count(string(out), "\n"); got != n {
		return r, fmt.Errorf("backup's external cache dump: %d lines, want %d", got, n)
	}

	start = time.Now()
	if _, err := p.b.run(impl.commit(p.confB)...); err != nil {
		return r, err
	}
	err = poll(ctx, syncTimeout, func() (bool, error) {
		got, err := p.b.count(cfg.conntrack)
		return got >= n, err
	})
	if err != nil {
		return r, fmt.Errorf("wait for %d entries in the backup's kernel table: %w", n, err)
	}
	r.commit = time.Since(start)
	return r, nil
}

// firstNumber is the first decimal number of a line.
var firstNumber = regexp.MustCompile(`\d+`)

// externalActive is the active entry count of the external cache in the
// output of a status request (conntrackd -s, ctq's sync status): the first
// number after the "cache external" line.
func externalActive(ctx context.Context, ns *namespace, status []string) (int, error) {
	out, err := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns.name}, status...)...).Output()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", strings.Join(status, " "), err)
	}
	_, rest, ok := strings.Cut(string(out), "cache external")
	if !ok {
		return 0, fmt.Errorf("%s: no external cache in %q", strings.Join(status, " "), out)
	}
	_, rest, _ = strings.Cut(rest, "\n")
	line, _, _ := strings.Cut(rest, "\n")
	m := firstNumber.FindString(line)
	if m == "" {
		return 0, fmt.Errorf("%s: no count in %q", strings.Join(status, " "), line)
	}
	return strconv.Atoi(m)
}

// poll calls cond every syncPollInterval until it is true, fails, the
// context ends (a signal: the caller cleans up) or limit passes.
func poll(ctx context.Context, limit time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("interrupted: %w", err)
		}
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", limit)
		}
		select {
		case <-ctx.Done():
		case <-time.After(syncPollInterval):
		}
	}
}

// reportSync prints both implementations side by side.
func reportSync(cfg config, cd, ctq syncResult) {
	fmt.Printf("\nsync, FTFW over UDP, %d flows loaded into the primary with conntrack -R (polled every %s with conntrackd -s; median of %d runs):\n",
		cfg.syncFlows, syncPollInterval, cfg.syncRuns)
	fmt.Printf("%-44s %12s %12s %8s\n", "", "conntrackd", "ctq", "ratio")
	row := func(what string, a, b time.Duration) {
		fmt.Printf("%-44s %11.3fs %11.3fs %7.2fx\n", what, a.Seconds(), b.Seconds(), b.Seconds()/a.Seconds())
	}
	row("load on the primary (conntrack -R)", cd.load, ctq.load)
	row("backup's external cache complete", cd.synced, ctq.synced)
	row("  of which after the load (lag)", cd.lag, ctq.lag)
	row("commit until the backup's kernel holds all", cd.commit, ctq.commit)
	fmt.Printf("commit vs conntrackd -c:            %.2fx  (goal <= 0.8x)\n", ctq.commit.Seconds()/cd.commit.Seconds())
}
