package format

import (
	"io"
	"testing"

	"ctq/engine"
)

// benchWrite writes a mixed set of flows with format name to io.Discard,
// one flow an iteration.
func benchWrite(b *testing.B, name string) {
	flows := []engine.Flow{v4tcp42002, v6tcp, v4icmp4660, v4udp41004, labelsTwo, gre11}
	w, err := New(name, io.Discard, testOptions(labelMap))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := w.Write(&flows[i%len(flows)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkText(b *testing.B)     { benchWrite(b, "text") }
func BenchmarkExtended(b *testing.B) { benchWrite(b, "extended,id,ktimestamp") }
func BenchmarkSave(b *testing.B)     { benchWrite(b, "save") }
func BenchmarkXML(b *testing.B)      { benchWrite(b, "xml") }
func BenchmarkJSON(b *testing.B)     { benchWrite(b, "json") }
func BenchmarkCSV(b *testing.B)      { benchWrite(b, "csv") }
func BenchmarkTable(b *testing.B)    { benchWrite(b, "table") }

func BenchmarkDecodeJSON(b *testing.B) {
	f := v4tcp42002
	opts := testOptions(nil)
	line := AppendJSON(nil, &f, &opts)
	var out engine.Flow
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := DecodeJSON(line, &out); err != nil {
			b.Fatal(err)
		}
	}
}
