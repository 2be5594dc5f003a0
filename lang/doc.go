// Package lang is ctq's statement language: a lexer, a parser into
// statements, and a compiler from statements to engine.Plan.
//
// A script is statements separated by newlines or ";". Blank lines and
// comments ("#" to the end of the line, outside brackets; expr's "//" and
// "/* */" anywhere) are ignored. A newline inside an open ( [ { continues
// the statement; a ";" outside brackets always ends it, so expr's
// "let x = ...; x" sequence needs parentheses. Keywords are lowercase only.
//
// Statements implemented:
//
//	list [TABLE] [where EXPR] [order by EXPR [asc|desc], ...] [limit N] [as FORMAT]
//	count [TABLE] [where EXPR]
//	get {field: EXPR, ...} [as FORMAT]
//
// TABLE is conntrack (the default), expect, dying or unconfirmed; FORMAT
// is a format name or a comma list of names ("extended,id"). Clauses may
// come in any order, each once. The other statement keywords of the
// language (delete, update, watch, ...) are recognized and refused with
// "statement `delete` is not supported yet".
//
// EXPR is an expr-lang/expr expression over the fields of engine.Flow (see
// Fields), compiled once and type-checked. It runs to the next clause word
// (where, order, by, asc, desc, limit, as) outside brackets and strings,
// or to the end of the statement. On top of expr the language has:
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
//
// Compile also splits the exact-match conjuncts of the condition's
// top-level && chain off into Plan.Filter for the kernel (see pushdown);
// Plan.Match still evaluates the whole condition.
//
// Errors are *Error values naming the line and column (in characters, from
// 1) in the whole script and showing the line with a caret.
package lang
