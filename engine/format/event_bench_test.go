package format

import (
	"io"
	"testing"
	"time"

	"ctq/engine"
)

// benchEvents writes a mix of flow events (a userspace NEW, a kernel
// UPDATE, a DESTROY with counters and timestamps) with format name to
// io.Discard, one event an iteration, flushing every 64 events as a busy
// watch would.
func benchEvents(b *testing.B, name string) {
	flows := []engine.Flow{evNew, evAssured, evDestroy}
	evs := []engine.Event{
		{Type: engine.EventNew, Flow: &flows[0], PortID: 16627},
		{Type: engine.EventUpdate, Flow: &flows[1]},
		{Type: engine.EventDestroy, Flow: &flows[2], PortID: 3163355229},
	}
	benchEventList(b, name, evs)
}

// benchExpectEvents writes expectation events.
func benchExpectEvents(b *testing.B, name string) {
	e := ftpExpect(50000, 43121, 300).build()
	evs := []engine.Event{{Type: engine.EventNew, Expect: &e}, {Type: engine.EventDestroy, Expect: &e}}
	benchEventList(b, name, evs)
}

func benchEventList(b *testing.B, name string, evs []engine.Event) {
	opts := EventOptions{Options: testOptions(nil), ProgName: func(uint32) string { return "conntrack" }}
	w, err := NewEvents(name, io.Discard, opts)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Unix(1795390188, 132295000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := &evs[i%len(evs)]
		ev.Time = t0.Add(time.Duration(i) * time.Microsecond)
		if err := w.WriteEvent(ev); err != nil {
			b.Fatal(err)
		}
		if i%64 == 63 {
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkEventText(b *testing.B)          { benchEvents(b, "text") }
func BenchmarkEventTextTimestamp(b *testing.B) { benchEvents(b, "extended,id,timestamp") }
func BenchmarkEventXML(b *testing.B)           { benchEvents(b, "xml") }
func BenchmarkEventSave(b *testing.B)          { benchEvents(b, "save") }
func BenchmarkEventJSON(b *testing.B)          { benchEvents(b, "json") }
func BenchmarkEventCSV(b *testing.B)           { benchEvents(b, "csv") }
func BenchmarkExpectEventText(b *testing.B)    { benchExpectEvents(b, "text") }
func BenchmarkExpectEventJSON(b *testing.B)    { benchExpectEvents(b, "json") }

func BenchmarkAppendExpect(b *testing.B) {
	e := ftpExpect(50001, 43021, 298).build()
	buf := make([]byte, 0, 1024)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf = AppendExpect(buf[:0], &e, EventNone, nil)
	}
}
