package lang

import (
	"net/netip"
	"testing"

	"ctq/engine"
)

// benchFlow is an established SSH flow.
func benchFlow() *engine.Flow {
	f := &engine.Flow{
		Family: "ipv4", Src: netip.MustParseAddr("192.0.2.1"), Dst: netip.MustParseAddr("198.51.100.7"),
		Sport: 40000, Dport: 22,
	}
	f.SetProto(engine.ProtoTCP)
	f.SetState(3) // ESTABLISHED
	f.SetStatus(engine.StatusAssured | engine.StatusSeenReply | engine.StatusConfirmed)
	return f
}

// BenchmarkMatch measures Plan.Match per flow.
func BenchmarkMatch(b *testing.B) {
	for _, bc := range []struct{ name, cond string }{
		{"proto_dport_state", `proto==tcp && dport==22 && state=="ESTABLISHED"`},
		{"first_false", `proto==udp && dport==22 && state=="ESTABLISHED"`},
		{"cidr", `proto == tcp && dst in cidr("198.51.100.0/24")`},
		{"addr_eq", `src == "192.0.2.1"`},
		{"status_flag", `"ASSURED" in status && assured`},
		{"port_range", `dport in 8000..8100 or dport in [22, 80]`},
	} {
		b.Run(bc.name, func(b *testing.B) {
			plans, err := CompileScript("list where "+bc.cond, nil)
			if err != nil {
				b.Fatal(err)
			}
			match, f := plans[0].Match, benchFlow()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := match(f); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkMatchVariable measures Plan.Match of a condition that reads a
// script variable (folded to a constant when the statement runs).
func BenchmarkMatchVariable(b *testing.B) {
	prog, err := CompileProgram("", "let n = count\nlist where proto==tcp && dport==n && state==\"ESTABLISHED\"", nil)
	if err != nil {
		b.Fatal(err)
	}
	plan, err := prog.Steps[1].(*PlanStep).Plan(map[string]any{"n": 22})
	if err != nil {
		b.Fatal(err)
	}
	match, f := plan.Match, benchFlow()
	b.ReportAllocs()
	for b.Loop() {
		if ok, err := match(f); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkCompile measures parsing and compiling one statement.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := CompileScript(`list where proto==tcp && dport==22 && state=="ESTABLISHED"`, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGroupKey measures a group key and an aggregate value per flow.
func BenchmarkGroupKey(b *testing.B) {
	plans, err := CompileScript("top 10 src by bytes", nil)
	if err != nil {
		b.Fatal(err)
	}
	g, f := plans[0].Group, benchFlow()
	b.Run("key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := g.By[0](f); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("value", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := g.Value(f); err != nil {
				b.Fatal(err)
			}
		}
	})
}
