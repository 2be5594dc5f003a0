package repl

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"ctq/engine/format"
	"ctq/lang"
)

// helpBodies are the help of the statements after their syntax (which
// lang.Statements has), keyed by keyword; min, max and avg share sum's.
func helpBodies() map[string]string {
	b := map[string]string{
		"list": `  Print the entries that match, in the kernel's order unless ordered.
  TABLE is conntrack (default), expect, dying or unconfirmed. A condition
  on labels ("web" in labels) shows the labels in conntrack's text and xml
  formats, as conntrack -l does. With zero, the kernel zeroes each entry's
  counters as it reads it (conntrack -L -z): the entries print with the
  counters before zeroing. zero takes no order by or limit, and only a
  condition the kernel applies whole (exact matches joined by and, with
  the family for ports; no IPv6 addresses), since every entry the dump
  reads is zeroed.
    list
    list where proto == tcp and dport == 22
    list where src in cidr("198.51.100.0/24") or dst in cidr("2001:db8::/32")
    list where timeout < 60 order by timeout limit 10 as table
    list where family == ipv4 and proto == tcp and dport == 443 zero as json
    list expect`,
		"count": `  Print how many entries match; without where, the kernel's own counter.
  With by, the count of each group, largest first (ties by key): the keys,
  then the count (json: {"dport":22,"count":7}; csv: a header, then rows).
  Grouping streams the table: memory grows with the number of groups only.
    count
    count where proto == tcp and state == "SYN_SENT"
    count by dport
    count where proto == tcp by src, dport
    let n = count where state == "SYN_SENT"`,
		"top": `  The N values of the first EXPR with the largest sum of the by EXPR
  (without by: the most entries), largest first.
    top 10 src by bytes
    top 5 dport where proto == tcp
    top 3 dst by packets where state == "ESTABLISHED"`,
		"sum": `  Add up, bound or average a number (or a duration, in seconds) over the
  matching entries of the conntrack table; with by, per group, largest
  first. Without by the result is one number, and let can keep it.
    sum bytes
    avg timeout by proto
    max age by src
    min timeout where proto == udp by dport
    let total = sum bytes where dport == 443`,
		"delete": `  Remove the entries that match (a bare delete is refused: use flush). With
  dry, only count them. Where the kernel can apply the whole condition
  (mark, status, family, tuple fields; kernel 6.12+) the delete is one
  kernel-side filtered flush, checked by the kernel on each entry. Else each
  entry is deleted by tuple and kernel id (CTA_ID): an entry re-created with
  the same tuple while the delete runs can get the same id and be taken
  although it no longer matches; ctq keeps that window short (it sends
  every 64 entries) but cannot close it. An entry the condition fails on at
  run time is left alone and counted; the exit code is then 1. With as,
  each deleted entry is printed in that format (as conntrack -D does; save
  writes -A lines, so that load puts the entries back), and the summary
  goes to stderr.
    delete where proto==tcp && dport==22 && state=="ESTABLISHED"
    delete where mark == 1 as save
    delete where src in cidr("192.0.2.0/24") dry
    delete expect where helper == "ftp"`,
		"update": `  Change mark, timeout, labels (= exactly these, [] for none; += / -= set
  or clear some), status (+=) or the protocol state of the entries that
  match; EXPR may read the entry. "where true" updates every entry. state
  takes a state name of the one protocol the where clause selects (proto
  == tcp, sctp or dccp; conntrack -U --state). An entry the change leaves as it is (the mark it has, flags and labels
  it has, the state it is in) is neither sent nor counted, by dry too;
  setting the timeout changes every entry (it restarts the timer). With
  as, each updated entry is printed in that format as the kernel holds it
  after the change (as conntrack -U does), and the summary goes to stderr.
    update set mark = 7 where dport in 8000..8100
    update set mark = 1 where proto == udp as extended
    update set state = "CLOSE" where proto == tcp and dport == 22
    update set mark = bitor(mark, 0x10), timeout = duration("5m") where proto == udp
    update set labels += "web", status += "ASSURED" where dport == 443 dry
    update set labels = [] where "web" in labels`,
		"insert": `  Create entries from constant values (see help fields for the names).
  An entry that exists already is an error; with if absent it is left as
  it is and counted (conntrack -A): "inserted N entries, M existed".
  A record may give the reply tuple alone (reply_src, reply_dst and the
  reply ports): the original is its inverse, as with conntrack -I -r -q.
    insert {src: "192.0.2.1", dst: "198.51.100.7", proto: tcp, sport: 40000, dport: 22, timeout: 60, state: "ESTABLISHED"}
    insert {src: "192.0.2.1", dst: "192.0.2.2", proto: icmp, icmp_type: 8, icmp_code: 0, icmp_id: 7, timeout: 30}
    insert if absent {src: "192.0.2.1", dst: "198.51.100.7", proto: udp, sport: 5353, dport: 53, timeout: 30}`,
		"load": `  Apply a file of conntrack -R lines (-o save format); "-" is standard
  input. Every line is checked before any is applied.
    load "/var/lib/ctq/table.save"
    load -`,
		"flush": `  Empty conntrack or expect, or one family of it.
    flush
    flush ipv6
    flush expect`,
		"watch": `  Stream events (new, update, destroy) until Ctrl-C, the duration or the
  limit. Lost events are marked where they happened (a "# ctq: events lost
  here" line; {"lost":true,...} in json) and make the statement fail. With
  reliable, the kernel holds a destroyed entry until its destroy event is
  delivered instead of dropping the event (conntrackd's
  NetlinkEventsReliable): no destroy event is lost, but a reader that
  falls behind makes the kernel keep dead entries, which count against
  nf_conntrack_max (a full table drops new connections); new and update
  events can still be lost. With count ... every, print a report an
  interval instead: how many events, per group, largest first (limit then
  counts reports).
    watch new,destroy where proto == udp and dport == 53
    watch destroy reliable as json
    watch new for 30s as json
    watch expect limit 10
    watch new count by dport every 1s
    watch new where proto == tcp count every 10s as json`,
		"stats": `  The kernel's per-CPU counters. text: conntrack -S's lines byte for byte
  (conntrack -S expect for expect), then for conntrack one line
  "entries=N max=N" (the global entry count, as conntrack -C, and
  nf_conntrack_max). json: an object a CPU ({"cpu":0,"found":0,...}), then
  {"entries":N,"max":N}. csv and table: a row a CPU, the counters in the
  kernel's order, then entries and max.
    stats
    stats expect
    stats as json`,
		"serve": `  Answer Prometheus scrapes on http://ADDR/metrics until Ctrl-C (or the
  duration): ctq_conntrack_entries and ctq_conntrack_entries_limit, every
  conntrack -S counter summed over the CPUs (ctq_conntrack_stat_NAME_total,
  ctq_expect_stat_NAME_total; docs/metrics.md lists every metric),
  ctq_conntrack_entries_by_state{proto,state}, event counters
  (ctq_conntrack_events_total{type}, ..._event_overflows_total,
  ..._resyncs_total), and with where/by the user's series
  ctq_conntrack_series_entries{KEY...} (labels named after the keys).
  The per-state and user series come from one full dump, then events, then
  a full dump every 60s (or every DURATION) and after lost events: a
  scrape never dumps the table. They may be stale by up to that: entries created before the server
  started send no events where net.netfilter.nf_conntrack_events=2 (the
  default), and an update that does not change the state does not
  re-evaluate where/by. ADDR is an IP address and a port, not a host name:
  "0.0.0.0:PORT" or "[::]:PORT" listens on every address. "127.0.0.1:0"
  picks a free port; the address is printed on stderr. textfile writes the same metrics (no event counters)
  once, from one dump, for node_exporter's textfile collector. With sync,
  the running sync node of CONF (default as for sync) is asked for its
  counters at each scrape: ctq_sync_up, ctq_sync_cache_entries{cache},
  ctq_sync_link_*{link}, ctq_sync_messages_*, ctq_sync_sequence_lost_total,
  ctq_sync_resend_queue_*, ctq_sync_kernel_*, ctq_sync_auth_*.
    serve "127.0.0.1:9555"
    serve "127.0.0.1:9555" sync "/etc/ctq/sync.conf"
    serve "127.0.0.1:9555" where proto == tcp by dport
    serve textfile "/var/lib/node_exporter/textfile/ctq.prom" by zone`,
		"account": `  Flow accounting (conntrackd's stats mode): append every destroyed entry
  the condition selects to FILE, with its counters and timestamps, until
  Ctrl-C or the duration. FORMAT is extended,ktimestamp by default (conntrack
  -E -o extended,ktimestamp lines), another of conntrack's text formats, or
  json. FILE must be a regular file, not a symbolic link; one account
  creates gets mode 0640. SIGHUP reopens FILE (for logrotate). Destroy
  events are delivered reliably (as watch ... reliable): when account falls
  behind, the kernel holds the destroyed entries until their events are
  read, so no record is lost, but the held entries count against
  nf_conntrack_max meanwhile. Entries that end without a destroy event
  (made before account started, where nf_conntrack_events=2; set it to 1)
  are found by a table dump every 30s (or every DURATION) and logged with
  the counters the dump before saw. Counters need net.netfilter.nf_conntrack_acct=1,
  timestamps nf_conntrack_timestamp=1.
    account "/var/log/ctq/flows.log"
    account "/var/log/ctq/flows.json" where proto == tcp as json`,
		"sync": `  State synchronization with a peer (conntrackd's sync modes FTFW, NOTRACK
  and ALARM, on its wire protocol) from a conntrackd configuration file:
  PATH, by default /etc/ctq/sync.conf, else /etc/conntrackd/conntrackd.conf.
  run keeps a node in the foreground until Ctrl-C or SIGTERM (for systemd);
  start runs one in the background of the shell until sync stop or the end
  of the session. The others ask the running node over its control socket
  (General { UNIX { Path } }), as conntrackd's options do; after sync
  start, those without PATH ask the node the session started:
    stop      end the node (-k)          status   its counters (-s)
    commit    external cache -> kernel (-c; cancels a pending purge)
    flush     empty both caches, or one (-f); flush kernel empties the
              kernel table of what the Filter passes, unadvertised (-F)
    resync    ask the peer for its whole table (-n)
    refresh   reread the kernel table into the internal cache (-R)
    bulk      send the internal cache to the peer (-B)
    purge     flush kernel after PurgeTimeout (-t)
    dump      print a cache as conntrack -L does (-i, -e); with expect,
              the expectation cache (ExpectationSync) as conntrack -L expect
  commit, refresh and flush kernel act on the conntrack table and, with
  ExpectationSync, the expect table; conntrack or expect picks one (-c ct,
  -c expect, ...).
  A failover script: becoming primary, sync commit, flush, refresh, bulk;
  becoming backup, sync purge, resync.
    sync run "/etc/ctq/sync.conf"
    sync commit "/etc/ctq/sync.conf"
    sync dump external`,
		"let": `  Set a variable for the rest of the script (and, in the shell, the
  following lines). Its type comes from the value (count gives an int; sum,
  min, max and avg a float) and stays; a variable may be used in any
  expression, where clauses too, as a constant (it reaches the kernel
  filter). A let inside an if that did not run leaves the zero value.
    let p = 22
    list where dport == p
    let n = count where state == "SYN_SENT"
    let total = sum bytes`,
		"print": `  Print a value: strings as they are, numbers without trailing zeros,
  lists and maps as JSON.
    print 6*7
    print "x=" + string(n)`,
		"if": `  Run a block when EXPR is true. Blocks hold statements on lines or
  separated by ";"; else goes on the line of the "}". A condition that
  starts with "{" needs parentheses.
    let n = count where state == "SYN_SENT"
    if n > 100 { print "SYN flood? " + string(n); exit 3 } else { print "ok" }`,
		"exit": `  End the script (or the shell) with exit code N (0..255; default 0).
    exit
    exit 3
    exit n > 0 ? 1 : 0`,
		"source": `  Run the statements of another file here. It is read and compiled with the
  script, before anything runs; errors name that file. A relative path is
  read from the directory of the script that sources it (in the shell and
  -e, the current directory).
    source "common.ctq"`,
		"set": `  Change the session's default output format, or switch the live table to
  another network namespace (as ip netns names it).
    set output json
    set output extended,id
    set netns blue`,
		"explain": `  Show how a list, count, delete, update, top, sum, min, max or avg would
  run: the kernel filter it asks for and the part the kernel applies, the
  condition checked in userspace, whether a delete can be one filtered
  flush, and how many entries the kernel returns against how many match
  (one counting scan; nothing is changed).
    explain delete where proto == tcp && dport == 22
    explain count where mark == 1 and src in cidr("192.0.2.0/24")`,
		"get": `  Look one entry up by its original tuple (a kernel lookup, not a scan);
  with id too, the entry must have that id. By id alone (as list -o id
  shows it), the table is read until the entry of that id. get expect
  finds the expectation of a tuple (or id) among the expectations.
    get {proto: tcp, src: "192.0.2.1", dst: "198.51.100.7", sport: 40000, dport: 22}
    get {id: 3204117568} as extended
    get expect {proto: tcp, src: "192.0.2.1", dst: "198.51.100.7", sport: 0, dport: 50000}
    get {proto: icmp, src: "192.0.2.1", dst: "192.0.2.2", icmp_type: 8, icmp_code: 0, icmp_id: 7}`,
	}
	for _, alias := range []string{"min", "max", "avg"} {
		b[alias] = b["sum"]
	}
	return b
}

