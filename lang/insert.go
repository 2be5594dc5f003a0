package lang

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"ctq/engine"
)

// insert compiles "insert {...}" (into Plan.Create) or "insert expect
// {...}" (into Plan.CreateExpect). Every value is a constant, evaluated
// once, now.
func (c *compiler) insert(s *InsertStmt) (*engine.Plan, error) {
	if liveOnly(s.Table) {
		return nil, s.errAt(s.tableAt(s.TablePos), "entries cannot be inserted into the `%s` table (insert into conntrack or expect)", s.Table)
	}
	if len(s.Records) == 0 {
		return nil, s.errAt(s.start, "insert needs a record: insert {field: value, ...}")
	}
	if s.IfAbsent && s.Table == engine.TableExpect {
		return nil, s.errAt(s.IfPos, "`if absent` inserts conntrack entries (conntrack -A); an expectation that exists is an error")
	}
	plan := &engine.Plan{Action: engine.ActInsert, Table: s.Table, Limit: -1, IfAbsent: s.IfAbsent}
	for _, r := range s.Records {
		rec, err := c.values(r)
		if err != nil {
			return nil, err
		}
		rec.n, rec.pos = &s.node, r.Pos
		if s.Table == engine.TableExpect {
			e, err := rec.expect()
			if err != nil {
				return nil, err
			}
			plan.CreateExpect = append(plan.CreateExpect, e)
			continue
		}
		f, err := rec.flow()
		if err != nil {
			return nil, err
		}
		plan.Create = append(plan.Create, f)
	}
	return plan, nil
}

// record is an evaluated insert record: its values by field name, and
// where each was written.
type record struct {
	vals   map[string]any
	at     map[string]*Field
	fields []*Field // in source order
	n      *node
	pos    Pos // the record's "{"
}

// values evaluates and checks every field of r.
func (c *compiler) values(r Record) (*record, error) {
	rec := &record{vals: map[string]any{}, at: map[string]*Field{}}
	for i := range r.Fields {
		f := &r.Fields[i]
		v, err := c.fieldConstant(f)
		if err != nil {
			return nil, err
		}
		if v, err = c.value(f.Name, v); err != nil {
			return nil, f.Value.errAt(0, "%v", err)
		}
		rec.vals[f.Name], rec.at[f.Name] = v, f
		rec.fields = append(rec.fields, f)
	}
	return rec, nil
}

// has reports whether the record gives field.
func (r *record) has(field string) bool {
	_, ok := r.vals[field]
	return ok
}

// need fails unless the record gives every one of fields; what is the
// statement ("insert", "insert expect").
func (r *record) need(what string, fields ...string) error {
	for _, f := range fields {
		if !r.has(f) {
			return r.n.errAt(r.pos, "`%s` needs `%s`", what, f)
		}
	}
	return nil
}

// int returns an int field, zero when absent.
func (r *record) int(field string) int {
	n, _ := r.vals[field].(int)
	return n
}

// addr returns an address field.
func (r *record) addr(field string) netip.Addr {
	a, _ := r.vals[field].(netip.Addr)
	return a
}

// errAt builds an error at the value of field.
func (r *record) errAt(field string, format string, args ...any) error {
	return r.at[field].Value.errAt(0, format, args...)
}

// family checks that the address fields given all have the family of the
// first (src), and that a family field agrees; it returns that family.
func (r *record) family(addrs ...string) (int, error) {
	af := addrFamily(r.addr(addrs[0]))
	for _, name := range addrs[1:] {
		if r.has(name) && addrFamily(r.addr(name)) != af {
			return 0, r.errAt(name, "`%s` must be of the same family as `%s` (%s)", name, addrs[0], engine.FamilyName(af))
		}
	}
	if r.has("family") && r.int("family") != af {
		return 0, r.errAt("family", "`family` is %s but the addresses are %s", engine.FamilyName(r.int("family")), engine.FamilyName(af))
	}
	return af, nil
}

// addrFamily is AF_INET for an IPv4 address, AF_INET6 otherwise.
func addrFamily(a netip.Addr) int {
	if a.Is4() {
		return engine.FamilyIPv4
	}
	return engine.FamilyIPv6
}

// fieldsFor says which protocols the protocol-specific fields of an
// inserted entry apply to.
var fieldsFor = map[string]func(proto int) bool{
	"sport": engine.HasPorts, "dport": engine.HasPorts,
	"reply_sport": engine.HasPorts, "reply_dport": engine.HasPorts,
	"icmp_type": isICMP, "icmp_code": isICMP, "icmp_id": isICMP,
	"state":     func(p int) bool { return engine.StateTable(p) != nil },
	"orig_vtag": isSCTP, "reply_vtag": isSCTP,
}

func isICMP(proto int) bool { return proto == engine.ProtoICMP || proto == engine.ProtoICMPv6 }
func isSCTP(proto int) bool { return proto == engine.ProtoSCTP }

