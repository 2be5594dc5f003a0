package lang

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/expr-lang/expr"

	"ctq/engine"
)

// get compiles "get [TABLE] {field: EXPR, ...}": each value is evaluated
// once, now, into Plan.Key. An id alone selects the entry of that id (a
// scan that stops at it); an id with the tuple is checked on the entry
// the lookup finds. On the expect table get is a scan of the
// expectations (they are few) for the one of that tuple.
func (c *compiler) get(s *GetStmt) (*engine.Plan, error) {
	if liveOnly(s.Table) {
		return nil, s.errAt(s.tableAt(s.TablePos), "`get` looks up conntrack entries or expectations, not the `%s` table", s.Table)
	}
	vals := map[string]any{}
	at := map[string]*Expr{}
	for _, f := range s.Fields {
		v, err := c.fieldConstant(&f)
		if err != nil {
			return nil, err
		}
		v, err = c.value(f.Name, v)
		if err != nil {
			return nil, f.Value.errAt(0, "%v", err)
		}
		vals[f.Name], at[f.Name] = v, f.Value
	}
	id, hasID := vals["id"].(int)
	_, hasSrc := vals["src"]
	_, hasDst := vals["dst"]
	_, hasProto := vals["proto"]
	if hasID && !hasSrc && !hasDst && !hasProto {
		return c.getByID(s, id, vals)
	}
	for _, need := range []string{"src", "dst", "proto"} {
		if _, ok := vals[need]; !ok {
			return nil, s.errAt(s.start, "`get` needs `src`, `dst` and `proto`: `%s` is missing", need)
		}
	}
	src, dst, proto := vals["src"].(netip.Addr), vals["dst"].(netip.Addr), vals["proto"].(int)
	if src.Is4() != dst.Is4() {
		return nil, at["dst"].errAt(0, "`src` and `dst` must be of the same family")
	}
	af := engine.FamilyIPv6
	if src.Is4() {
		af = engine.FamilyIPv4
	}
	if fam, ok := vals["family"]; ok && fam.(int) != af {
		return nil, at["family"].errAt(0, "`family` is %s but the addresses are %s", engine.FamilyName(fam.(int)), engine.FamilyName(af))
	}
	key := &engine.Flow{Src: src, Dst: dst}
	key.SetFamily(af)
	key.SetProto(proto)

	// The fields the protocol's tuple needs; any other tuple field is a
	// mistake.
	var needs []string
	switch {
	case engine.HasPorts(proto):
		needs = []string{"sport", "dport"}
	case proto == engine.ProtoICMP || proto == engine.ProtoICMPv6:
		needs = []string{"icmp_type", "icmp_code", "icmp_id"}
		if (proto == engine.ProtoICMP) != (af == engine.FamilyIPv4) {
			return nil, at["proto"].errAt(0, "%s does not go with %s addresses", key.Proto, key.Family)
		}
	}
	for _, f := range s.Fields {
		switch f.Name {
		case "family", "proto", "src", "dst", "zone", "id":
			continue
		}
		if !slices.Contains(needs, f.Name) {
			return nil, s.errAt(f.Pos, "`%s` does not apply to protocol %s", f.Name, protoLabel(proto))
		}
	}
	for _, n := range needs {
		if _, ok := vals[n]; !ok {
			return nil, s.errAt(s.start, "`get` needs `%s` for protocol %s", n, protoLabel(proto))
		}
	}
	for name, v := range vals {
		n, _ := v.(int)
		switch name {
		case "sport":
			key.Sport = n
		case "dport":
			key.Dport = n
		case "icmp_type":
			key.ICMPType = n
		case "icmp_code":
			key.ICMPCode = n
		case "icmp_id":
			key.ICMPID = n
		case "zone":
			key.Zone = n
			key.Has |= engine.HasZone
		}
	}
	if s.Table == engine.TableExpect {
		return getExpect(key, hasID, id), nil
	}
	plan := &engine.Plan{Action: engine.ActGet, Table: engine.TableConntrack, Key: key, Limit: -1}
	if hasID {
		plan.Match = func(f *engine.Flow) (bool, error) { return f.Has&engine.HasID != 0 && f.ID == id, nil }
	}
	return plan, nil
}

// getByID compiles "get [TABLE] {id: N [, zone: Z]}": the first entry of
// that id (ids are unique among the entries of a table).
func (c *compiler) getByID(s *GetStmt, id int, vals map[string]any) (*engine.Plan, error) {
	for _, f := range s.Fields {
		if f.Name != "id" && f.Name != "zone" {
			return nil, s.errAt(f.Pos, "`%s` needs the whole tuple (src, dst, proto): with `id` alone write only `id` (and `zone`)", f.Name)
		}
	}
	zone, hasZone := vals["zone"].(int)
	plan := &engine.Plan{Action: engine.ActList, Table: s.Table, Limit: 1}
	if s.Table == engine.TableExpect {
		plan.MatchExpect = func(e *engine.Expect) (bool, error) {
			return e.ID == id && (!hasZone || e.Zone == zone), nil
		}
		return plan, nil
	}
	plan.Match = func(f *engine.Flow) (bool, error) {
		return f.Has&engine.HasID != 0 && f.ID == id && (!hasZone || f.Zone == zone), nil
	}
	return plan, nil
}

// getExpect is the plan of a get on the expect table: the expectation of
// key's tuple (and zone, and id), found by a scan that stops at it.
func getExpect(key *engine.Flow, hasID bool, id int) *engine.Plan {
	hasZone := key.Has&engine.HasZone != 0
	k := *key
	return &engine.Plan{Action: engine.ActList, Table: engine.TableExpect, Limit: 1,
		MatchExpect: func(e *engine.Expect) (bool, error) {
			return e.ProtoNum == k.ProtoNum && e.Src == k.Src && e.Dst == k.Dst &&
				(!engine.HasPorts(k.ProtoNum) || e.Sport == k.Sport && e.Dport == k.Dport) &&
				(!hasZone || e.Zone == k.Zone) && (!hasID || e.ID == id), nil
		}}
}

// protoLabel names a protocol number for messages.
func protoLabel(n int) string {
	if name := engine.ProtoName(n); name != "unknown" {
		return name
	}
	return fmt.Sprint(n)
}

// fieldConstant evaluates the value of a record field: a constant, or for
// a protocol field a bare name of /etc/protocols (proto: esp).
func (c *compiler) fieldConstant(f *Field) (any, error) {
	if k := fieldKinds[f.Name]; k == kindProto {
		name := strings.TrimSpace(f.Value.Text)
		if _, isVar := c.vars[name]; !isVar && !slices.Contains(constants, name) {
			if _, ok := protoByName(name); ok {
				return name, nil
			}
		}
	}
	return c.constant(f.Value)
}

// constant evaluates an expression that may not use flow fields.
func (c *compiler) constant(e *Expr) (any, error) {
	prog, err := c.compileExpr(e, struct{}{})
	if err != nil {
		return nil, err
	}
	out, err := expr.Run(prog, struct{}{})
	if err != nil {
		return nil, e.runtimeError(err)
	}
	return out, nil
}
