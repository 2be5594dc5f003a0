package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// accountMarker is the destination of every entry of the accounting
// burst, and so in every record of one whatever the log's format.
const accountMarker = "198.51.100.1"

// accountRounds is how many times the burst is loaded and flushed.
const accountRounds = 3

// accountQuiet is how many polls, accountPoll apart, in a row the log
// must stay the same size with an empty dying table before the logger is
// stopped; accountLimit bounds the wait.
const (
	accountQuiet = 3
	accountPoll  = time.Second
	accountLimit = 5 * time.Minute
)

// accountTool is one flow logger: its row's name, the program it needs,
// and how to start it given a scratch directory and the log's path.
type accountTool struct {
	name    string
	program string
	// setup writes what the tool needs into dir and returns its command.
	setup func(dir, log string) ([]string, error)
}

func accountTools(cfg config) []accountTool {
	ulogd := func(reliable int) accountTool {
		return accountTool{
			name:    fmt.Sprintf("ulogd NFCT reliable=%d, LOGEMU", reliable),
			program: "ulogd",
			setup: func(dir, log string) ([]string, error) {
				plugins, err := ulogdPluginDir()
				if err != nil {
					return nil, err
				}
				conf := filepath.Join(dir, "ulogd.conf")
				text := fmt.Sprintf(`[global]
logfile=%q
loglevel=5
plugin="%[2]s/ulogd_inpflow_NFCT.so"
plugin="%[2]s/ulogd_filter_IP2STR.so"
plugin="%[2]s/ulogd_filter_PRINTFLOW.so"
plugin="%[2]s/ulogd_output_LOGEMU.so"
stack=ct1:NFCT,ip2str1:IP2STR,print1:PRINTFLOW,emu1:LOGEMU

[ct1]
hash_enable=0
event_mask=0x00000004
netlink_socket_buffer_size=2097152
netlink_socket_buffer_maxsize=134217728
reliable=%[3]d

[emu1]
file=%[4]q
sync=1
`, filepath.Join(dir, "ulogd.log"), plugins, reliable, log)
				return []string{"ulogd", "-c", conf}, os.WriteFile(conf, []byte(text), 0o600)
			},
		}
	}
	conntrackd := func(reliable string) accountTool {
		return accountTool{
			name:    "conntrackd Stats, NetlinkEventsReliable " + reliable,
			program: "conntrackd",
			setup: func(dir, log string) ([]string, error) {
				conf := filepath.Join(dir, "conntrackd.conf")
				text := fmt.Sprintf(`General {
	HashSize 65536
	HashLimit 1048576
	LogFile off
	Syslog off
	LockFile %s
	UNIX {
		Path %s
	}
	NetlinkBufferSize 2097152
	NetlinkBufferSizeMaxGrowth 134217728
	NetlinkEventsReliable %s
}
Stats {
	LogFile %s
}
`, filepath.Join(dir, "conntrackd.lock"), filepath.Join(dir, "conntrackd.ctl"), reliable, log)
				return []string{"conntrackd", "-C", conf}, os.WriteFile(conf, []byte(text), 0o600)
			},
		}
	}
	return []accountTool{
		{
			name:    "ctq -e 'account FILE as json'",
			program: cfg.ctq,
			setup: func(_, log string) ([]string, error) {
				return []string{cfg.ctq, "-e", fmt.Sprintf("account %q as json", log)}, nil
			},
		},
		ulogd(1), ulogd(0),
		conntrackd("On"), conntrackd("Off"),
	}
}

// ulogdPluginDir is where ulogd's plugins are installed.
func ulogdPluginDir() (string, error) {
	for _, pattern := range []string{"/usr/lib/*/ulogd", "/usr/lib/ulogd", "/usr/lib64/ulogd", "/usr/local/lib/ulogd"} {
		dirs, _ := filepath.Glob(pattern)
		for _, d := range dirs {
			if _, err := os.Stat(filepath.Join(d, "ulogd_inpflow_NFCT.so")); err == nil {
				return d, nil
			}
		}
	}
	return "", fmt.Errorf("ulogd's NFCT plugin (ulogd_inpflow_NFCT.so) not found")
}

// accountResult is one logger's outcome.
type accountResult struct {
	records   int           // destroy records of the burst's entries in the log
	destroyed int           // entries of the burst created (and so destroyed)
	burst     time.Duration // from the first load to the last flush
	drain     time.Duration // from the last flush until the log stopped growing
	maxDying  int           // most entries seen held on the dying table
}

// benchAccount loads and flushes the burst accountRounds times while each
// flow logger runs in a fresh namespace of its own, and reports how many
// of the destroyed entries each logged.
func benchAccount(ctx context.Context, cfg config) error {
	dir, err := os.MkdirTemp("", "ctqbench-account")
	if err != nil {
		return fmt.Errorf("account scratch directory: %w", err)
	}
	defer os.RemoveAll(dir)
	flows := filepath.Join(dir, "flows.save")
	if err := writeAccountFlows(flows, cfg.accountFlows); err != nil {
		return err
	}
	fmt.Printf("\nflow accounting: %d rounds of %d entries loaded with conntrack -R and flushed with conntrack -F, in a fresh namespace per tool (nf_conntrack_events=1):\n",
		accountRounds, cfg.accountFlows)
	for i, tool := range accountTools(cfg) {
		if _, err := exec.LookPath(tool.program); err != nil {
			fmt.Printf("%-44s not installed, skipped\n", tool.name)
			continue
		}
		if err := settle(ctx, cfg.baseline); err != nil {
			return fmt.Errorf("account %s: wait for the kernel to settle: %w", tool.name, err)
		}
		scratch := filepath.Join(dir, fmt.Sprint(i))
		if err := os.Mkdir(scratch, 0o700); err != nil {
			return fmt.Errorf("account scratch directory: %w", err)
		}
		r, err := benchAccountTool(ctx, cfg, tool, scratch, flows, i)
		if err != nil {
			return fmt.Errorf("account %s: %w", tool.name, err)
		}
		fmt.Printf("%-44s %7d records logged of %7d destroyed (burst %.1fs, drained %.1fs later, at most %d held dying)\n",
			tool.name, r.records, r.destroyed, r.burst.Seconds(), r.drain.Seconds(), r.maxDying)
	}
	return nil
}

