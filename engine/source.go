package engine

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
)

// Table names one of the kernel's conntrack tables.
type Table uint8

// The tables ctq can read.
const (
	TableConntrack   Table = iota // the confirmed connections (IPCTNL_MSG_CT_GET)
	TableExpect                   // expectations (IPCTNL_MSG_EXP_GET)
	TableDying                    // entries being destroyed (IPCTNL_MSG_CT_GET_DYING)
	TableUnconfirmed              // entries not yet confirmed (IPCTNL_MSG_CT_GET_UNCONFIRMED)
)

// TableNames are the language's names of the tables, indexed by Table.
var TableNames = []string{"conntrack", "expect", "dying", "unconfirmed"}

func (t Table) String() string {
	if int(t) < len(TableNames) {
		return TableNames[t]
	}
	return fmt.Sprintf("table(%d)", t)
}

// ParseTable maps a table name to a Table.
func ParseTable(name string) (Table, bool) {
	for i, n := range TableNames {
		if n == name {
			return Table(i), true
		}
	}
	return 0, false
}

// KernelFilter is the part of a predicate that a Source may apply before
// handing entries over (for the live kernel: in the kernel, with the dump
// request). It only ever narrows: every entry that satisfies the full
// predicate satisfies the filter. A Source that cannot apply part of it
// ignores that part; callers still evaluate the whole predicate.
type KernelFilter struct {
	// Family is AF_INET or AF_INET6, or AF_UNSPEC for both.
	Family int
	// Mark and MarkMask select entries with mark&MarkMask == Mark; a zero
	// MarkMask means no mark filter.
	Mark, MarkMask uint32
	// Status and StatusMask select entries with status&StatusMask == Status;
	// a zero StatusMask means no status filter.
	Status, StatusMask Status
	// Zone selects entries of one conntrack zone when ZoneSet.
	Zone    uint16
	ZoneSet bool
	// Orig and Reply are exact matches on tuple fields (CTA_FILTER).
	Orig, Reply TupleFilter
	// Ordered asks for the entries in the order of one plain dump (the
	// kernel's hash order, as conntrack -L prints them): the source must not
	// split the scan into several dumps (one per family), even where that
	// would let it push more of the filter.
	Ordered bool
	// Zero asks a scan of the conntrack table to zero the counters of each
	// entry it reads, in the same step (IPCTNL_MSG_CT_GET_CTRZERO): the
	// entries come with their counters before zeroing. It selects nothing
	// (Empty ignores it). Only the live kernel honours it; Exec refuses a
	// plan with Zero on any other source.
	Zero bool
}

// Empty reports whether the filter selects everything.
func (k *KernelFilter) Empty() bool {
	return k == nil || (k.Family == FamilyUnspec && k.MarkMask == 0 && k.StatusMask == 0 &&
		!k.ZoneSet && k.Orig.Fields == 0 && k.Reply.Fields == 0)
}

// TupleFields is a set of tuple fields that a TupleFilter matches exactly.
// The values are the kernel's CTA_FILTER_FLAG_* bits.
type TupleFields uint32

// Tuple fields of a TupleFilter (enum ctattr_filter flags).
const (
	TupleSrc        TupleFields = 1 << 0  // CTA_FILTER_FLAG_CTA_IP_SRC
	TupleDst        TupleFields = 1 << 1  // CTA_FILTER_FLAG_CTA_IP_DST
	TupleZone       TupleFields = 1 << 2  // CTA_FILTER_FLAG_CTA_TUPLE_ZONE
	TupleProto      TupleFields = 1 << 3  // CTA_FILTER_FLAG_CTA_PROTO_NUM
	TupleSport      TupleFields = 1 << 4  // CTA_FILTER_FLAG_CTA_PROTO_SRC_PORT
	TupleDport      TupleFields = 1 << 5  // CTA_FILTER_FLAG_CTA_PROTO_DST_PORT
	TupleICMPType   TupleFields = 1 << 6  // CTA_FILTER_FLAG_CTA_PROTO_ICMP_TYPE
	TupleICMPCode   TupleFields = 1 << 7  // CTA_FILTER_FLAG_CTA_PROTO_ICMP_CODE
	TupleICMPID     TupleFields = 1 << 8  // CTA_FILTER_FLAG_CTA_PROTO_ICMP_ID
	TupleICMPv6Type TupleFields = 1 << 9  // CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_TYPE
	TupleICMPv6Code TupleFields = 1 << 10 // CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_CODE
	TupleICMPv6ID   TupleFields = 1 << 11 // CTA_FILTER_FLAG_CTA_PROTO_ICMPV6_ID
)

