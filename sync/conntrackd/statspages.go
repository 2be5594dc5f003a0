package conntrackd

import (
	"fmt"
	"strings"
	"time"
)

// statsCounters are the counters of a statistics-mode node's cache, as
// conntrackd's -s pages show them.
type statsCounters struct {
	active, created, updated, destroyed uint64
	events                              uint64
	bytes, packets                      uint64
}

// statsPage is `conntrackd -s` (and -s ct) of the statistics mode: the
// cache, then the traffic of the flows that ended.
func statsPage(c *statsCounters) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cache stats:\ncurrent active connections:\t%12d\n", c.active)
	fmt.Fprintf(&b, "connections created:\t\t%12d\tfailed:\t%12d\n", c.created, 0)
	fmt.Fprintf(&b, "connections updated:\t\t%12d\tfailed:\t%12d\n", c.updated, 0)
	fmt.Fprintf(&b, "connections destroyed:\t\t%12d\tfailed:\t%12d\n\n", c.destroyed, 0)
	fmt.Fprintf(&b, "traffic processed:\n%20d Bytes      %20d Pckts\n\n", c.bytes, c.packets)
	return b.String()
}

// statsCachePage is `conntrackd -s cache` of the statistics mode.
func statsCachePage(c *statsCounters) string {
	var b strings.Builder
	fmt.Fprintf(&b, "cache:stats\tactive objects:\t\t%12d\n", c.active)
	fmt.Fprintf(&b, "\tactive/total entries:\t\t%12d/%12d\n", c.active, c.active)
	fmt.Fprintf(&b, "\tcreation OK/failed:\t\t%12d/%12d\n", c.created, 0)
	fmt.Fprintf(&b, "\t\tno memory available:\t%12d\n", 0)
	fmt.Fprintf(&b, "\t\tno space left in cache:\t%12d\n", 0)
	fmt.Fprintf(&b, "\tupdate OK/failed:\t\t%12d/%12d\n", c.updated, 0)
	fmt.Fprintf(&b, "\t\tentry not found:\t%12d\n", 0)
	fmt.Fprintf(&b, "\tdeletion created/failed:\t%12d/%12d\n", c.destroyed, 0)
	fmt.Fprintf(&b, "\t\tentry not found:\t%12d\n\n", 0)
	return b.String()
}

// statsRuntimePage is `conntrackd -s runtime`.
func statsRuntimePage(c *statsCounters, up time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "daemon uptime: %d min\n\n", int(up/time.Minute))
	b.WriteString("netlink stats:\n")
	fmt.Fprintf(&b, "\tevents received:\t%20d\n", c.events)
	fmt.Fprintf(&b, "\tevents filtered:\t%20d\n", 0)
	for _, l := range []string{"\tevents unknown type:\t\t", "\tcatch event failed:\t\t", "\tdump unknown type:\t\t",
		"\tnetlink overrun:\t\t", "\tflush kernel table:\t\t", "\tresync with kernel table:\t"} {
		fmt.Fprintf(&b, "%s%12d\n", l, 0)
	}
	fmt.Fprintf(&b, "\tcurrent buffer size (in bytes):\t%12d\n\n", 0)
	b.WriteString("runtime stats:\n")
	for _, l := range []string{"\tchild process failed:\t\t", "\t\tchild process segfault:\t", "\t\tchild process termsig:\t",
		"\tselect failed:\t\t\t", "\twait failed:\t\t\t", "\tlocal read failed:\t\t", "\tlocal unknown request:\t\t"} {
		fmt.Fprintf(&b, "%s%12d\n", l, 0)
	}
	b.WriteString("\n")
	return b.String()
}