// helpSubjects are the help topics that are not statements.
func helpSubjects() map[string]string {
	return map[string]string{
		"scripts": `Scripts (ctq FILE, -e, stdin) are statements on lines or separated by ";"; # starts a comment.
  The whole script (with sourced files) parses and type-checks before its
  first statement runs. A runtime error stops it with exit code 1 and
  names the line (script.ctq:4: ...); exit N ends it with code N.
    let n = count where dport == 22
    if n > 0 {
      print "ssh flows: " + string(n)
      exit 3
    }`,
		"expressions": `Conditions are expr expressions (https://expr-lang.org) over a flow's fields.
    proto == tcp and dport in [22, 80, 443]        bare words tcp udp icmp ... ipv4 ipv6
    proto == esp, protonum == 50                   other protocols (/etc/protocols names)
    dport in 8000..8100                            ranges
    src in cidr("192.0.2.0/24")                    prefixes
    src == "192.0.2.1"                             addresses
    mask(src, "255.0.255.0") == "192.0.2.0"        any mask (conntrack --mask-src)
    "ASSURED" in status, assured, !seen_reply      status bits
    "web" in labels, 3 in labels                   labels (names from connlabel.conf)
    age > duration("5m"), start < now()            time
    bitand(mark, 0xff) == 7                        bits: bitand bitor bitxor bitnot bitshl bitshr
    helper == "ftp" || timeout < 30                anything else expr can say`,
		"shell": `The shell: Tab completes what may come next: statements, sync verbs and
  their arguments, tables, clauses, fields, constants and formats; Up/Down
  walk the history (~/.ctq_history); an open bracket or a trailing \
  continues a statement on the next line; Ctrl-C cancels the running
  statement (or the line); Ctrl-D leaves.`,
		"formats": formatHelp(),
	}
}

