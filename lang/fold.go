package lang

import (
	"fmt"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"

	"ctq/engine"
)

var (
	addrType   = reflect.TypeFor[netip.Addr]()
	statusType = reflect.TypeFor[engine.Status]()
	labelsType = reflect.TypeFor[engine.Labels]()
)

// folder is the expr Patch visitor of the language. It runs once over the
// type-annotated tree, children before parents, and
//   - replaces script variables by their values (constants);
//   - turns the constant words (tcp, ipv4, ...) into string literals;
//   - folds cidr("literal") and duration("literal") into constants;
//   - turns a string literal compared with an address (src == "192.0.2.1",
//     src in ["192.0.2.1", ...]) into an address constant;
//   - checks literal status flag names ("ASSURED" in status) and literal
//     protocol, family and state names compared with those fields;
//   - turns a label name ("name" in labels) into its bit number.
//
// A visitor cannot fail, so the first error is kept in err for the caller.
type folder struct {
	labels map[string]int // label name -> bit (connlabel.conf)
	// vars are the script variables and their values (an unknownValue
	// when only the run will tell); used and unknown record that one, and
	// one of unknown value, was read.
	vars          map[string]any
	used, unknown bool
	// flow is set for an expression over flows (engine.Flow).
	flow bool
	// labels records that the expression tests labels ("web" in labels).
	labelsUsed bool
	err        *file.Error
}

func (f *folder) fail(n ast.Node, format string, args ...any) {
	if f.err == nil {
		f.err = &file.Error{Location: n.Location(), Message: fmt.Sprintf(format, args...)}
	}
}

// Visit implements ast.Visitor.
func (f *folder) Visit(n *ast.Node) {
	switch x := (*n).(type) {
	case *ast.IdentifierNode:
		if v, ok := f.vars[x.Value]; ok {
			f.used = true
			if u, ok := v.(unknownValue); ok {
				f.unknown = true
				ast.Patch(n, u.node())
				return
			}
			ast.Patch(n, literal(v))
			return
		}
		if slices.Contains(constants, x.Value) {
			ast.Patch(n, &ast.StringNode{Value: x.Value})
		}
		if field, ok := fieldAliases[x.Value]; ok && f.flow {
			id := &ast.IdentifierNode{Value: field}
			ast.Patch(n, id)
			// Typed now, for the checks of the nodes above it.
			id.SetType(fieldType(field))
		}
	case *ast.CallNode:
		if id, ok := x.Callee.(*ast.IdentifierNode); ok && id.Value == fnMask && len(x.Arguments) == 2 {
			if s, ok := x.Arguments[1].(*ast.StringNode); ok {
				m, err := parseMask(s.Value)
				if err != nil {
					f.fail(s, "%v", err)
					return
				}
				ast.Patch(&x.Arguments[1], &ast.ConstantNode{Value: m})
			}
		}
		if id, ok := x.Callee.(*ast.IdentifierNode); ok && id.Value == fnCIDR && len(x.Arguments) == 1 {
			if s, ok := x.Arguments[0].(*ast.StringNode); ok {
				p, err := parseCIDR(s.Value)
				if err != nil {
					f.fail(s, "%v", err)
					return
				}
				ast.Patch(n, &ast.ConstantNode{Value: p})
			}
		}
	case *ast.BuiltinNode:
		if x.Name == "duration" && len(x.Arguments) == 1 {
			if s, ok := x.Arguments[0].(*ast.StringNode); ok {
				d, err := time.ParseDuration(s.Value)
				if err != nil {
					f.fail(s, "invalid duration %q (write e.g. \"90s\", \"5m\", \"1h30m\")", s.Value)
					return
				}
				ast.Patch(n, &ast.ConstantNode{Value: d})
			}
		}
	case *ast.BinaryNode:
		switch x.Operator {
		case "==", "!=":
			f.comparison(n, x)
		case "in":
			f.membership(x)
		}
	}
}

// comparison folds and checks the literal side of == and !=, the node n.
func (f *folder) comparison(n *ast.Node, x *ast.BinaryNode) {
	for _, sides := range [2][2]*ast.Node{{&x.Left, &x.Right}, {&x.Right, &x.Left}} {
		field, lit := *sides[0], sides[1]
		if id, ok := (*lit).(*ast.IdentifierNode); ok && f.flow && isIdent(field, "proto") && !slices.Contains(flowFields, id.Value) {
			// proto == esp: a name of /etc/protocols.
			if num, ok := protoByName(id.Value); ok {
				f.protonum(n, x, num)
				return
			}
			if _, isVar := f.vars[id.Value]; !isVar {
				f.fail(id, "unknown protocol `%s` (names: %s, or one of /etc/protocols)%s", id.Value,
					strings.Join(engine.ProtoNames, ", "), didYouMean(strings.ToLower(id.Value), engine.ProtoNames, flowFields))
				return
			}
		}
		s, ok := (*lit).(*ast.StringNode)
		if !ok {
			continue
		}
		if field.Type() == addrType {
			f.address(lit, s)
			return
		}
		id, ok := field.(*ast.IdentifierNode)
		if !ok {
			continue
		}
		switch id.Value {
		case "proto", "master_proto":
			if slices.Contains(engine.ProtoNames, s.Value) || s.Value == "unknown" {
				return
			}
			if num, ok := protoByName(s.Value); ok && f.flow && id.Value == "proto" {
				f.protonum(n, x, num)
				return
			}
			f.fail(s, "unknown protocol %q%s", s.Value, didYouMean(strings.ToLower(s.Value), engine.ProtoNames))
		case "role":
			i := slices.Index(engine.DCCPRoles, s.Value)
			if i < 0 || !f.flow {
				f.fail(s, "unknown DCCP role %q (it is \"client\" or \"server\")", s.Value)
				return
			}
			// A flow of another protocol has role 0 too: only DCCP
			// flows have a role.
			var cond ast.Node = &ast.BinaryNode{Operator: "&&",
				Left:  &ast.BinaryNode{Operator: "==", Left: &ast.IdentifierNode{Value: "proto"}, Right: &ast.StringNode{Value: "dccp"}},
				Right: &ast.BinaryNode{Operator: "==", Left: &ast.IdentifierNode{Value: "role"}, Right: &ast.IntegerNode{Value: i}}}
			if x.Operator == "!=" {
				cond = &ast.UnaryNode{Operator: "!", Node: cond}
			}
			ast.Patch(n, cond)
		case "family":
			if s.Value != "ipv4" && s.Value != "ipv6" {
				f.fail(s, "unknown family %q (it is \"ipv4\" or \"ipv6\")", s.Value)
			}
		case "state":
			if s.Value != "" && !slices.Contains(stateNames, s.Value) {
				f.fail(s, "unknown state %q%s", s.Value, didYouMean(strings.ToUpper(s.Value), stateNames))
			}
		}
		return
	}
}

