package lang

import (
	"net/netip"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/vm"

	"ctq/engine"
)

// A group or sort key, or an aggregate's value, that is one field and
// nothing else is read straight from the flow: the expression machine
// costs a hundred nanoseconds or so an entry, which a grouping of a
// million entries pays on the path that bounds a dump's speed.

// bareField is the field prog reads when its whole expression is that
// field's name ("" otherwise). Script variables are folded into
// constants at compile time, so a name left standing is a field.
func bareField(prog *vm.Program) string {
	if id, ok := prog.Node().(*ast.IdentifierNode); ok {
		return id.Value
	}
	return ""
}

// fieldKey reads the key field name directly, as the key converter would
// normalize it (addresses, ints and strings are their own keys); nil for
// a field without a direct reader.
func fieldKey(name string) func(*engine.Flow) any {
	if addr := fieldAddr(name); addr != nil {
		return func(f *engine.Flow) any { return addr(f) }
	}
	switch name {
	case "sport":
		return func(f *engine.Flow) any { return f.Sport }
	case "dport":
		return func(f *engine.Flow) any { return f.Dport }
	case "proto":
		return func(f *engine.Flow) any { return f.Proto }
	case "family":
		return func(f *engine.Flow) any { return f.Family }
	case "state":
		return func(f *engine.Flow) any { return f.State }
	case "mark":
		return func(f *engine.Flow) any { return f.Mark }
	case "zone":
		return func(f *engine.Flow) any { return f.Zone }
	}
	return nil
}

// fieldAddr reads the address field name directly; nil for a field that
// is not an address.
func fieldAddr(name string) func(*engine.Flow) netip.Addr {
	switch name {
	case "src":
		return func(f *engine.Flow) netip.Addr { return f.Src }
	case "dst":
		return func(f *engine.Flow) netip.Addr { return f.Dst }
	case "reply_src":
		return func(f *engine.Flow) netip.Addr { return f.ReplySrc }
	case "reply_dst":
		return func(f *engine.Flow) netip.Addr { return f.ReplyDst }
	}
	return nil
}

// fieldValue reads the number field name directly, as numberConverter
// would convert it; nil for a field without a direct reader.
func fieldValue(name string) func(*engine.Flow) float64 {
	switch name {
	case "bytes":
		return func(f *engine.Flow) float64 { return float64(f.Bytes) }
	case "packets":
		return func(f *engine.Flow) float64 { return float64(f.Packets) }
	case "orig_bytes":
		return func(f *engine.Flow) float64 { return float64(f.OrigBytes) }
	case "orig_packets":
		return func(f *engine.Flow) float64 { return float64(f.OrigPackets) }
	case "reply_bytes":
		return func(f *engine.Flow) float64 { return float64(f.ReplyBytes) }
	case "reply_packets":
		return func(f *engine.Flow) float64 { return float64(f.ReplyPackets) }
	case "timeout":
		return func(f *engine.Flow) float64 { return float64(f.Timeout) }
	}
	return nil
}
