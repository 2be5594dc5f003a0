//go:build linux

package ctargs

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"ctq/engine"
	"ctq/engine/ctnetlink"
	"ctq/internal/nstest"
)

// TestLiveDifferential compares the entries conntrack -L selects with
// the entries Plan.Match selects, on the live table of a namespace of its
// own, filled with the entries of testdata/live-entries.txt (made with
// conntrack -I). It needs root and conntrack 1.4.7.
// The filters are the lines of testdata/live-filters.txt (what follows
// "conntrack -L"); a line starting with "! " is one of the Differences:
// the selections must differ.
func TestLiveDifferential(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t).Name()
	liveCompare(t, ns, "-L", "testdata/live-filters.txt", false)
}

// TestLiveDelete is TestLiveDifferential for conntrack -D (the table
// is filled again before each filter of testdata/live-delete-filters.txt).
func TestLiveDelete(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t).Name()
	liveCompare(t, ns, "-D", "testdata/live-delete-filters.txt", true)
}

// TestLiveUpdate is TestLiveDifferential for conntrack -U -f ipv4 FILTER
// -m 0x99 on the IPv4 entries: the entries updated are those whose mark
// is 0x99 afterwards (1.4.7 does not print them all).
func TestLiveUpdate(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t).Name()
	liveCompare(t, ns, "-U", "testdata/live-update-filters.txt", true)
}

// liveCompare runs cmd with each filter of the file with conntrack and
// with Parse's Plan.Match, and compares the entries selected.
func liveCompare(t *testing.T, ns, cmd, filters string, refill bool) {
	conntrack := func(args ...string) ([]byte, error) {
		return exec.Command("ip", append([]string{"netns", "exec", ns, "conntrack"}, args...)...).Output()
	}
	fill := func() {
		conntrack("-F")
		entries, err := os.ReadFile("testdata/live-entries.txt")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(entries)), "\n") {
			if cmd == "-U" && strings.Contains(line, "2001:") {
				continue
			}
			if _, err := conntrack(strings.Fields(line)...); err != nil {
				t.Fatalf("conntrack %s: %v", line, err)
			}
		}
	}
	data, err := os.ReadFile(filters)
	if err != nil {
		t.Fatal(err)
	}
	src, err := ctnetlink.OpenLive(&ctnetlink.LiveConfig{NetNS: ns})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var flows []engine.Flow
	scan := func() {
		flows = flows[:0]
		if _, err := src.Scan(context.Background(), engine.TableConntrack, nil, func(f *engine.Flow) error {
			flows = append(flows, *f)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	fill()
	scan()
	idRE := regexp.MustCompile(`(?m) id=(\d+)$`)
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		if refill {
			fill()
			scan()
		}
		differs := strings.HasPrefix(line, "! ")
		line = strings.TrimPrefix(line, "! ")
		args := append([]string{cmd}, strings.Fields(line)...)
		if cmd == "-U" {
			args = append([]string{"-U", "-f", "ipv4"}, append(strings.Fields(line), "-m", "0x99")...)
		}
		out, _ := conntrack(append(args, "-o", "id")...)
		var want []string
		for _, m := range idRE.FindAllStringSubmatch(string(out), -1) {
			want = append(want, m[1])
		}
		before := append([]engine.Flow(nil), flows...)
		if cmd == "-U" {
			want = want[:0]
			scan()
			for i := range flows {
				if flows[i].Mark == 0x99 {
					want = append(want, strconv.Itoa(flows[i].ID))
				}
			}
			flows = before
		}
		c, err := Parse(args, SystemEnv())
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		var got []string
		for i := range flows {
			if ok, _ := c.Plan.Match(&flows[i]); ok {
				if c.Plan.Change != nil {
					if ch, _ := c.Plan.Change(&flows[i]); ch.Empty() {
						continue
					}
				}
				got = append(got, strconv.Itoa(flows[i].ID))
			}
		}
		if cmd == "-L" {
			// The same through the kernel filter of the plan: it may
			// only narrow what Match then sees.
			var viaFilter []string
			filter := c.Plan.ScanFilter()
			if _, err := src.Scan(context.Background(), engine.TableConntrack, &filter, func(f *engine.Flow) error {
				if ok, _ := c.Plan.Match(f); ok {
					viaFilter = append(viaFilter, strconv.Itoa(f.ID))
				}
				return nil
			}); err != nil {
				t.Errorf("%s %s: scan: %v", cmd, line, err)
			}
			sort.Strings(viaFilter)
			sort.Strings(got)
			if strings.Join(viaFilter, " ") != strings.Join(got, " ") {
				t.Errorf("%s %s: with the kernel filter %+v: %v, without %v", cmd, line, filter, viaFilter, got)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if same := strings.Join(got, " ") == strings.Join(want, " "); same == differs {
			t.Errorf("%s %s (a difference: %v): ctq selects %d entries %v, conntrack %d %v", cmd, line, differs, len(got), got, len(want), want)
		}
	}
}

// TestLiveCreate creates the entry of each line of
// testdata/live-create.txt (conntrack -I arguments) with conntrack and
// with Plan.Create through the engine, and compares the entries as
// conntrack -L -o save prints them (the timeout aside); "! " marks a
// line of the Differences.
func TestLiveCreate(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t).Name()
	conntrack := func(args ...string) ([]byte, error) {
		return exec.Command("ip", append([]string{"netns", "exec", ns, "conntrack"}, args...)...).Output()
	}
	timeoutRE := regexp.MustCompile(`-t \d+ `)
	saved := func() string {
		out, _ := conntrack("-L", "-o", "save")
		return timeoutRE.ReplaceAllString(string(out), "")
	}
	src, err := ctnetlink.OpenLive(&ctnetlink.LiveConfig{NetNS: ns})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	data, err := os.ReadFile("testdata/live-create.txt")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		differs := strings.HasPrefix(line, "! ")
		line = strings.TrimPrefix(line, "! ")
		conntrack("-F")
		if _, err := conntrack(strings.Fields(line)...); err != nil {
			t.Errorf("conntrack %s: %v", line, err)
			continue
		}
		want := saved()
		conntrack("-F")
		c, err := Parse(strings.Fields(line), SystemEnv())
		if err != nil {
			t.Errorf("%s: %v", line, err)
			continue
		}
		b, err := src.NewBatch(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for i := range c.Plan.Create {
			if err := b.Create(&c.Plan.Create[i]); err != nil {
				t.Errorf("%s: %v", line, err)
			}
		}
		if st, err := b.Close(); err != nil || st.Failed > 0 {
			t.Errorf("%s: %v %+v", line, err, st)
		}
		if got := saved(); (got != want) != differs {
			t.Errorf("%s (a difference: %v):\nctq       %sconntrack %s", line, differs, got, want)
		}
	}
}
