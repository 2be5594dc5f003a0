package conntrackd

import (
	"fmt"
	"io"
	"time"
)

// version is the conntrackd release whose command line, messages and
// output this front end reproduces.
const version = "1.4.7"

// Usage is conntrackd's usage text (-h) for program name prog, followed
// by what ctq's client does differently.
func Usage(prog string) string {
	return fmt.Sprintf("Connection tracking userspace daemon v%s\n", version) +
		fmt.Sprintf("Usage: %s [commands] [options]\n\n", prog) +
		`General commands:
  -d, run in daemon mode
  -C [configfile], configuration file path
  -v, display conntrackd version
  -h, display this help information

Client mode commands:
  -c [ct|expect], commit external cache to conntrack table
  -f [internal|external], flush internal and external cache
  -F [ct|expect], flush kernel conntrack table
  -i [ct|expect], display content of the internal cache
  -e [ct|expect], display the content of the external cache
  -k, kill conntrack daemon
  -s  [network|cache|runtime|link|rsqueue|queue|ct|expect], dump statistics
  -R [ct|expect], resync with kernel conntrack table
  -n, request resync with other node (only FT-FW and NOTRACK modes)
  -B, force a bulk send to other replica firewalls
  -x, dump cache in XML format (requires -i or -e)
  -t, reset the kernel timeout (see PurgeTimeout clause)

` + usageCtq
}

// usageCtq ends the usage: ctq's differences from conntrackd.
const usageCtq = `This is ctq's conntrackd front end (ctq conntrackd, or ctq linked as conntrackd).
Unlike conntrackd's client, it exits 1 when ctq's daemon reports that a
request failed (a commit or flush the kernel refused, printed as an ERROR:
line); conntrackd's client exits 0 whatever the daemon answers.
`

// Differences lists where ctq's conntrackd deliberately does not do what
// conntrackd 1.4.7 does, one a line (the man page lists them with the
// conntrack front end's).
var Differences = []string{
	"the client exits 1 when ctq's node reports a failed request (a commit the kernel refused entries of, a failed flush: the node's ERROR: line is printed); conntrackd's client exits 0 whatever the daemon answers",
	"errors of the configuration are ctq's messages (file:line: what is wrong), not conntrackd's 'parsing config file in line (N)'",
	"with -d, a node that fails to start says why on standard error too (conntrackd writes it to its LogFile only)",
}

// Version is conntrackd's -v text.
func Version() string {
	return fmt.Sprintf("Connection tracking userspace daemon v%s. Licensed under GPLv2.\n", version) +
		"(C) 2006-2009 Pablo Neira Ayuso <pablo@netfilter.org>\n"
}

// logLine is one of conntrackd's log lines: "[ctime] (pid=N) [level] msg".
func logLine(now time.Time, pid int, l Level, msg string) string {
	return fmt.Sprintf("[%s] (pid=%d) [%s] %s\n", now.Format("Mon Jan _2 15:04:05 2006"), pid, l, msg)
}

// console prints messages as conntrackd does before its log is set up:
// notices to stdout, warnings and errors to stderr.
type console struct {
	stdout, stderr io.Writer
	now            func() time.Time
	pid            int
	prog           string
}

// log prints one message.
func (c *console) log(l Level, msg string) {
	w := c.stdout
	if l != LevelNotice {
		w = c.stderr
	}
	io.WriteString(w, logLine(c.now(), c.pid, l, msg))
}

// clock is the time of a message: c's clock, time.Now without a console.
func (c *console) clock() time.Time {
	if c == nil || c.now == nil {
		return time.Now()
	}
	return c.now()
}

// print prints what Parse produced, in order.
func (c *console) print(out []Output) {
	for _, o := range out {
		switch {
		case o.Usage:
			io.WriteString(c.stdout, Usage(c.prog))
		case o.Version:
			io.WriteString(c.stdout, Version())
		default:
			c.log(o.Level, o.Msg)
		}
	}
}
