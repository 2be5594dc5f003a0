package node

import (
	"testing"
	"time"

	"ctq/engine"
)

// TestStartupAdvertisement: a node that starts with flows in its kernel
// table (more than a step of the advertisement) sends them, and its peer
// learns them without asking.
func TestStartupAdvertisement(t *testing.T) {
	var flows []engine.Flow
	for i := range 2*startupChunk + 10 {
		flows = append(flows, flow(i))
	}
	p := runFakePair(t, lossConf, flows...)
	p.converge(t, 10*time.Millisecond, 2*time.Second)
	if st := p.a.counters(t); st.StartupAdvertised != uint64(len(flows)) || st.ResyncsAnswered != 0 {
		t.Errorf("advertised %d at start, answered %d resyncs; want %d, 0", st.StartupAdvertised, st.ResyncsAnswered, len(flows))
	}
}
