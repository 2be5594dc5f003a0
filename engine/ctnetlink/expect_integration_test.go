//go:build linux

package ctnetlink

import (
	"context"
	"errors"
	"maps"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"ctq/internal/nstest"

	"ctq/engine"
)

// expLine is one line of `conntrack -L expect`, split into its parts.
type expLine struct {
	timeout                int
	expected, mask, master map[string]string
	flags                  []string
	class, helper, zone    string
}

func parseExpLine(t *testing.T, line string) expLine {
	t.Helper()
	fields := strings.Fields(line)
	if len(fields) == 0 {
		t.Fatalf("empty expect line")
	}
	l := expLine{expected: map[string]string{}, mask: map[string]string{}, master: map[string]string{}}
	var err error
	if l.timeout, err = strconv.Atoi(fields[0]); err != nil {
		t.Fatalf("expect line %q: %v", line, err)
	}
	part := l.expected
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			l.flags = append(l.flags, f)
		case k == "mask-src":
			part = l.mask
		case k == "master-src":
			part = l.master
		case k == "class":
			l.class = v
			continue
		case k == "helper":
			l.helper = v
			continue
		case k == "zone":
			l.zone = v
			continue
		}
		if ok {
			part[strings.TrimPrefix(strings.TrimPrefix(k, "mask-"), "master-")] = v
		}
	}
	return l
}

// expectParts is what conntrack shows of e, in expLine's layout.
func expectParts(e *engine.Expect) (expected, mask, master map[string]string) {
	tuple := func(src, dst netip.Addr, sport, dport int) map[string]string {
		return map[string]string{"src": src.String(), "dst": dst.String(),
			"sport": strconv.Itoa(sport), "dport": strconv.Itoa(dport)}
	}
	expected = tuple(e.Src, e.Dst, e.Sport, e.Dport)
	expected["proto"] = strconv.Itoa(e.ProtoNum)
	return expected, tuple(e.MaskSrc, e.MaskDst, e.MaskSport, e.MaskDport),
		tuple(e.MasterSrc, e.MasterDst, e.MasterSport, e.MasterDport)
}

// scanExpects collects copies of the expectations a scan yields.
func scanExpects(t *testing.T, l *Live) []engine.Expect {
	t.Helper()
	var out []engine.Expect
	st, err := l.ScanExpect(context.Background(), func(e *engine.Expect) error {
		out = append(out, *e)
		return nil
	})
	if err != nil || st.Received != len(out) || st.Skipped != 0 {
		t.Fatalf("ScanExpect: %v (%+v for %d)", err, st, len(out))
	}
	return out
}

