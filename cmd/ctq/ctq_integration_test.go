//go:build linux

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"ctq/internal/nstest"
)

// mixedTable returns n conntrack -R lines: IPv4 and IPv6; tcp in several
// states, udp, udplite, icmp, icmpv6, sctp, gre and a protocol without a
// tracker; marks, zones, directional zones and NAT'd reply tuples.
func mixedTable(n int) []string {
	lines := make([]string, 0, n)
	for i := 0; i < n; i++ {
		v6 := i%5 == 4
		src := fmt.Sprintf("198.18.%d.%d", i/250, 1+i%250)
		dst := fmt.Sprintf("203.0.113.%d", 1+i%7)
		replySrc, replyDst := dst, src
		if v6 {
			src = fmt.Sprintf("2001:db8::%x", i+1)
			dst = fmt.Sprintf("2001:db8:1::%x", 1+i%7)
			replySrc, replyDst = dst, src
		}
		natFlag := "-r " + replySrc + " -q " + replyDst
		switch {
		case i%37 == 0: // DNAT to another server
			if v6 {
				replySrc = "2001:db8:2::80"
			} else {
				replySrc = "192.0.2.80"
			}
			natFlag = "-g " + replySrc + " -q " + replyDst
		case i%41 == 0 && !v6: // SNAT to a public address
			replyDst = "198.51.100.77"
			natFlag = "-r " + replySrc + " -n " + replyDst
		}
		extra := ""
		switch {
		case i%11 == 0:
			extra = fmt.Sprintf(" -m %d", 1+i%5)
		case i%13 == 0:
			extra = fmt.Sprintf(" -w %d", 1+i%3)
		case i%17 == 0:
			extra = " --orig-zone 5"
		}
		sport := 1024 + i
		head := fmt.Sprintf("-A -t %d%s -s %s -d %s %s", 100+i%3000, extra, src, dst, natFlag)
		ports := func(dport int) string {
			return fmt.Sprintf("--sport %d --dport %d --reply-port-src %d --reply-port-dst %d", sport, dport, dport, sport)
		}
		var line string
		switch k := i % 20; {
		case k < 9:
			dport := []int{443, 443, 22, 80, 443, 8443, 22, 443, 53}[k]
			state := []string{"ESTABLISHED", "ESTABLISHED", "ESTABLISHED", "SYN_SENT", "TIME_WAIT", "ESTABLISHED", "FIN_WAIT", "CLOSE_WAIT", "SYN_RECV"}[k]
			status := "SEEN_REPLY,ASSURED"
			if state == "SYN_SENT" {
				status = "UNSET"
			}
			line = fmt.Sprintf("%s -u %s -p tcp %s --state %s", head, status, ports(dport), state)
		case k < 13:
			line = fmt.Sprintf("%s -u SEEN_REPLY -p udp %s", head, ports(53+k))
		case k == 13:
			line = fmt.Sprintf("%s -u UNSET -p udplite %s", head, ports(4000))
		case k == 14:
			line = fmt.Sprintf("%s -u SEEN_REPLY,ASSURED -p sctp %s --state ESTABLISHED --orig-vtag %d --reply-vtag %d", head, ports(3868), i, i+1)
		case k == 15:
			line = fmt.Sprintf("%s -u UNSET -p gre --srckey %d --dstkey %d --reply-key-src %d --reply-key-dst %d", head, i%65536, 7, 7, i%65536)
		case k == 16:
			line = fmt.Sprintf("%s -u UNSET -p 50", head)
		default:
			if v6 {
				line = fmt.Sprintf("%s -u SEEN_REPLY -p icmpv6 --icmpv6-type 128 --icmpv6-code 0 --icmpv6-id %d", head, i)
			} else {
				line = fmt.Sprintf("%s -u SEEN_REPLY -p icmp --icmp-type 8 --icmp-code 0 --icmp-id %d", head, i)
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// volatile matches what changes between two dumps of the same table: the
// remaining timeout (third field of a text line, fifth of an extended one,
// `-t N` in save lines, <timeout> in xml) and delta-time.
var volatile = []*regexp.Regexp{
	regexp.MustCompile(`^((?:ipv[46] +\d+ )?\S+ +\d+ )\d+`),
	regexp.MustCompile(`delta-time=\d+`),
	regexp.MustCompile(`^-A -t \d+`),
	regexp.MustCompile(`<timeout>\d+</timeout>`),
	regexp.MustCompile(`<deltatime>\d+</deltatime>`),
}

// mask blanks the volatile parts of every line.
func mask(out string) []string {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	for i, l := range lines {
		l = volatile[0].ReplaceAllString(l, "${1}T")
		for _, re := range volatile[1:] {
			l = re.ReplaceAllString(l, "#")
		}
		lines[i] = l
	}
	return lines
}

// sameLines fails the test where two outputs differ after masking.
func sameLines(t *testing.T, what, got, want string) {
	t.Helper()
	g, w := mask(got), mask(want)
	if len(g) != len(w) {
		t.Errorf("%s: ctq printed %d lines, conntrack %d", what, len(g), len(w))
	}
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			t.Errorf("%s: line %d differs\nctq:       %s\nconntrack: %s", what, i+1, g[i], w[i])
			return
		}
	}
}

func TestListMatchesConntrack(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(3000))
	// conntrack -R carries marks over from line to line (a 1.4.7 bug), so
	// which marks the table holds is read back, not assumed.
	mark := regexp.MustCompile(`mark=([1-9][0-9]*)`).FindStringSubmatch(ns.Run(t, "conntrack", "-L"))
	if mark == nil {
		t.Fatal("the mixed table has no marked entries")
	}

	cases := []struct {
		name      string
		stmt      string
		format    string
		conntrack []string
	}{
		{"list", "list", "", []string{"-L"}},
		{"extended", "list", "extended", []string{"-L", "-o", "extended"}},
		{"id", "list", "id", []string{"-L", "-o", "id"}},
		{"extended,id", "list", "extended,id", []string{"-L", "-o", "extended,id"}},
		{"save", "list", "save", []string{"-L", "-o", "save"}},
		{"xml", "list where proto != sctp", "xml", []string{"-L", "-o", "xml"}},
		{"tcp 443 established", `list where proto==tcp && dport==443 && state=="ESTABLISHED"`, "", []string{"-L", "-p", "tcp", "--dport", "443", "--state", "ESTABLISHED"}},
		{"ipv6", "list where family == ipv6", "", []string{"-L", "-f", "ipv6"}},
		{"mark", "list where mark == MARK", "", []string{"-L", "-m", "MARK"}},
		{"zone", "list where zone == 2", "", []string{"-L", "-w", "2"}},
		{"src", `list where src == "198.18.1.2"`, "", []string{"-L", "-s", "198.18.1.2"}},
		{"cidr", `list where src in cidr("198.18.2.0/24")`, "", []string{"-L", "-s", "198.18.2.0/24"}},
		{"udp", "list where proto == udp", "extended", []string{"-L", "-p", "udp", "-o", "extended"}},
		{"icmp", "list where proto == icmp", "", []string{"-L", "-p", "icmp"}},
		{"dnat", "list where proto == tcp and reply_src != dst", "", []string{"-L", "-p", "tcp", "--dst-nat"}},
		{"assured", "list where assured", "", []string{"-L", "-u", "ASSURED"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			stmt := strings.ReplaceAll(c.stmt, "MARK", mark[1])
			for i := range c.conntrack {
				c.conntrack[i] = strings.ReplaceAll(c.conntrack[i], "MARK", mark[1])
			}
			args := []string{"--netns", ns.Name(), "-e", stmt}
			if c.format != "" {
				args = append(args, "-o", c.format)
			}
			got, stderr, rc := ctq(t, args...)
			if rc != 0 {
				t.Fatalf("ctq %q: exit %d: %s", stmt, rc, stderr)
			}
			want := ns.Run(t, "conntrack", c.conntrack...)
			if c.name == "xml" {
				// conntrack prints SCTP states from the TCP table (a bug ctq
				// fixes); the SCTP entries are left out of this comparison.
				want = dropMatching(want, `protoname="sctp"`)
			}
			if want == "" {
				t.Fatalf("conntrack %v printed too little to compare:\n%s", c.conntrack, want)
			}
			sameLines(t, c.name, got, want)
		})
	}
}

// dropMatching removes the lines that contain s.
func dropMatching(out, s string) string {
	var keep []string
	for _, l := range strings.SplitAfter(out, "\n") {
		if !strings.Contains(l, s) {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "")
}

func TestCountAndGet(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(500))

	got, stderr, rc := ctq(t, "--netns", ns.Name(), "-e", "count")
	want := ns.Run(t, "conntrack", "-C")
	if rc != 0 || got != want {
		t.Errorf("count: got %q (exit %d, %s), conntrack -C says %q", got, rc, stderr, want)
	}
	got, _, rc = ctq(t, "--netns", ns.Name(), "-e", "count where proto == tcp and dport == 22")
	want = fmt.Sprint(strings.Count(ns.Run(t, "conntrack", "-L", "-p", "tcp", "--dport", "22"), "\n")) + "\n"
	if rc != 0 || got != want {
		t.Errorf("selective count: got %q, want %q", got, want)
	}

	// Entry 2 of mixedTable: tcp 198.18.0.3:1026 -> 203.0.113.3:22.
	got, stderr, rc = ctq(t, "--netns", ns.Name(), "-e",
		`get {proto: tcp, src: "198.18.0.3", dst: "203.0.113.3", sport: 1026, dport: 22}`)
	want = ns.Run(t, "conntrack", "-G", "-p", "tcp", "-s", "198.18.0.3", "-d", "203.0.113.3", "--sport", "1026", "--dport", "22")
	if rc != 0 {
		t.Fatalf("get: exit %d: %s", rc, stderr)
	}
	sameLines(t, "get", got, want)

	_, stderr, rc = ctq(t, "--netns", ns.Name(), "-e",
		`get {proto: tcp, src: "198.18.0.3", dst: "203.0.113.3", sport: 1, dport: 22}`)
	if rc != 1 || !strings.Contains(stderr, "no such conntrack entry") {
		t.Errorf("get of a missing entry: exit %d, stderr %q; want 1 and a clear message", rc, stderr)
	}
}

// asNobody runs a command as the unprivileged user nobody.
func asNobody(bin string, args ...string) (string, string, int) {
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	rc := 0
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	} else if err != nil {
		rc = -1
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), rc
}

