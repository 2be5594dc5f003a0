package repl

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"ctq/engine/format"
	"ctq/lang"
)

// helpTexts holds the help topics: a statement or a subject, each with
// examples.
func helpTexts() map[string]string {
	return map[string]string{
		"list": `list [TABLE] [where EXPR] [order by EXPR [asc|desc], ...] [limit N] [as FORMAT]
  Print the entries that match, in the kernel's order unless ordered.
  TABLE is conntrack (default), expect, dying or unconfirmed.
    list
    list where proto == tcp and dport == 22
    list where src in cidr("198.51.100.0/24") or dst in cidr("2001:db8::/32")
    list where timeout < 60 order by timeout limit 10 as table
    list expect`,
		"count": `count [TABLE] [where EXPR]
  Print how many entries match; without where, the kernel's own counter.
    count
    count where proto == tcp and state == "SYN_SENT"`,
		"get": `get {proto: P, src: ADDR, dst: ADDR, sport: N, dport: N [, zone: Z]} [as FORMAT]
  Look one entry up by its original tuple (a kernel lookup, not a scan).
    get {proto: tcp, src: "192.0.2.1", dst: "198.51.100.7", sport: 40000, dport: 22}
    get {proto: icmp, src: "192.0.2.1", dst: "192.0.2.2", icmp_type: 8, icmp_code: 0, icmp_id: 7}`,
		"expressions": `Conditions are expr expressions (https://expr-lang.org) over a flow's fields.
    proto == tcp and dport in [22, 80, 443]        bare words tcp udp icmp ... ipv4 ipv6
    dport in 8000..8100                            ranges
    src in cidr("192.0.2.0/24")                    prefixes
    src == "192.0.2.1"                             addresses
    "ASSURED" in status, assured, !seen_reply      status bits
    "web" in labels, 3 in labels                   labels (names from connlabel.conf)
    age > duration("5m"), start < now()            time
    helper == "ftp" || mark & 0xff == 7            anything else expr can say`,
		"formats": `as FORMAT / -o FORMAT
  text       conntrack's default line (byte for byte)
  extended   conntrack -o extended; also id, ktimestamp, labels and lists: extended,id
  xml        conntrack -o xml
  save       conntrack -o save (for conntrack -R and ctq's load)
  json       one object a line, typed fields
  csv        a header, then a row an entry
  table      aligned columns`,
		"shell": `The shell: Tab completes keywords, fields, tables and formats; Up/Down walk
  the history (~/.ctq_history); an open bracket or a trailing \ continues a
  statement on the next line; Ctrl-C cancels the running statement (or the
  line); Ctrl-D leaves.`,
	}
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
		_, err := fmt.Fprintf(w, "Statements: list, count, get. Topics: %s.\nhelp TOPIC shows one, with examples.\n",
			strings.Join(helpTopics(), ", "))
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