// listExpect is `conntrack -L expect`, one line per expectation.
func listExpect(t *testing.T, ns *nstest.NS) []string {
	t.Helper()
	out := strings.TrimSpace(ns.Run(t, "conntrack", "-L", "expect"))
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func TestLiveExpect(t *testing.T) {
	ns := nstest.New(t)
	l := openLive(t, &LiveConfig{NetNS: ns.Name()})
	ctx := context.Background()
	if got := scanExpects(t, l); len(got) != 0 {
		t.Fatalf("%d expectations in a new namespace", len(got))
	}
	passiveFTP, activeFTP := ns.FTPExpectation(t, true), ns.FTPExpectation(t, false)
	passivePort, activePort := int(passiveFTP.Client.Port()), int(activeFTP.Client.Port())
	passiveData, activeData := strconv.Itoa(passiveFTP.DataPort), strconv.Itoa(activeFTP.DataPort)

	scanned := time.Now()
	exps := scanExpects(t, l)
	lines := listExpect(t, ns)
	drift := int(math.Ceil(time.Since(scanned).Seconds()))
	if len(exps) != 2 || len(lines) != 2 {
		t.Fatalf("ScanExpect found %d expectations, conntrack %d:\n%s", len(exps), len(lines), strings.Join(lines, "\n"))
	}
	byDport := map[string]*engine.Expect{}
	for i := range exps {
		e := &exps[i]
		byDport[strconv.Itoa(e.Dport)] = e
		clientPort := passivePort
		if e.Dport == activeFTP.DataPort {
			clientPort = activePort
		}
		if e.Family != "ipv4" || e.Proto != "tcp" || e.MasterProto != "tcp" || e.MasterSport != clientPort ||
			e.MasterDport != 21 || e.Helper != "ftp" || e.Flags != 0 || e.Permanent ||
			e.Has&(engine.HasExpTimeout|engine.HasExpID|engine.HasExpMask|engine.HasExpMaster|engine.HasExpHelper|engine.HasExpClass|engine.HasExpFlags) !=
				engine.HasExpTimeout|engine.HasExpID|engine.HasExpMask|engine.HasExpMaster|engine.HasExpHelper|engine.HasExpClass|engine.HasExpFlags {
			t.Errorf("expectation %+v", *e)
		}
	}
	for _, line := range lines {
		c := parseExpLine(t, line)
		e := byDport[c.expected["dport"]]
		if e == nil {
			t.Errorf("conntrack lists an expectation the scan did not return: %s", line)
			continue
		}
		expected, mask, master := expectParts(e)
		if !maps.Equal(expected, c.expected) || !maps.Equal(mask, c.mask) || !maps.Equal(master, c.master) {
			t.Errorf("expectation\n%v %v %v\nconntrack\n%s", expected, mask, master, line)
		}
		if d := e.Timeout - c.timeout; d < 0 || d > drift+1 || c.class != strconv.Itoa(e.Class) ||
			c.helper != e.Helper || len(c.flags) != 0 {
			t.Errorf("timeout %d class %d helper %q, conntrack: %s", e.Timeout, e.Class, e.Helper, line)
		}
	}
	passive, active := byDport[passiveData], byDport[activeData]
	if passive == nil || active == nil {
		t.Fatalf("expected ports %s and %s, got %v", passiveData, activeData, slices.Sorted(maps.Keys(byDport)))
	}

	// Delete one: conntrack no longer lists it; a second delete finds none.
	if err := l.DeleteExpect(ctx, passive); err != nil {
		t.Fatalf("DeleteExpect: %v", err)
	}
	if lines := listExpect(t, ns); len(lines) != 1 || !strings.Contains(lines[0], "dport="+activeData+" ") {
		t.Errorf("after DeleteExpect conntrack lists %q", lines)
	}
	if err := l.DeleteExpect(ctx, passive); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("second DeleteExpect = %v, want ErrNotFound", err)
	}

	// Create one on the same master.
	made := *passive
	made.Dport, made.Has = 50010, 0
	made.Timeout = 100
	if err := l.CreateExpect(ctx, &made); err != nil {
		t.Fatalf("CreateExpect: %v", err)
	}
	out := ns.Run(t, "conntrack", "-G", "expect", "-s", nstest.FTPAddr, "-d", nstest.FTPAddr, "-p", "tcp",
		"--sport", "0", "--dport", "50010", "--reply-port-src", "1", "--reply-port-dst", "1")
	if c := parseExpLine(t, strings.TrimSpace(out)); c.master["sport"] != strconv.Itoa(passivePort) || c.helper != "ftp" {
		t.Errorf("created expectation: %s", out)
	}
	if err := l.CreateExpect(ctx, &made); !errors.Is(err, unix.EEXIST) {
		t.Errorf("CreateExpect of an existing expectation = %v", err)
	}
	orphan := made
	orphan.Dport, orphan.MasterSport = 50011, 1
	if err := l.CreateExpect(ctx, &orphan); !errors.Is(err, unix.ENOENT) ||
		!strings.Contains(err.Error(), "the master connection does not exist") {
		t.Errorf("CreateExpect without a master = %v", err)
	}

	// Flushes: another family's leaves them, their family's takes them.
	if err := l.Flush(ctx, engine.TableExpect, engine.FamilyIPv6); err != nil || len(listExpect(t, ns)) != 2 {
		t.Errorf("Flush(expect, ipv6) = %v, %d left", err, len(listExpect(t, ns)))
	}
	if err := l.Flush(ctx, engine.TableExpect, engine.FamilyIPv4); err != nil || len(listExpect(t, ns)) != 0 {
		t.Errorf("Flush(expect, ipv4) = %v, %d left", err, len(listExpect(t, ns)))
	}
	if err := l.CreateExpect(ctx, &made); err != nil {
		t.Fatal(err)
	}
	if err := l.Flush(ctx, engine.TableExpect, engine.FamilyUnspec); err != nil || len(listExpect(t, ns)) != 0 {
		t.Errorf("Flush(expect) = %v, %d left", err, len(listExpect(t, ns)))
	}
}
