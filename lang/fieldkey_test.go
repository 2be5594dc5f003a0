package lang

import (
	"net/netip"
	"reflect"
	"testing"

	"ctq/engine"
)

// TestFieldReaders checks each direct reader against the field the
// expression machine reads by its expr tag, on a flow whose fields all
// differ.
func TestFieldReaders(t *testing.T) {
	f := &engine.Flow{
		Family: "ipv6", Proto: "udp", State: "UNREPLIED",
		Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2"),
		ReplySrc: netip.MustParseAddr("2001:db8::3"), ReplyDst: netip.MustParseAddr("2001:db8::4"),
		Sport: 1, Dport: 2, Mark: 3, Zone: 4, Timeout: 5,
		Bytes: 6, Packets: 7, OrigBytes: 8, OrigPackets: 9, ReplyBytes: 10, ReplyPackets: 11,
	}
	v := reflect.ValueOf(f).Elem()
	field := func(name string) reflect.Value {
		for i := range v.NumField() {
			if v.Type().Field(i).Tag.Get("expr") == name {
				return v.Field(i)
			}
		}
		t.Fatalf("no field %q", name)
		return reflect.Value{}
	}
	keys, values := 0, 0
	for _, name := range flowFields {
		if get := fieldKey(name); get != nil {
			keys++
			if got, want := get(f), field(name).Interface(); got != want {
				t.Errorf("key %s: %v, want %v", name, got, want)
			}
		}
		if get := fieldValue(name); get != nil {
			values++
			if got, want := get(f), float64(field(name).Int()); got != want {
				t.Errorf("value %s: %v, want %v", name, got, want)
			}
		}
	}
	addrs := 0
	for _, name := range flowFields {
		if get := fieldAddr(name); get != nil {
			addrs++
			if got, want := get(f), field(name).Interface(); got != want {
				t.Errorf("address %s: %v, want %v", name, got, want)
			}
		}
	}
	if keys != 11 || values != 7 || addrs != 4 {
		t.Errorf("%d key, %d value and %d address readers found among the fields, want 11, 7 and 4", keys, values, addrs)
	}
}

// TestBareFieldKeys checks that grouping by a bare field, by an
// expression over it and by a script variable give the same groups.
func TestBareFieldKeys(t *testing.T) {
	plans, err := CompileScript("count by src\ncount by src2\ncount by dport + 0\ntop 3 dport by bytes\ntop 3 dport by bytes + 0", &Options{Vars: map[string]any{"src2": 5}})
	if err != nil {
		t.Fatal(err)
	}
	f := benchFlow()
	f.Bytes = 1234
	for i, want := range []any{f.Src, 5, 22} {
		got, err := plans[i].Group.By[0](f)
		if err != nil || got != want {
			t.Errorf("key of plan %d: %v (%v), want %v", i, got, err, want)
		}
	}
	if get := plans[0].Group.AddrKey; get == nil || get(f) != f.Src {
		t.Error("count by src reads no address")
	}
	for _, i := range []int{1, 2, 3} {
		if plans[i].Group.AddrKey != nil {
			t.Errorf("plan %d reads an address", i)
		}
	}
	for _, i := range []int{3, 4} {
		got, err := plans[i].Group.Value(f)
		if err != nil || got != 1234 {
			t.Errorf("value of plan %d: %v (%v), want 1234", i, got, err)
		}
	}
}