// icmpReply maps the ICMP types conntrack tracks to their reply type (the
// kernel's invmap in nf_conntrack_proto_icmp.c); other types cannot start
// an entry.
var icmpReply = map[int]int{
	8: 0, 0: 8, // ICMP_ECHO, ICMP_ECHOREPLY
	13: 14, 14: 13, // ICMP_TIMESTAMP, ICMP_TIMESTAMPREPLY
	15: 16, 16: 15, // ICMP_INFO_REQUEST, ICMP_INFO_REPLY
	17: 18, 18: 17, // ICMP_ADDRESS, ICMP_ADDRESSREPLY
}

// icmpv6Reply is icmpReply for ICMPv6 (nf_conntrack_proto_icmpv6.c).
var icmpv6Reply = map[int]int{
	128: 129, 129: 128, // ICMPV6_ECHO_REQUEST, ICMPV6_ECHO_REPLY
	139: 140, 140: 139, // ICMPV6_NI_QUERY, ICMPV6_NI_REPLY
}

// flow builds the conntrack entry of an insert record. The reply tuple
// fields always hold the reply tuple (the inverted original unless the
// record names reply fields, as for NAT); HasReply is set only when it
// does.
func (r *record) flow() (engine.Flow, error) {
	var f engine.Flow
	r.fromReply()
	if err := r.need("insert", "src", "dst", "proto", "timeout"); err != nil {
		return f, err
	}
	af, err := r.family("src", "dst", "reply_src", "reply_dst")
	if err != nil {
		return f, err
	}
	proto := r.int("proto")
	f.SetFamily(af)
	f.SetProto(proto)
	for _, fd := range r.fields {
		if applies, ok := fieldsFor[fd.Name]; ok && !applies(proto) {
			return f, r.n.errAt(fd.Pos, "`%s` does not apply to protocol %s", fd.Name, protoLabel(proto))
		}
	}
	f.Src, f.Dst = r.addr("src"), r.addr("dst")
	f.ReplySrc, f.ReplyDst = f.Dst, f.Src
	switch {
	case engine.HasPorts(proto):
		if err := r.need("insert", "sport", "dport"); err != nil {
			return f, err
		}
		f.Sport, f.Dport = r.int("sport"), r.int("dport")
		f.ReplySport, f.ReplyDport = f.Dport, f.Sport
	case isICMP(proto):
		if err := r.icmp(&f); err != nil {
			return f, err
		}
	}
	for name, dst := range map[string]*netip.Addr{"reply_src": &f.ReplySrc, "reply_dst": &f.ReplyDst} {
		if r.has(name) {
			*dst = r.addr(name)
			f.Has |= engine.HasReply
		}
	}
	for name, dst := range map[string]*int{"reply_sport": &f.ReplySport, "reply_dport": &f.ReplyDport} {
		if r.has(name) {
			*dst = r.int(name)
			f.Has |= engine.HasReply
		}
	}
	if err := r.state(&f); err != nil {
		return f, err
	}
	f.Timeout = r.int("timeout")
	f.Has |= engine.HasTimeout
	if r.has("status") {
		f.SetStatus(r.vals["status"].(engine.Status))
	}
	for _, o := range []struct {
		name string
		dst  *int
		has  engine.Attr
	}{
		{"mark", &f.Mark, engine.HasMark},
		{"zone", &f.Zone, engine.HasZone},
		{"orig_zone", &f.OrigZone, engine.HasOrigZone},
		{"reply_zone", &f.ReplyZone, engine.HasReplyZone},
		{"orig_vtag", &f.OrigVtag, engine.HasVtags},
		{"reply_vtag", &f.ReplyVtag, engine.HasVtags},
	} {
		if r.has(o.name) {
			*o.dst = r.int(o.name)
			f.Has |= o.has
		}
	}
	if r.has("labels") {
		f.Labels = r.vals["labels"].(engine.Labels)
		f.Has |= engine.HasLabels
	}
	return f, nil
}

// fromReply fills in the original tuple of a record that gives the reply
// tuple alone (conntrack -I with -r and -q only): it is the reply tuple
// inverted.
func (r *record) fromReply() {
	if r.has("src") || r.has("dst") || !r.has("reply_src") || !r.has("reply_dst") {
		return
	}
	for orig, reply := range map[string]string{"src": "reply_dst", "dst": "reply_src", "sport": "reply_dport", "dport": "reply_sport"} {
		if !r.has(orig) && r.has(reply) {
			r.vals[orig], r.at[orig] = r.vals[reply], r.at[reply]
		}
	}
}

// icmp fills the ICMP fields of both directions of f.
func (r *record) icmp(f *engine.Flow) error {
	if err := r.need("insert", "icmp_type", "icmp_code", "icmp_id"); err != nil {
		return err
	}
	replies := icmpReply
	if f.ProtoNum == engine.ProtoICMPv6 {
		replies = icmpv6Reply
	}
	if (f.ProtoNum == engine.ProtoICMP) != (f.Family == "ipv4") {
		return r.errAt("proto", "%s does not go with %s addresses", f.Proto, f.Family)
	}
	f.ICMPType, f.ICMPCode, f.ICMPID = r.int("icmp_type"), r.int("icmp_code"), r.int("icmp_id")
	reply, ok := replies[f.ICMPType]
	if !ok {
		var types []int
		for t := range replies {
			types = append(types, t)
		}
		slices.Sort(types)
		return r.errAt("icmp_type", "conntrack does not track %s type %d (it tracks types %s)", f.Proto, f.ICMPType, joinInts(types))
	}
	f.ReplyICMPType, f.ReplyICMPCode, f.ReplyICMPID = reply, f.ICMPCode, f.ICMPID
	return nil
}

