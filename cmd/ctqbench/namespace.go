package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"ctq/internal/netns"
)

// namespace is the benchmark's own network namespace.
type namespace struct{ name string }

// namespacePrefix is how the names of the namespaces process pid creates
// begin.
func namespacePrefix(pid int) string { return fmt.Sprintf("ctqbench-%d-", pid) }

// newNamespace creates the namespace ctqbench-PID-TAG.
func newNamespace(tag string) (*namespace, error) {
	ns := &namespace{name: namespacePrefix(os.Getpid()) + tag}
	if out, err := exec.Command("ip", "netns", "add", ns.name).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("create namespace (needs root and ip(8)): %v: %s", err, out)
	}
	for _, args := range [][]string{
		{"ip", "-n", ns.name, "link", "set", "lo", "up"},
		{"ip", "netns", "exec", ns.name, "sysctl", "-qw", "net.netfilter.nf_conntrack_acct=1", "net.netfilter.nf_conntrack_timestamp=1"},
	} {
		if out, err := exec.Command(args[0], args[1:]...).CombinedOutput(); err != nil {
			ns.remove()
			return nil, fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	return ns, nil
}

// remove deletes the namespace and with it its conntrack table.
func (ns *namespace) remove() {
	if out, err := exec.Command("ip", "netns", "del", ns.name).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "ctqbench: remove namespace %s: %v: %s\n", ns.name, err, out)
	}
}

// ownNamespaces lists the namespaces in dir (netns.Dir outside tests)
// whose names begin with prefix: the ones this run created and has not
// removed yet.
func ownNamespaces(dir, prefix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list network namespaces: %w", err)
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// killNamespaces kills every process inside the run's namespaces (ip netns
// pids): commands, listeners and daemons alike.
func killNamespaces(prefix string) {
	names, err := ownNamespaces(netns.Dir, prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ctqbench:", err)
		return
	}
	for _, name := range names {
		out, err := exec.Command("ip", "netns", "pids", name).Output()
		if err != nil {
			continue // removed meanwhile
		}
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
}

// removeNamespaces kills what runs in the run's namespaces and removes
// those that are left; it reports what it removed.
func removeNamespaces(prefix string) {
	killNamespaces(prefix)
	names, err := ownNamespaces(netns.Dir, prefix)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ctqbench:", err)
		return
	}
	for _, name := range names {
		(&namespace{name: name}).remove()
		fmt.Fprintf(os.Stderr, "ctqbench: removed namespace %s\n", name)
	}
}

// run runs a command inside the namespace and returns how long it took.
// Its stdout goes to /dev/null, as one times `conntrack -D > /dev/null`:
// reading a pipe would load the second core and tax the commands that
// print most; its stderr is kept for the error.
func (ns *namespace) run(argv ...string) (time.Duration, error) {
	cmd := exec.Command("ip", append([]string{"netns", "exec", ns.name}, argv...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return d, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, stderr.Bytes())
	}
	return d, nil
}

// count is the namespace's conntrack -C.
func (ns *namespace) count(conntrack string) (int, error) {
	out, err := exec.Command("ip", "netns", "exec", ns.name, conntrack, "-C").Output()
	if err != nil {
		return 0, fmt.Errorf("conntrack -C: %w", err)
	}
	var n int
	_, err = fmt.Sscan(string(out), &n)
	return n, err
}

// fill loads synthetic flows from..to-1 (as spec describes each) with
// conntrack -R, streamed through a pipe: no file, so no writeback of its
// dirty pages can run into the timed command after the load (one series
// of 100k deletes, each after a load from a fresh file, rose from 137 to
// 199 ms run by run; a repeat did not; after loads from a pipe, 122-152
// ms).
func (ns *namespace) fill(conntrack string, spec func(int) flowSpec, from, to int) error {
	cmd := exec.Command("ip", "netns", "exec", ns.name, conntrack, "-R", "-")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	in, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("load flows: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("load flows with conntrack -R: %w", err)
	}
	w := bufio.NewWriter(in)
	var werr error
	for i := from; i < to && werr == nil; i++ {
		_, werr = fmt.Fprintln(w, spec(i).saveLine())
	}
	if werr == nil {
		werr = w.Flush()
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("load %d flows with conntrack -R: %v: %s", to-from, err, out.Bytes())
	}
	if werr != nil {
		return fmt.Errorf("load %d flows with conntrack -R: write: %w", to-from, werr)
	}
	return nil
}

// flowSpec is one synthetic flow.
type flowSpec struct {
	proto        string
	src, dst     netip.Addr
	sport, dport int
	state        string
	status       string
}

// synthSources is how many IPv4 source addresses synth draws from
// (198.18.0.0/15).
const synthSources = 131072

// synth describes synthetic flow i: three in four IPv4 (198.18.0.0/15 to
// 203.0.113.0/24), one in four IPv6 (2001:db8::/32); mostly tcp, some udp
// and icmp; one tcp flow in ten to port 22.
func synth(i int) flowSpec {
	var s flowSpec
	n := i % synthSources
	hi := i / synthSources
	if i%4 == 3 {
		s.src = netip.AddrFrom16([16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1, 12: byte(i >> 24), 13: byte(i >> 16), 14: byte(i >> 8), 15: byte(i)})
		s.dst = netip.MustParseAddr("2001:db8:ffff::1")
	} else {
		s.src = netip.AddrFrom4([4]byte{198, 18 + byte(n>>16), byte(n >> 8), byte(n)})
		s.dst = netip.AddrFrom4([4]byte{203, 0, 113, byte(1 + i%200)})
	}
	s.sport = 1024 + hi*7 + i%7
	switch {
	case i%10 < 7:
		s.proto = "tcp"
		s.dport = 443
		if i%10 == 0 {
			s.dport = 22
		}
		s.state, s.status = "ESTABLISHED", "SEEN_REPLY,ASSURED"
		if i%10 == 6 {
			s.state, s.status = "SYN_SENT", "UNSET"
		}
	case i%10 < 9:
		s.proto, s.dport, s.status = "udp", 53, "SEEN_REPLY"
	default:
		s.proto, s.status = "icmp", "SEEN_REPLY"
		if s.src.Is6() {
			s.proto = "icmpv6"
		}
	}
	return s
}

// saveLine is the flow as a conntrack -R line.
func (s flowSpec) saveLine() string {
	head := fmt.Sprintf("-A -t 3600 -u %s -s %s -d %s -r %s -q %s -p %s", s.status, s.src, s.dst, s.dst, s.src, s.proto)
	switch s.proto {
	case "tcp":
		return fmt.Sprintf("%s --sport %d --dport %d --reply-port-src %d --reply-port-dst %d --state %s", head, s.sport, s.dport, s.dport, s.sport, s.state)
	case "udp":
		return fmt.Sprintf("%s --sport %d --dport %d --reply-port-src %d --reply-port-dst %d", head, s.sport, s.dport, s.dport, s.sport)
	case "icmpv6":
		return fmt.Sprintf("%s --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id %d", head, s.sport)
	}
	return fmt.Sprintf("%s --icmp-type 8 --icmp-code 0 --icmp-id %d", head, s.sport)
}
