package engine

import "context"

// StatCounter is one named counter of a CPU's statistics.
type StatCounter struct {
	// Name is conntrack -S's name for it ("found", "insert_failed").
	Name  string
	Value uint64
}

// CPUStats are the counters one CPU keeps, in the order the kernel sent
// them (the order conntrack -S prints them in).
type CPUStats struct {
	CPU      int
	Counters []StatCounter
}

// Get returns the value of the counter called name.
func (s *CPUStats) Get(name string) (uint64, bool) {
	for _, c := range s.Counters {
		if c.Name == name {
			return c.Value, true
		}
	}
	return 0, false
}

// StatsSource is implemented by sources that keep per-CPU statistics
// (the live kernel: conntrack -S).
type StatsSource interface {
	// Stats returns the per-CPU counters of table (TableConntrack or
	// TableExpect), one entry per CPU in CPU order.
	Stats(ctx context.Context, table Table) ([]CPUStats, error)
	// MaxEntries is the table's size limit (net.netfilter.nf_conntrack_max).
	MaxEntries() (int, error)
}