// state sets the protocol state of f: required for TCP, optional for SCTP
// and DCCP.
func (r *record) state(f *engine.Flow) error {
	if f.ProtoNum == engine.ProtoTCP && !r.has("state") {
		return r.n.errAt(r.pos, "`insert` needs `state` for protocol tcp")
	}
	if !r.has("state") {
		return nil
	}
	name := r.vals["state"].(string)
	num, ok := engine.StateNum(f.ProtoNum, name)
	if !ok {
		return r.errAt("state", "unknown %s state %q%s", f.Proto, name, didYouMean(strings.ToUpper(name), engine.StateTable(f.ProtoNum)))
	}
	f.SetState(num)
	return nil
}

// expect builds the expectation of an insert expect record. The master
// protocol defaults to the expected one; the mask defaults to every bit
// (the expected tuple exactly).
func (r *record) expect() (engine.Expect, error) {
	var e engine.Expect
	if err := r.need("insert expect", "master_src", "master_dst", "master_sport", "master_dport",
		"proto", "src", "dst", "sport", "dport", "timeout"); err != nil {
		return e, err
	}
	af, err := r.family("src", "dst", "mask_src", "mask_dst", "master_src", "master_dst", "nat_src")
	if err != nil {
		return e, err
	}
	proto, master := r.int("proto"), r.int("proto")
	if r.has("master_proto") {
		master = r.int("master_proto")
	}
	for _, name := range []string{"proto", "master_proto"} {
		if p := r.int(name); r.has(name) && !engine.HasPorts(p) {
			return e, r.errAt(name, "an expectation needs a protocol with ports (tcp, udp, udplite, sctp, dccp or gre), not %s", protoLabel(p))
		}
	}
	full := netip.AddrFrom4([4]byte{255, 255, 255, 255})
	if af == engine.FamilyIPv6 {
		full = netip.AddrFrom16([16]byte{0: 0xff, 1: 0xff, 2: 0xff, 3: 0xff, 4: 0xff, 5: 0xff, 6: 0xff, 7: 0xff,
			8: 0xff, 9: 0xff, 10: 0xff, 11: 0xff, 12: 0xff, 13: 0xff, 14: 0xff, 15: 0xff})
	}
	e = engine.Expect{
		Family: engine.FamilyName(af),
		Proto:  engine.ProtoName(proto), ProtoNum: proto,
		Src: r.addr("src"), Dst: r.addr("dst"), Sport: r.int("sport"), Dport: r.int("dport"),
		MaskSrc: full, MaskDst: full, MaskSport: 0xffff, MaskDport: 0xffff,
		MasterProto: engine.ProtoName(master), MasterProtoNum: master,
		MasterSrc: r.addr("master_src"), MasterDst: r.addr("master_dst"),
		MasterSport: r.int("master_sport"), MasterDport: r.int("master_dport"),
		Timeout: r.int("timeout"),
		Has:     engine.HasExpTimeout | engine.HasExpMask | engine.HasExpMaster,
	}
	if r.has("mask_src") {
		e.MaskSrc = r.addr("mask_src")
	}
	if r.has("mask_dst") {
		e.MaskDst = r.addr("mask_dst")
	}
	if r.has("mask_sport") {
		e.MaskSport = r.int("mask_sport")
	}
	if r.has("mask_dport") {
		e.MaskDport = r.int("mask_dport")
	}
	if r.has("zone") {
		e.Zone = r.int("zone")
		e.Has |= engine.HasExpZone
	}
	if r.has("helper") {
		e.Helper = r.vals["helper"].(string)
		e.Has |= engine.HasExpHelper
	}
	if r.has("class") {
		e.Class = r.int("class")
		e.Has |= engine.HasExpClass
	}
	if r.has("flags") {
		e.SetFlags(r.int("flags"))
	}
	if r.has("nat_dir") || r.has("nat_src") || r.has("nat_sport") {
		// The kernel keeps the source of the NAT tuple: the address and
		// port the expected connection is translated to (or from).
		if err := r.need("insert expect with NAT", "nat_dir"); err != nil {
			return e, err
		}
		e.NATDir, e.NATProtoNum, e.NATSport = r.int("nat_dir"), master, r.int("nat_sport")
		e.NATSrc = netip.IPv4Unspecified()
		if af == engine.FamilyIPv6 {
			e.NATSrc = netip.IPv6Unspecified()
		}
		if r.has("nat_src") {
			e.NATSrc = r.addr("nat_src")
		}
		e.Has |= engine.HasExpNAT
	}
	return e, nil
}

// joinInts joins numbers with ", ".
func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
