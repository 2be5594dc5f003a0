//go:build linux

package node

// Tables says which of the kernel's tables a commit, a refresh or a flush
// of the kernel acts on, as conntrackd's -c, -R and -F take `ct` or
// `expect`.
type Tables uint8

// The tables a request acts on.
const (
	// AllTables is the conntrack table and, when the node syncs
	// expectations, the expect table (conntrackd's -c, -R, -F).
	AllTables Tables = iota
	// ConntrackTable is the conntrack table alone (-c ct, -R ct, -F ct).
	ConntrackTable
	// ExpectTable is the expect table alone (-c expect, -R expect,
	// -F expect); nothing when the node does not sync expectations.
	ExpectTable
)

// flows reports whether t includes the conntrack table.
func (t Tables) flows() bool { return t != ExpectTable }

// expects reports whether t includes the expect table.
func (t Tables) expects() bool { return t != ConntrackTable }

// String names the tables as requests do: all, conntrack or expect.
func (t Tables) String() string {
	switch t {
	case ConntrackTable:
		return "conntrack"
	case ExpectTable:
		return "expect"
	}
	return "all"
}