// TupleFilter is an exact match on some fields of one tuple direction.
type TupleFilter struct {
	// Fields says which of the values below are set.
	Fields TupleFields
	Src    netip.Addr
	Dst    netip.Addr
	Proto  uint8
	Sport  uint16
	Dport  uint16
	// ICMP fields apply to ICMP and ICMPv6 alike; the Source picks the
	// kernel flags by Proto.
	ICMPType uint8
	ICMPCode uint8
	ICMPID   uint16
	Zone     uint16
}

// ScanStats describes one scan of a table.
type ScanStats struct {
	// Received counts the entries the source produced (after any kernel
	// filter, before the predicate).
	Received int
	// Skipped counts messages that could not be decoded; they are not
	// passed to the callback.
	Skipped int
	// Interrupted is set when the kernel flagged the dump as inconsistent
	// (NLM_F_DUMP_INTR): the table changed during the dump, and entries may
	// be missing or repeated.
	Interrupted bool
	// Pushed is the part of the requested KernelFilter the source applied
	// (the rest was left to the predicate).
	Pushed KernelFilter
}

// Source is where flows come from: the live kernel of one network
// namespace, or a saved snapshot.
type Source interface {
	// Scan calls yield for each entry of table, in the source's order,
	// until the table ends, yield returns an error, or ctx is done. The
	// filter may be nil. The *Flow passed to yield is reused after yield
	// returns.
	Scan(ctx context.Context, table Table, filter *KernelFilter, yield func(*Flow) error) (ScanStats, error)
	// Get looks up the conntrack entry whose original tuple (and zone)
	// equal key's; it returns ErrNotFound when there is none.
	Get(ctx context.Context, key *Flow) (*Flow, error)
	// Close releases the source.
	Close() error
}

// MultiGetter is implemented by sources that look up many entries in one
// exchange with the kernel (the echo of an update reads each entry it
// changed back: one exchange per entry costs a round trip each).
type MultiGetter interface {
	// GetEach looks up the entries whose original tuples (and zones)
	// equal those of keys, as Get does, and calls fn with each key's
	// index and its entry, or ErrNotFound, in the order of keys. fn's
	// error ends GetEach with it; f is reused after fn returns.
	GetEach(ctx context.Context, keys []Flow, fn func(i int, f *Flow, err error) error) error
}

// ErrNotFound is returned by Source.Get for an entry that does not exist.
var ErrNotFound = errors.New("no such conntrack entry")

// ErrPermission is returned when the kernel refuses a request for lack of
// privilege; its text says what the kernel wants.
var ErrPermission = errors.New("permission denied: reading or changing the conntrack table needs root or CAP_NET_ADMIN")

// ErrUnsupported is returned by live sources on a system without Linux's
// ctnetlink: only saved tables can be queried there.
var ErrUnsupported = errors.New("the live conntrack tables need Linux (ctnetlink)")

// Writer receives flows for output. Write may be called many times; Flush
// ends the output (a closing tag, a table's aligned rows) and flushes any
// buffer. The *Flow passed to Write is only valid during the call.
type Writer interface {
	Write(f *Flow) error
	Flush() error
}
