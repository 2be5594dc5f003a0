package conntrack

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"ctq/engine"
	"ctq/engine/format"
)

// conntrack reads procfs when the kernel refuses -C and -S over netlink
// (without CAP_NET_ADMIN): it prints what it read there, then the
// kernel's error. ctq's conntrack does the same, for the namespace it
// runs in (not for Config.NetNS, whose procfs it does not see).

// procDir is the procfs root of the fallbacks.
func (r *runner) procDir() string {
	if r.cfg.ProcDir != "" {
		return r.cfg.ProcDir
	}
	return "/proc"
}

// countFallback prints nf_conntrack_count; it reports whether it did.
func (r *runner) countFallback() bool {
	if r.cfg.NetNS != "" {
		return false
	}
	b, err := os.ReadFile(filepath.Join(r.procDir(), "sys/net/netfilter/nf_conntrack_count"))
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return false
	}
	r.out.WriteString(strconv.Itoa(n) + "\n")
	return true
}

// statsFallback prints the per-CPU lines of /proc/net/stat/nf_conntrack
// (a header of names, then a line of hexadecimal values a CPU) as -S
// prints them; it reports whether it did.
func (r *runner) statsFallback() bool {
	if r.cfg.NetNS != "" {
		return false
	}
	f, err := os.Open(filepath.Join(r.procDir(), "net/stat/nf_conntrack"))
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		return false
	}
	names := strings.Fields(sc.Text())
	var b []byte
	for cpu := 0; sc.Scan(); cpu++ {
		s := engine.CPUStats{CPU: cpu}
		for i, v := range strings.Fields(sc.Text()) {
			n, err := strconv.ParseUint(v, 16, 64)
			if err != nil || i >= len(names) {
				return cpu > 0
			}
			s.Counters = append(s.Counters, engine.StatCounter{Name: names[i], Value: n})
		}
		b = format.AppendCPUStats(b[:0], &s)
		b = append(b, '\n')
		r.out.Write(b)
	}
	return true
}
