package engine

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
	// Format is the output format the statement asked for ("as FORMAT"),
	// empty for the session's default.
	Format string
}

// OrderKey is one sort key of a Plan. Value returns an int, uint, float64,
// string, bool, netip.Addr, time.Time or time.Duration; keys of one column
// must all have the same type.
type OrderKey struct {
	Value func(*Flow) (any, error)
	Desc  bool
}