// protoList turns proto in [tcp, esp, ...] into protonum in [6, 50, ...]
// when a name of /etc/protocols is in the list (proto holds "unknown" for
// those protocols); a list of conntrack's names stays as it is.
func (f *folder) protoList(x *ast.BinaryNode, arr *ast.ArrayNode) {
	nums := make([]int, len(arr.Nodes))
	other := false
	for i, n := range arr.Nodes {
		var name string
		switch v := n.(type) {
		case *ast.StringNode:
			name = v.Value
		case *ast.IdentifierNode:
			if slices.Contains(flowFields, v.Value) {
				return
			}
			name = v.Value
		default:
			return
		}
		if slices.Contains(engine.ProtoNames, name) {
			nums[i], _ = engine.ProtoNum(name)
			continue
		}
		num, ok := protoByName(name)
		if !ok {
			f.fail(n, "unknown protocol %q (names: %s, or one of /etc/protocols)%s", name,
				strings.Join(engine.ProtoNames, ", "), didYouMean(strings.ToLower(name), engine.ProtoNames))
			return
		}
		nums[i], other = num, true
	}
	if !other {
		return
	}
	for i := range arr.Nodes {
		ast.Patch(&arr.Nodes[i], &ast.IntegerNode{Value: nums[i]})
	}
	ast.Patch(&x.Left, &ast.IdentifierNode{Value: "protonum"})
}

// isIdent reports whether n is the identifier name.
func isIdent(n ast.Node, name string) bool {
	id, ok := n.(*ast.IdentifierNode)
	return ok && id.Value == name
}

// protonum replaces the comparison n (proto == NAME, or !=) by one of
// protonum with num: flows of protocols conntrack has no name for are
// "unknown" in proto.
func (f *folder) protonum(n *ast.Node, x *ast.BinaryNode, num int) {
	ast.Patch(n, &ast.BinaryNode{Operator: x.Operator, Left: &ast.IdentifierNode{Value: "protonum"}, Right: &ast.IntegerNode{Value: num}})
}

// stateNames lists the TCP, SCTP and DCCP state names.
var stateNames = slices.Concat(engine.TCPStates, engine.SCTPStates, engine.DCCPStates, []string{"LISTEN"})

// address replaces the string literal at lit by the address it spells.
func (f *folder) address(lit *ast.Node, s *ast.StringNode) {
	a, err := netip.ParseAddr(s.Value)
	if err != nil {
		hint := ""
		if strings.Contains(s.Value, "/") {
			hint = " (for a network write `in cidr(\"" + s.Value + "\")`)"
		}
		f.fail(s, "invalid address %q%s", s.Value, hint)
		return
	}
	ast.Patch(lit, &ast.ConstantNode{Value: a})
}

// membership folds and checks the literal operand of "in".
func (f *folder) membership(x *ast.BinaryNode) {
	if arr, ok := x.Right.(*ast.ArrayNode); ok && f.flow && isIdent(x.Left, "proto") {
		f.protoList(x, arr)
		return
	}
	switch {
	case x.Left.Type() == addrType:
		if arr, ok := x.Right.(*ast.ArrayNode); ok {
			for i := range arr.Nodes {
				if s, ok := arr.Nodes[i].(*ast.StringNode); ok {
					f.address(&arr.Nodes[i], s)
				}
			}
		}
	case x.Right.Type() == statusType:
		if s, ok := x.Left.(*ast.StringNode); ok {
			if _, known := engine.StatusBit(s.Value); !known {
				f.fail(s, "unknown status flag %q%s", s.Value, didYouMean(strings.ToUpper(s.Value), engine.StatusNames))
			}
		}
	case x.Right.Type() == labelsType:
		f.labelsUsed = true
		switch l := x.Left.(type) {
		case *ast.StringNode:
			bit, ok := f.labels[l.Value]
			if !ok {
				f.fail(l, "%s", unknownLabel(l.Value, f.labels))
				return
			}
			ast.Patch(&x.Left, &ast.IntegerNode{Value: bit})
		case *ast.IntegerNode:
			if l.Value < 0 || l.Value > 127 {
				f.fail(l, "label bit %d is out of range (0 to 127)", l.Value)
			}
		}
	}
}