// writeAccountFlows writes n udp entries from distinct sources in
// 10.0.0.0/8 to accountMarker for conntrack -R.
func writeAccountFlows(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range n {
		fmt.Fprintf(w, "-I -t 600 -s 10.%d.%d.%d -d %s -p udp --sport 1024 --dport 53\n",
			byte(i>>16), byte(i>>8), byte(i), accountMarker)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// benchAccountTool runs one logger through the burst.
func benchAccountTool(ctx context.Context, cfg config, tool accountTool, dir, flows string, i int) (accountResult, error) {
	var r accountResult
	ns, err := newNamespace(fmt.Sprintf("acct%d", i))
	if err != nil {
		return r, err
	}
	defer ns.remove()
	if _, err := ns.run("sysctl", "-qw", "net.netfilter.nf_conntrack_events=1"); err != nil {
		return r, err
	}
	log := filepath.Join(dir, "flows.log")
	argv, err := tool.setup(dir, log)
	if err != nil {
		return r, err
	}
	out, err := os.Create(filepath.Join(dir, "tool.out"))
	if err != nil {
		return r, err
	}
	defer out.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.name}, argv...)...)
	cmd.Stdout, cmd.Stderr = out, out
	// A process group of its own: conntrackd signals its group when it
	// ends, and a terminal's ^C is for ctqbench, which stops it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return r, fmt.Errorf("start %s: %w", strings.Join(argv, " "), err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	stopped := false
	stopTool := func() {
		if stopped {
			return
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
			return
		case <-time.After(10 * time.Second):
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	defer stopTool()
	ended := func() error {
		select {
		case <-done:
			b, _ := os.ReadFile(out.Name())
			return fmt.Errorf("%s ended: %s", strings.Join(argv, " "), bytes.TrimSpace(b))
		default:
			return nil
		}
	}

	// The logger needs a moment to subscribe; a sentinel entry would be
	// logged, so wait plainly.
	if err := sleepCtx(ctx, 2*time.Second); err != nil {
		return r, err
	}
	if err := ended(); err != nil {
		return r, err
	}
	start := time.Now()
	for range accountRounds {
		// Entries held on the dying table count against nf_conntrack_max,
		// so a load may fall short and conntrack -R fail: what it made is
		// counted.
		_, loadErr := ns.run(cfg.conntrack, "-R", flows)
		n, err := ns.countList(cfg.conntrack)
		if err != nil {
			return r, err
		}
		if n == 0 && loadErr != nil {
			return r, loadErr
		}
		r.destroyed += n
		if d, err := ns.countList(cfg.conntrack, "dying"); err == nil {
			r.maxDying = max(r.maxDying, d)
		}
		if _, err := ns.run(cfg.conntrack, "-F"); err != nil {
			return r, err
		}
	}
	r.burst = time.Since(start)

	flushed := time.Now()
	last, quiet := int64(-1), 0
	lastChange := flushed
	for quiet < accountQuiet {
		if time.Since(flushed) > accountLimit {
			return r, fmt.Errorf("the log still grew or the dying table held entries after %s", accountLimit)
		}
		if err := sleepCtx(ctx, accountPoll); err != nil {
			return r, err
		}
		if err := ended(); err != nil {
			return r, err
		}
		size := int64(0)
		if st, err := os.Stat(log); err == nil {
			size = st.Size()
		}
		dying, err := ns.countList(cfg.conntrack, "dying")
		if err != nil {
			return r, err
		}
		r.maxDying = max(r.maxDying, dying)
		if size != last || dying != 0 {
			last, quiet, lastChange = size, 0, time.Now()
			continue
		}
		quiet++
	}
	r.drain = lastChange.Sub(flushed)
	stopTool()
	r.records, err = countMarked(log)
	return r, err
}

// countList counts the entries conntrack -L lists in the namespace (of
// the table, or of args' table: dying).
func (ns *namespace) countList(conntrack string, args ...string) (int, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.name, conntrack, "-L"}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, err
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	n, err := countLines(out)
	if werr := cmd.Wait(); err == nil {
		err = werr
	}
	if err != nil {
		return 0, fmt.Errorf("conntrack -L %s: %w", strings.Join(args, " "), err)
	}
	return n, nil
}

// countMarked counts the lines of the log that name accountMarker: one a
// destroy record of the burst, in every logger's format.
func countMarked(path string) (int, error) {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		if bytes.Contains(sc.Bytes(), []byte(accountMarker)) {
			n++
		}
	}
	return n, sc.Err()
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return fmt.Errorf("interrupted: %w", ctx.Err())
	case <-time.After(d):
		return nil
	}
}
