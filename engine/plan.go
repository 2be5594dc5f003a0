package engine

import (
	"net/netip"
	"time"
)

// Action is what a Plan does with the entries it selects.
type Action uint8

// The actions of a Plan.
const (
	// ActList writes each selected entry to the Writer.
	ActList Action = iota
	// ActCount counts the selected entries.
	ActCount
	// ActGet looks one entry up by its original tuple (Plan.Key) and
	// writes it if it also satisfies Match.
	ActGet
	// ActDelete deletes each selected entry (with Dry: counts them).
	ActDelete
	// ActUpdate applies Plan.Change to each selected entry (with Dry:
	// counts them).
	ActUpdate
	// ActInsert creates the entries of Plan.Create.
	ActInsert
	// ActFlush empties Plan.Table (Plan.Filter.Family: one family).
	ActFlush
	// ActWatch streams the events of Plan.Table that Plan.Events selects
	// and Match accepts, for Plan.For (zero: until cancelled) or until
	// Plan.Limit events.
	ActWatch
	// ActGroup groups the selected entries as Plan.Group says and computes
	// one value per group, largest first, at most Plan.Limit groups; it
	// runs with Aggregate.
	ActGroup
)

// Plan is a compiled statement, ready for Exec. lang builds it; nothing in
// it refers to the language.
type Plan struct {
	Action Action
	Table  Table
	// Filter is the kernel-side part of the predicate (an over-approximation
	// of Match); the source may apply it, Match is evaluated regardless.
	Filter KernelFilter
	// Match is the whole predicate; nil selects every entry.
	Match func(*Flow) (bool, error)
	// Order sorts the selected entries by these keys, first key first.
	Order []OrderKey
	// Limit caps the number of entries written or counted; negative means
	// no limit.
	Limit int
	// Key holds the original tuple (and zone) for ActGet.
	Key *Flow

	// Exact is set when Filter is exactly equivalent to Match (every
	// conjunct was pushed), so a kernel that applies all of Filter needs no
	// userspace check: a delete may then be one filtered flush.
	Exact bool
	// Dry makes ActDelete and ActUpdate count what they would touch and
	// touch nothing.
	Dry bool
	// Echo makes ActDelete and ActUpdate write each entry the kernel
	// deleted or updated to Output.Flows: a deleted entry as it was read,
	// an updated one as the kernel holds it after the change (conntrack
	// -D and -U print them).
	Echo bool
	// Zero makes an ActList of TableConntrack read each entry and zero
	// its counters in one step (IPCTNL_MSG_CT_GET_CTRZERO; conntrack -L
	// -z): the entries written carry the counters before zeroing.
	Zero bool
	// IfAbsent makes an ActInsert leave an entry that exists already as it
	// is, without error (conntrack -A); Result.Batch counts it in Exists.
	IfAbsent bool
	// Change computes the change an ActUpdate makes to one selected entry.
	Change func(*Flow) (Change, error)
	// Create holds the entries an ActInsert creates.
	Create []Flow
	// Events and For bound an ActWatch.
	Events EventMask
	For    time.Duration
	// Reliable asks an ActWatch for the kernel's reliable delivery of
	// destroy events (WatchConfig.Reliable).
	Reliable bool
	// Every, for an ActWatch with a Group, is the interval over which
	// events are counted per group (one report an interval); Limit then
	// counts reports.
	Every time.Duration

	// For Table == TableExpect, MatchExpect replaces Match, and
	// CreateExpect holds the expectations an ActInsert creates.
	MatchExpect  func(*Expect) (bool, error)
	CreateExpect []Expect

	// Group says how an ActGroup groups and what it computes.
	Group *Grouping
}

// OrderKey is one sort key of a Plan. Value returns an int, uint, float64,
// string, bool, netip.Addr, time.Time or time.Duration; keys of one column
// must all have the same type.
type OrderKey struct {
	Value func(*Flow) (any, error)
	Desc  bool
}

// Grouping is how an ActGroup plan groups entries and what it computes.
type Grouping struct {
	// By computes the group keys of an entry: each value an int, uint,
	// float64, string, bool, netip.Addr, time.Time or time.Duration (any
	// comparable value). No keys: one group of every selected entry.
	By []func(*Flow) (any, error)
	// AddrKey, when not nil, reads the one key of By (which must return
	// the same address) without putting it in an interface: a grouping
	// by an address field then allocates nothing for an entry whose group
	// exists.
	AddrKey func(*Flow) netip.Addr
	// Agg is what is computed over each group.
	Agg AggFunc
	// Value is the number Agg sums, averages or bounds; nil for AggCount.
	Value func(*Flow) (float64, error)
}

// ScanFilter is the kernel filter a scan for p sends: Filter, asking for
// the kernel's single-dump order when p lists entries without sorting them
// (as conntrack -L prints them).
func (p *Plan) ScanFilter() KernelFilter {
	f := p.Filter
	f.Ordered = p.Action == ActList && len(p.Order) == 0
	return f
}
