package node

import (
	"testing"
	"time"

	"ctq/engine"
	"ctq/sync/config"
	"ctq/sync/link"
)

// discardLink sends nowhere.
type discardLink struct{}

func (discardLink) Send([]byte) error        { return nil }
func (discardLink) Recv([]byte) (int, error) { return 0, nil }
func (discardLink) MaxPayload() int          { return 1472 }
func (discardLink) Stats() link.Stats        { return link.Stats{} }
func (discardLink) Close() error             { return nil }

// BenchmarkEventToWire is the node's work for one kernel event: the
// internal cache updated, the entry queued, its message encoded and sent.
func BenchmarkEventToWire(b *testing.B) {
	cfg, err := config.Parse("t.conf", []byte(notrackConf))
	if err != nil {
		b.Fatal(err)
	}
	now := time.Unix(1000, 0)
	n, err := New(cfg, Options{Kernel: newFakeKernel(), Link: discardLink{}, Clock: &fakeClock{t: now}})
	if err != nil {
		b.Fatal(err)
	}
	flows := make([]engine.Flow, 1024)
	for i := range flows {
		flows[i] = flow(i)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		n.kernelEvent(&event{typ: engine.EventUpdate, flow: flows[i%len(flows)]})
		n.transmit()
	}
}
