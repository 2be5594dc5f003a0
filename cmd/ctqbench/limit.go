package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
)

// The global conntrack limit and the hash size. nf_conntrack_max is
// writable only in the initial namespace and bounds the entries of every
// namespace (each counted on its own); nf_conntrack_buckets is fixed once
// the module has loaded.
const (
	conntrackMaxPath     = "/proc/sys/net/netfilter/nf_conntrack_max"
	conntrackBucketsPath = "/proc/sys/net/netfilter/nf_conntrack_buckets"
)

// limitHeadroom is the share of a namespace's entries added to the limit a
// section needs (an eighth), and limitSlack the least added: a margin for
// entries that are dying while the next ones load.
const (
	limitHeadroom = 8
	limitSlack    = 4096
)

// limitFor is the nf_conntrack_max that n entries in one namespace need:
// n and an eighth more (at least limitSlack more), rounded up to a
// multiple of 1024.
func limitFor(n int) int {
	if n <= 0 {
		return 0
	}
	v := n + max(n/limitHeadroom, limitSlack)
	return (v + 1023) &^ 1023
}

// connLimit is nf_conntrack_max for the run: raised as far as a section
// needs and back to the value found once the section needs less, and
// restored when the run ends, fails or is interrupted. It is safe for
// concurrent use (the signal handler restores it).
type connLimit struct {
	path string
	w    io.Writer // where changes are reported

	mu   sync.Mutex
	orig int // the value found
	cur  int // the value written last (orig when none was)
}

// openLimit reads the limit at path (conntrackMaxPath outside tests);
// changes are reported to w.
func openLimit(path string, w io.Writer) (*connLimit, error) {
	v, err := readSysctlInt(path)
	if err != nil {
		return nil, err
	}
	return &connLimit{path: path, w: w, orig: v, cur: v}, nil
}

// need makes the limit fit n entries in one namespace: limitFor(n) if
// that is above the value found, else the value found.
func (l *connLimit) need(n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	want := max(l.orig, limitFor(n))
	if want == l.cur {
		return nil
	}
	if err := writeSysctlInt(l.path, want); err != nil {
		return err
	}
	if want == l.orig {
		fmt.Fprintf(l.w, "ctqbench: %s back to %d\n", l.path, l.orig)
	} else {
		fmt.Fprintf(l.w, "ctqbench: %s raised from %d to %d for %d entries in one namespace\n", l.path, l.cur, want, n)
	}
	l.cur = want
	return nil
}

// restore writes the value found back if another was written, and says so.
func (l *connLimit) restore() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == l.orig {
		return nil
	}
	if err := writeSysctlInt(l.path, l.orig); err != nil {
		return fmt.Errorf("restore %s to %d (it is %d): %w", l.path, l.orig, l.cur, err)
	}
	fmt.Fprintf(l.w, "ctqbench: %s restored to %d\n", l.path, l.orig)
	l.cur = l.orig
	return nil
}

// readSysctlInt reads a sysctl file holding one integer.
func readSysctlInt(path string) (int, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", path, err)
	}
	return v, nil
}

// writeSysctlInt writes one integer to a sysctl file and reads it back
// (the kernel may clamp what it is given).
func writeSysctlInt(path string, v int) error {
	if err := os.WriteFile(path, []byte(strconv.Itoa(v)+"\n"), 0o644); err != nil {
		if errors.Is(err, os.ErrPermission) {
			return fmt.Errorf("write %s (needs root in the initial network namespace): %w", path, err)
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	got, err := readSysctlInt(path)
	if err != nil {
		return err
	}
	if got != v {
		return fmt.Errorf("write %s: wrote %d, it holds %d", path, v, got)
	}
	return nil
}

// hashReport says how full the conntrack hash (nf_conntrack_buckets, which
// cannot change at run time) gets with n entries in one namespace.
func hashReport(bucketsPath string, n int) string {
	b, err := readSysctlInt(bucketsPath)
	if err != nil || b <= 0 {
		return fmt.Sprintf("nf_conntrack_buckets unknown (%v)", err)
	}
	return fmt.Sprintf("nf_conntrack_buckets %d (fixed): %.1f entries a bucket at %d entries", b, float64(n)/float64(b), n)
}