func TestUnprivileged(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	bin := buildCtq(t)
	ns := nstest.New(t)
	ns.Load(t, mixedTable(400))
	dir := filepath.Dir(bin)
	save := filepath.Join(dir, "table.save")
	if err := os.WriteFile(save, []byte(ns.Run(t, "conntrack", "-L", "-o", "save")), 0o644); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(strings.Count(ns.Run(t, "conntrack", "-L", "-p", "tcp", "--dport", "22"), "\n")) + "\n"

	got, stderr, rc := asNobody(bin, "--from", save, "-e", "count where proto == tcp and dport == 22")
	if rc != 0 || got != want {
		t.Errorf("offline count as nobody: got %q exit %d (%s), want %q", got, rc, stderr, want)
	}

	_, stderr, rc = asNobody(bin, "-e", "list")
	if rc != 1 || !strings.Contains(stderr, "CAP_NET_ADMIN") {
		t.Errorf("live list as nobody: exit %d, stderr %q; want exit 1 and a message naming CAP_NET_ADMIN", rc, stderr)
	}
}

// withLabelNames runs a shell script in a private mount namespace whose
// /etc is the host's with label names added (an overlay): conntrack(8)
// reads its label names only from /etc, and the host's /etc stays
// untouched.
func withLabelNames(t *testing.T, script string) string {
	t.Helper()
	dir := t.TempDir()
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	names := "0 web\n1 db\n5 vip\n"
	for _, p := range []string{filepath.Join(upper, "xtables"), work} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{filepath.Join(upper, "xtables", "connlabel.conf"), filepath.Join(upper, "connlabel.conf")} {
		if err := os.WriteFile(p, []byte(names), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mount := fmt.Sprintf("mount -t overlay overlay -o lowerdir=/etc,upperdir=%s,workdir=%s /etc", upper, work)
	out, err := exec.Command("unshare", "-m", "sh", "-ec", mount+"\n"+script).CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s\n%s", err, script, out)
	}
	return string(out)
}

func TestLabelsMatchConntrack(t *testing.T) {
	nstest.RequireCommand(t, "conntrack", "nft", "unshare")
	t.Parallel()
	bin := buildCtq(t)
	ns := nstest.New(t)
	// conntrack 1.4.7 -U needs -f (its bug 4). A rule that uses labels makes the kernel give new entries room for
	// them.
	rules := filepath.Join(t.TempDir(), "labels.nft")
	if err := os.WriteFile(rules, []byte("table inet t {\n chain c {\n  type filter hook output priority 0;\n  ct label set 1\n }\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	ns.Run(t, "nft", "-f", rules)
	ns.Load(t, mixedTable(200))

	x := "ip netns exec " + ns.Name() + " "
	out := withLabelNames(t, x+"conntrack -U -f ipv4 -p tcp --dport 22 --label-add db >/dev/null 2>&1\n"+
		x+"conntrack -U -f ipv4 -s 198.18.0.4 --label-add web >/dev/null 2>&1\n"+
		x+"conntrack -U -f ipv4 -s 198.18.0.4 --label-add vip >/dev/null 2>&1\n"+
		"echo ==conntrack\n"+x+"conntrack -L -o labels 2>/dev/null\n"+
		"echo ==ctq\n"+bin+" --netns "+ns.Name()+" -o labels -e list\n"+
		"echo ==conntrack-vip\n"+x+"conntrack -L -l vip 2>/dev/null\n"+
		"echo ==ctq-vip\n"+bin+" --netns "+ns.Name()+" -o labels -e 'list where \"vip\" in labels'\n")
	parts := map[string]string{}
	for _, sec := range strings.Split(out, "==")[1:] {
		name, body, _ := strings.Cut(sec, "\n")
		parts[name] = body
	}
	if !strings.Contains(parts["conntrack"], "labels=web,vip") || !strings.Contains(parts["conntrack"], "labels=db") {
		t.Fatalf("the labels were not set:\n%s", out)
	}
	sameLines(t, "-o labels", parts["ctq"], parts["conntrack"])
	sameLines(t, "vip in labels", parts["ctq-vip"], parts["conntrack-vip"])
}

func TestDyingAndUnconfirmed(t *testing.T) {
	nstest.RequireCommand(t, "conntrack")
	t.Parallel()
	ns := nstest.New(t)
	ns.Load(t, mixedTable(100))
	for _, table := range []string{"dying", "unconfirmed"} {
		got, stderr, rc := ctq(t, "--netns", ns.Name(), "-e", "list "+table)
		want := ns.Run(t, "conntrack", "-L", table)
		if rc != 0 || got != want {
			t.Errorf("list %s: exit %d (%s), %q; conntrack -L %s: %q", table, rc, stderr, got, table, want)
		}
		got, _, rc = ctq(t, "--netns", ns.Name(), "-e", "count "+table)
		if rc != 0 || got != fmt.Sprintf("%d\n", strings.Count(want, "\n")) {
			t.Errorf("count %s: exit %d, %q", table, rc, got)
		}
	}
}
