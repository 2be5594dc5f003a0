// Package format writes flows in every output format of ctq: conntrack's
// own (text, extended, id, ktimestamp, labels, xml, save), byte for byte as
// conntrack 1.4.7 with libnetfilter_conntrack 1.0.9 prints them, and ctq's
// machine and human formats (json, csv, table).
//
// New returns an engine.Writer for a format name. Every writer streams: it
// renders each flow into a reused buffer and writes it through a
// bufio.Writer, so Flush must be called at the end. The line builders
// (AppendText, AppendSave, AppendXML, AppendJSON, AppendCSV) are exported
// for the event stream and the delete output, which need the event label
// ("    [NEW] "), the save command (-A, -U, -D) or the xml type attribute.
//
// Every format prints an optional attribute only when its Has bit is set,
// as conntrack prints only the attributes the kernel sent.
//
// # conntrack 1.4.7 quirks: kept or fixed
//
// The text formats (text, extended, id, ktimestamp, labels) and save are
// what scripts parse, so they keep conntrack's output exactly, quirks
// included:
//
//   - save drops mark, labels, helper, secctx, counters, id, use and the
//     timestamps (bug 11 of the reference's list). A save table reloaded
//     with conntrack -R or ctq load loses its marks and labels, exactly as
//     with conntrack; the json format keeps every attribute and is the one
//     to use for a lossless copy.
//   - save writes -g/-n (NAT) for the reply addresses only when the
//     addresses differ and the status has IPS_DST_NAT_DONE/IPS_SRC_NAT_DONE
//     (or no status at all); an entry created with an explicit reply tuple
//     saves with -r/-q.
//   - delta-time is computed in whole seconds (stop, or time(NULL) while the
//     entry lives, minus start, each truncated) and a negative difference
//     wraps to a huge unsigned number, as conntrack's %llu prints it.
//   - labels= lists only the set bits that have a name; when none has one
//     the field degenerates to a bare "labels".
//   - helper= and secctx= are printed raw, without quoting.
//   - ICMP prints the reply tuple's own type (echo reply 0 for request 8).
//
// The xml format copies conntrack's structure (one <flow> a line, the
// header before the first entry and nothing at all for zero entries, <id>
// always, extended and id without effect, deltatime computed as conntrack
// does) but fixes what makes it wrong or not well-formed (bug 10):
//
//   - helper, secctx and label names are escaped (&, <, >, " and '; control
//     characters XML cannot carry become U+FFFD). conntrack escapes nothing.
//   - SCTP and DCCP states carry their own names. conntrack indexes the TCP
//     name table (an ESTABLISHED SCTP association prints FIN_WAIT).
//   - an entry whose only independent attribute is secctx still gets its
//     <meta direction="independent"> element around <secctx>.
//   - the closing </conntrack> is written by Flush whenever the header was
//     written (conntrack -G -o xml never closes the document).
//
// Kept in xml: ICMP type, code and id are not printed (the layer4 element
// is empty, as in conntrack); the json format has them.
//
// # Expectations
//
// NewExpect writes the expect table in the same formats. AppendExpect is
// conntrack's expectation line byte for byte, AppendExpectXML its xml
// (root <expect>; the helper name is escaped, as above), AppendExpectJSON
// and AppendExpectCSV ctq's typed forms. conntrack ignores extended, id,
// ktimestamp and save for expectations, and so does ctq.
//
// # Events
//
// NewEvents writes the event stream of the watch statement: conntrack -E's
// lines, with the "%9s " label, the -o timestamp prefix and the
// " [USERSPACE] portid=N progname=NAME" suffix of events a process caused;
// xml documents of <flow type="..."> elements; -A/-U/-D save lines; json
// objects and csv rows with the event type, time and port id. The writer
// buffers: its caller flushes when it has no event waiting (see
// EventWriter). Fixed in events:
//
//   - the [USERSPACE] suffix is left out of xml and save events (bug 6):
//     conntrack appends it after </flow>, so the document is not
//     well-formed, and after the save arguments, so conntrack -R and ctq
//     load cannot read the line.
//   - -o timestamp prints "[SECONDS.MICROSECONDS]\t" with zero-padded
//     microseconds for expectations too; conntrack pads an expectation's
//     microseconds with blanks on the right ("[%-8ld.%-6ld]", bug 24), so
//     that .5023 means 5023 microseconds. Listings of expectations (NewExpect
//     with timestamp) print the same prefix, as conntrack -L expect does.
//   - expectation events carry the [USERSPACE] suffix too; conntrack never
//     prints it for them, and kernel-made expectations have none anyway.
//
// # Statistics and groupings
//
// WriteStats prints the per-CPU counters of the stats statement
// (conntrack -S's lines in text; json, csv and table too). WriteGroups
// prints the rows of a grouping (count by, top, sum, ...) and
// NewGroupReports the interval reports of a counting watch; Display renders
// a key (or any value of ctq's language) as ctq prints it.
//
// # json
//
// One object a line. Keys, in this order, and when they are present:
//
//	family, proto, protonum, src, dst        always (an absent address is "")
//	sport, dport                             protocols with ports (GRE: keys), or when non-zero
//	icmp_type, icmp_code, icmp_id            icmp and icmpv6, or when non-zero
//	reply_src, reply_dst                     when the reply tuple is present (Has bit)
//	reply_sport, reply_dport, reply_icmp_type,
//	reply_icmp_code, reply_icmp_id           as the original ones, for a present reply tuple
//	state                                    TCP/SCTP/DCCP state name
//	state_num                                only when the state number is not the name's (or has no name)
//	status                                   array of flag names ("BITn" for unnamed bits)
//	mark, secmark, zone, orig_zone,
//	reply_zone, timeout, id, use             numbers
//	labels                                   array of bit numbers, names where LabelNames has one
//	label_bits                               the bit numbers, when labels holds names
//	helper, secctx                           strings
//	packets, bytes, orig_packets, orig_bytes,
//	reply_packets, reply_bytes               numbers (both directions, and each)
//	start, stop                              RFC 3339 in UTC with nine digits of nanoseconds
//	age                                      seconds, an exact decimal number (28.5)
//	orig_vtag, reply_vtag                    SCTP verification tags
//	role                                     DCCP role, "client" or "server"
//
// Optional attributes appear only when their Has bit is set; DecodeJSON
// sets the Has bits back from the keys present, so json -> DecodeJSON gives
// the same Flow.
//
// # csv
//
// A header row, then one row a flow, LF line ends, fields quoted as RFC
// 4180 requires (a field holding a comma, a double quote, CR or LF is
// enclosed in double quotes, quotes doubled). The columns, fixed:
//
//	family proto protonum src dst sport dport icmp_type icmp_code icmp_id
//	reply_src reply_dst reply_sport reply_dport reply_icmp_type
//	reply_icmp_code reply_icmp_id state status mark secmark zone orig_zone
//	reply_zone timeout id use labels helper secctx packets bytes
//	orig_packets orig_bytes reply_packets reply_bytes start stop age
//
// A cell is empty when its attribute is absent (ports for protocols
// without ports, ICMP fields for others). status and labels are joined by
// "|" (status "0" when no flag is set); times and age are written as in
// json.
//
// # table
//
// Aligned columns for a terminal: PROTO, SRC and DST (addr:port,
// [addr]:port for IPv6), STATE (the ICMP type and code for ICMP),
// REPLY-SRC, REPLY-DST, MARK, ZONE, TIMEOUT, PACKETS, BYTES, FLAGS
// (UNREPLIED, ASSURED, SNAT, DNAT, OFFLOAD, HW_OFFLOAD, DYING); "-" for an
// absent value. The writer holds back the first 1000 rows to size the
// columns, then writes them and streams every later row with those widths
// (a longer cell shifts the rest of its row). Flush writes the held rows,
// or the header alone when there was no row.
package format
