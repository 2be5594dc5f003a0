package engine

// FilterSupport says which kernel-side filters the running kernel applies
// to a conntrack dump request. A kernel that does not know a filter
// attribute ignores it and dumps more than was asked, so a filter is only
// pushed (and only reported in ScanStats.Pushed) when it is supported.
type FilterSupport struct {
	// Family: the nfgenmsg family selects IPv4 or IPv6 entries (4.20+).
	Family bool
	// Mark: CTA_MARK with CTA_MARK_MASK (long-standing; taken as 4.0+).
	Mark bool
	// Status: CTA_STATUS with CTA_STATUS_MASK (5.15+).
	Status bool
	// Zone: CTA_ZONE (6.8+).
	Zone bool
	// Tuple: CTA_FILTER with a partial CTA_TUPLE_ORIG/CTA_TUPLE_REPLY
	// (5.8+).
	Tuple bool
	// Kernel is the kernel release the answer is for (uname -r).
	Kernel string
}
