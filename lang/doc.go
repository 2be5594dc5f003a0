// Package lang is ctq's statement language: a lexer, a parser into
// statements, and a compiler from statements to engine.Plan.
//
// A script is statements separated by newlines or ";". Blank lines and
// comments ("#" to the end of the line, outside brackets; expr's "//" and
// "/* */" anywhere) are ignored. A newline inside an open ( [ { continues
// the statement; a ";" outside brackets always ends it, so expr's
// "let x = ...; x" sequence needs parentheses. Keywords are lowercase only.
// CompileProgram compiles every statement (and every sourced file) before
// anything runs: one fault anywhere fails the whole script.
//
// # Statements
//
//	list   [TABLE] [where EXPR] [order by EXPR [asc|desc], ...] [limit N] [zero] [as FORMAT]
//	count  [TABLE] [where EXPR]
//	get    [TABLE] {field: EXPR, ...} [as FORMAT]
//	delete [TABLE] where EXPR [dry] [as FORMAT]
//	update [conntrack] set ASSIGN, ... where EXPR [dry] [as FORMAT]
//	insert [TABLE] [if absent] RECORD
//	insert [TABLE] [if absent] [RECORD, RECORD, ...]
//	flush  [TABLE] [ipv4|ipv6]
//	load   "FILE" | load -
//	watch  [TABLE] [EVENTS] [where EXPR] [count [by KEYS] every DURATION] [for DURATION] [limit N] [as FORMAT]
//	count  [TABLE] [where EXPR] by EXPR, ...
//	top    [TABLE] N EXPR [by EXPR] [where EXPR]
//	sum|min|max|avg EXPR [where EXPR] [by EXPR, ...]
//	let NAME = EXPR | let NAME = count|sum|min|max|avg ...
//	print EXPR
//	if EXPR { ... } [else { ... } | else if EXPR { ... }]
//	exit [EXPR]
//	source "FILE"
//	set output FORMAT | set netns NAME
//	explain STMT
//	stats  [conntrack|expect] [as FORMAT]
//	serve  "ADDR" [where EXPR] [by EXPR, ...] [every DURATION] [for DURATION]
//	serve  textfile "FILE" [where EXPR] [by EXPR, ...]
//	account "FILE" [where EXPR] [every DURATION] [for DURATION] [as FORMAT]
//
// TABLE is conntrack (the default), expect, dying or unconfirmed; FORMAT
// is a format name or a comma list of names ("extended,id"). Clauses may
// come in any order, each once. The other statement keyword of the
// language (help) is recognized and refused with "statement `help` is not
// supported yet" (the shell answers help).
//
// sync (a SyncStep) is `sync run|start|stop|status|resync|bulk|purge|
// commit|refresh [conntrack|expect]|flush [internal|external|kernel
// [conntrack|expect]]|dump internal|external [expect] ["PATH"]`: run a
// sync node from a
// conntrackd configuration file, or ask the running one over its control
// socket; without PATH the default file is chosen when the step runs.
//
// stats (a StatsStep) prints the kernel's per-CPU counters of conntrack or
// expect. serve (a ServeStep) exports metrics to Prometheus: at ADDR until
// interrupted or for DURATION, or once to FILE (textfile); its where and
// by clauses compile as "count where EXPR by EXPR, ..." into
// ServeStep.Series, the user's own series; with sync ["CONF"] the sync
// node's counters join each scrape. account (an AccountStep) logs
// destroyed flows to FILE; it compiles as "watch destroy [where EXPR] [for
// DURATION] [as FORMAT]" into AccountStep.Watch.
//
// # Grouping
//
// count ... by, top, sum, min, max and avg compile to an engine.ActGroup
// plan (Plan.Group): engine.Aggregate streams the table through the
// condition into one accumulator per group, so memory grows with the
// number of groups, not the table. Groups come largest value first, ties
// by their keys ascending. A key is any value a sort key may be (number,
// string, boolean, address, time, duration), at most engine.MaxGroupKeys
// of them; the value of sum, min, max, avg and of top's by is a number or
// a duration (in seconds). "top N K by V" sums V per K and keeps the N
// largest; without by it counts entries. PlanStep.Columns names the keys
// (their source text) and the value (count, sum, min, max, avg, or top's
// by expression). The expect table cannot be grouped; sum, min, max and
// avg read the conntrack table.
//
// # Scripts
//
// CompileProgram turns a script into a Program of Steps: a PlanStep for
// each query or change statement, and a step for each of let, print, if,
// exit, set and explain (a source statement's steps are spliced in: the
// file is read and compiled with the script, relative to Options.Dir, and
// errors in it carry its name in Error.File). The caller runs the steps.
//
// let declares a variable for the rest of the script with the static type
// of its value: an expression over earlier variables (no flow fields), or
// "count ..." (an int) or "sum|min|max|avg EXPR ..." without by (a
// float64; 0 when nothing matches) run when the let runs; "count(...)"
// with a parenthesis stays expr's builtin. A variable keeps its type: a
// let of another type is an error. Names of flow fields, constants,
// functions and keywords are refused. A variable is visible in every
// later expression, where clauses included: it is replaced by its value
// as a constant when the statement runs (PlanStep.Plan compiles the
// statement again with the current values), so it costs nothing per flow
// and reaches the kernel filter (let p = 22 then list where dport == p
// pushes dport 22). At compile time a variable whose value is known (a
// constant expression) is checked with that value, else with the zero
// value of its type. A let inside a block that did not run leaves the
// zero value (Program.Vars lists the declared variables and ZeroValue
// gives it). Options.Vars carries the variables of earlier shell lines.
//
// if runs one block or the other: a block is "{", statements on lines or
// separated by ";", "}" (the lexer treats a block's "{" as the top level:
// newlines end statements and "#" starts a comment inside it); "else"
// goes on the line of the "}". An if condition runs to the first "{"
// outside brackets, so a condition that starts with a map literal needs
// parentheses. exit's code is a whole number (0..255, checked when it
// runs). set output takes format names (checked against Options.Formats);
// set netns takes a namespace name, quoted or as written (ns-1). explain
// takes a list, count, delete, update, top, sum, min, max or avg
// statement.
//
// list ... zero zeroes the counters of the entries it reads (Plan.Zero); it
// takes no order by or limit and only a condition the kernel applies whole
// (Plan.Exact), since the kernel zeroes every entry its dump reads.
//
// delete removes the entries its condition selects; with dry it only
// counts them (Plan.Dry). A delete without where is refused: flush empties
// a table. update changes the selected entries (Plan.Change computes the
// change of each, without what the entry already is; an entry the change
// would leave as it is is not selected, unless the timeout is set); it
// needs both set and where ("where true" updates every entry). With as,
// both print what they touch (Plan.Echo, in the PlanStep's Format). ASSIGN
// is one of
//
//	mark = EXPR            a whole number 0..4294967295; EXPR may read the
//	                       flow: mark = bitor(mark, 0x10)
//	timeout = EXPR         seconds, or a duration (rounded up to seconds)
//	labels += BITS         set label bits: a bit, a name (Options.LabelNames)
//	labels -= BITS         or a list of them; clear them
//	labels = BITS          exactly these labels ([]: none)
//	state = NAME           the TCP, SCTP or DCCP state, of the one protocol
//	                       the where clause selects (Change.SetState)
//	status += FLAGS        "SEEN_REPLY", "ASSURED" or "FIXED_TIMEOUT", or a
//	                       list of them (the kernel sets no other bit, and
//	                       clears none)
//
// expr has no bitwise operators ("|" is its pipe): bitor, bitand, bitxor,
// bitnot, bitshl and bitshr are its functions for them.
//
// get looks an entry up by its tuple (Plan.Key, ActGet), with id checked
// too; by id alone, or on the expect table, it is a list with Limit 1.
// insert if absent leaves existing entries as they are (Plan.IfAbsent).
// A record may give the reply tuple alone: the original is its inverse.
//
// insert creates entries from RECORD, {field: EXPR, ...}, whose values
// are constants evaluated once at compile time (a flow field in a value is
// an error). For conntrack (Plan.Create) the fields are
//
//	src, dst, proto, timeout    required; timeout in seconds or a duration
//	family                      optional, must agree with the addresses
//	sport, dport                required for tcp, udp, udplite, sctp, dccp,
//	                            gre (keys)
//	icmp_type, icmp_code, icmp_id
//	                            required for icmp and icmpv6 (echo,
//	                            timestamp, info and address mask types)
//	state                       required for tcp, optional for sctp and dccp
//	reply_src, reply_dst, reply_sport, reply_dport
//	                            the reply tuple, for NAT; each defaults to the
//	                            inverted original tuple
//	status                      a list of SEEN_REPLY, ASSURED, FIXED_TIMEOUT
//	mark, zone, orig_zone, reply_zone, labels, orig_vtag, reply_vtag (sctp)
//
// For expect (Plan.CreateExpect) a record is flat, with the names the
// fields of engine.Expect have in conditions:
//
//	master_src, master_dst, master_sport, master_dport
//	                            the master connection's original tuple
//	                            (required; it must exist)
//	proto, src, dst, sport, dport, timeout
//	                            the expected tuple and the lifetime (required)
//	master_proto                defaults to proto
//	mask_src, mask_dst, mask_sport, mask_dport
//	                            default to every bit (the exact tuple); write
//	                            mask_sport: 0 for any source port
//	helper, zone, class         optional
//	flags                       a number, or a list of PERMANENT, INACTIVE,
//	                            USERSPACE
//	nat_dir, nat_src, nat_sport the NAT of the expected connection (as the
//	                            ftp/sip NAT helpers set it): the direction
//	                            (0 or "original", 1 or "reply") and the
//	                            address and port; nat_dir is required with
//	                            the other two, which default to zero
//
// flush empties conntrack or expect, or with ipv4 or ipv6 one family of it
// (Plan.Filter.Family). load applies a file of conntrack -R lines (the save
// format); "-" is standard input. The file is read when the plan runs.
//
// watch streams the events of conntrack or expect. EVENTS is a comma list
// of new, update and destroy (none: all of them; Plan.Events); for
// DURATION (Go's syntax: 20s, 5m, 1h30m) and limit N bound it, whichever
// comes first. With "count [by KEYS] every DURATION" it prints no events
// but one report an interval (Plan.Every, Plan.Group): how many matching
// events the interval saw, per group of KEYS, largest first — rates for
// people who want them ("watch new count by dport every 1s"); limit N
// then counts reports. The where expression ends at "count" (unless it is
// called, as expr's count(...)) and at "every".
//
// # Conditions
//
// EXPR is an expr-lang/expr expression, compiled once and type-checked,
// over the fields of engine.Flow (see Fields), or of engine.Expect (see
// ExpectFields) for the expect table. It runs to the next clause word
// (where, order, by, asc, desc, limit, as, set, dry, for, every) outside brackets
// and strings, or to the end of the statement. On top of expr the language
// has:
//
//   - bare words tcp, udp, udplite, icmp, icmpv6, sctp, dccp, gre, ipv4 and
//     ipv6 read as strings: proto == tcp is proto == "tcp" (they are
//     reserved: a let variable cannot take those names). State and status
//     names stay strings: state == "ESTABLISHED".
//   - addresses: src == "192.0.2.1", src != "...", src in ["...", "..."]
//     (the literal is parsed at compile time), src in cidr("198.51.100.0/24")
//     (folded at compile time; a bare address is a one-address network).
//   - status flags: "ASSURED" in status (any case), and the booleans
//     assured, seen_reply, confirmed, snat, dnat, offload.
//   - labels: 3 in labels, or "name" in labels with Options.LabelNames.
//   - expr's own ranges and lists (dport in 8000..8100, dport in [22, 80]),
//     now(), duration("5m") (a literal is folded at compile time) and the
//     rest of its builtins.
//
// Literal protocol, family, state, status and label names are checked at
// compile time, so a typo is an error rather than an empty result.
// Expectations cannot be sorted (Plan.Order keys take flows).
//
// # Kernel filters
//
// Compile splits the exact-match conjuncts of the condition's top-level
// && chain off into Plan.Filter for the kernel (see pushdown); Plan.Match
// still evaluates the whole condition. Plan.Exact is set, for the
// conntrack table only, when every conjunct went into the filter, none
// contradicts another, and each means in the kernel's tuple what it means
// in the flow (ports and ICMP fields only next to their protocol; zone
// never): a kernel that applies all of the filter then needs no userspace
// check, and a delete may be one filtered flush. For expectations only the
// family is pushed, and Exact is never set.
//
// Errors are *Error values naming the line and column (in characters, from
// 1) in the whole script and showing the line with a caret; control
// characters of the input are shown escaped.
//
// Input is bounded before expr sees it (expr's parser recurses on every
// bracket): brackets and if blocks nest at most MaxNesting deep, an
// expression is at most MaxExprBytes long and a script or sourced file at
// most MaxScriptBytes.
package lang