// helpTexts holds the help topics: a statement (its syntax, then its
// body) or a subject, each with examples.
func helpTexts() map[string]string {
	t := helpSubjects()
	bodies := helpBodies()
	for _, s := range lang.Statements() {
		t[s.Keyword] = s.Syntax + "\n" + bodies[s.Keyword]
	}
	return t
}

// formatHelp is the formats topic: each format name that has a summary.
func formatHelp() string {
	var b strings.Builder
	b.WriteString("as FORMAT / -o FORMAT")
	for _, name := range format.Names() {
		if sum := format.Summary(name); sum != "" {
			fmt.Fprintf(&b, "\n  %-10s %s", name, sum)
		}
	}
	return b.String()
}

// helpTopics lists the topics of help, sorted.
func helpTopics() []string {
	var out []string
	for k := range helpTexts() {
		out = append(out, k)
	}
	out = append(out, "fields")
	slices.Sort(out)
	return out
}

// isHelp reports whether text is a help request ("help" or "help TOPIC",
// alone on its line), and returns the topic.
func isHelp(text string) (topic string, ok bool) {
	f := strings.Fields(strings.TrimSpace(text))
	if len(f) == 0 || f[0] != "help" || len(f) > 2 {
		return "", false
	}
	if len(f) == 2 {
		return f[1], true
	}
	return "", true
}

// writeHelp prints the help for topic ("" for the overview).
func writeHelp(w io.Writer, topic string) error {
	switch topic {
	case "":
		var b strings.Builder
		b.WriteString("Statements:\n")
		for _, s := range lang.Statements() {
			fmt.Fprintf(&b, "  %-8s %s\n", s.Keyword, s.Summary)
		}
		fmt.Fprintf(&b, "Topics: %s.\nhelp TOPIC shows one, with examples.\n", strings.Join(helpTopics(), ", "))
		_, err := io.WriteString(w, b.String())
		return err
	case "fields":
		_, err := fmt.Fprintf(w, "Fields of a flow:\n  %s\nConstants: %s\nFormats: %s\n",
			strings.Join(lang.Fields(), " "), strings.Join(lang.Constants(), " "), strings.Join(format.Names(), " "))
		return err
	}
	t, ok := helpTexts()[topic]
	if !ok {
		return &UsageError{Msg: fmt.Sprintf("no help on %q; topics: %s", topic, strings.Join(helpTopics(), ", "))}
	}
	_, err := fmt.Fprintln(w, t)
	return err
}
