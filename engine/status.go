package engine

import "strings"

// Status is the conntrack status bit field (enum ip_conntrack_status).
type Status uint32

// Status bits, named as in the kernel's enum ip_conntrack_status.
const (
	StatusExpected     Status = 1 << 0  // IPS_EXPECTED
	StatusSeenReply    Status = 1 << 1  // IPS_SEEN_REPLY
	StatusAssured      Status = 1 << 2  // IPS_ASSURED
	StatusConfirmed    Status = 1 << 3  // IPS_CONFIRMED
	StatusSrcNAT       Status = 1 << 4  // IPS_SRC_NAT
	StatusDstNAT       Status = 1 << 5  // IPS_DST_NAT
	StatusSeqAdjust    Status = 1 << 6  // IPS_SEQ_ADJUST
	StatusSrcNATDone   Status = 1 << 7  // IPS_SRC_NAT_DONE
	StatusDstNATDone   Status = 1 << 8  // IPS_DST_NAT_DONE
	StatusDying        Status = 1 << 9  // IPS_DYING
	StatusFixedTimeout Status = 1 << 10 // IPS_FIXED_TIMEOUT
	StatusTemplate     Status = 1 << 11 // IPS_TEMPLATE
	StatusNATClash     Status = 1 << 12 // IPS_NAT_CLASH (was IPS_UNTRACKED)
	StatusHelper       Status = 1 << 13 // IPS_HELPER
	StatusOffload      Status = 1 << 14 // IPS_OFFLOAD
	StatusHWOffload    Status = 1 << 15 // IPS_HW_OFFLOAD
)

// StatusNames are the names of the status bits, indexed by bit number, as
// the language and the JSON output spell them.
var StatusNames = []string{
	"EXPECTED", "SEEN_REPLY", "ASSURED", "CONFIRMED", "SRC_NAT", "DST_NAT",
	"SEQ_ADJUST", "SRC_NAT_DONE", "DST_NAT_DONE", "DYING", "FIXED_TIMEOUT",
	"TEMPLATE", "NAT_CLASH", "HELPER", "OFFLOAD", "HW_OFFLOAD",
}

// Names lists the names of the bits set in s, lowest bit first.
func (s Status) Names() []string {
	var out []string
	for i, n := range StatusNames {
		if s&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// String joins the names of the set bits with "|", or "0".
func (s Status) String() string {
	n := s.Names()
	if len(n) == 0 {
		return "0"
	}
	return strings.Join(n, "|")
}

// Has reports whether the bit named name (case-insensitive, e.g. "assured")
// is set. An unknown name is never set.
func (s Status) Has(name string) bool {
	b, ok := StatusBit(name)
	return ok && s&b != 0
}

// StatusBit maps a bit name (case-insensitive) to its bit.
func StatusBit(name string) (Status, bool) {
	for i, n := range StatusNames {
		if strings.EqualFold(n, name) {
			return 1 << i, true
		}
	}
	return 0, false
}

// Labels is the conntrack label bit map (CTA_LABELS, up to 128 bits), kept as
// the kernel's host-order 32-bit words: bit n is Words[n/32] & (1 << (n%32)).
type Labels struct {
	Words [4]uint32
}

// Has reports whether label bit n is set.
func (l Labels) Has(n int) bool {
	if n < 0 || n >= 128 {
		return false
	}
	return l.Words[n/32]&(1<<(n%32)) != 0
}

// Set sets label bit n; bits outside 0..127 are ignored.
func (l *Labels) Set(n int) {
	if n >= 0 && n < 128 {
		l.Words[n/32] |= 1 << (n % 32)
	}
}

// Bits lists the set bits in ascending order.
func (l Labels) Bits() []int {
	var out []int
	for n := 0; n < 128; n++ {
		if l.Has(n) {
			out = append(out, n)
		}
	}
	return out
}

// Empty reports whether no bit is set.
func (l Labels) Empty() bool {
	return l.Words == [4]uint32{}
}
