package engine

import (
	"context"
	"net/netip"
	"testing"
)

// BenchmarkAggregate groups 200,000 flows by source address, every source
// distinct (the worst case: a group a flow), counting and summing bytes
// for the top 10, with the key read as an address (as lang reads src)
// and as a value.
func BenchmarkAggregate(b *testing.B) {
	flows := make([]Flow, 200000)
	for i := range flows {
		flows[i].Src = netip.AddrFrom4([4]byte{198, 18 + byte(i>>16), byte(i >> 8), byte(i)})
		flows[i].Bytes = i % 977
	}
	src := func(f *Flow) (any, error) { return f.Src, nil }
	srcAddr := func(f *Flow) netip.Addr { return f.Src }
	bytes := func(f *Flow) (float64, error) { return float64(f.Bytes), nil }
	for _, bc := range []struct {
		name  string
		g     Grouping
		limit int
	}{
		{"count_by_src", Grouping{By: []func(*Flow) (any, error){src}, AddrKey: srcAddr}, -1},
		{"top10_src_by_bytes", Grouping{By: []func(*Flow) (any, error){src}, AddrKey: srcAddr, Agg: AggSum, Value: bytes}, 10},
		{"count_by_src_as_value", Grouping{By: []func(*Flow) (any, error){src}}, -1},
	} {
		b.Run(bc.name, func(b *testing.B) {
			p := &Plan{Action: ActGroup, Limit: bc.limit, Group: &bc.g}
			s := &sliceSource{flows: flows}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := aggregate(context.Background(), s, p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
