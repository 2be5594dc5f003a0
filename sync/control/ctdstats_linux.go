package control

import (
	"fmt"
	"strings"
	"time"

	"ctq/sync/cache"
	"ctq/sync/config"
	"ctq/sync/link"
	"ctq/sync/node"
	"ctq/sync/wire"
)

// The status pages of conntrackd's -s requests, in conntrackd 1.4.7's
// layout byte for byte (tools such as VyOS parse them): what a script that
// runs `conntrackd -C CONF -s ...` against a ctq node reads. Counters
// conntrackd has and ctq does not (memory and child process failures) are
// 0.

// ctdGeneral is `conntrackd -s` (and, with the expectation caches,
// `-s expect`).
func ctdGeneral(st *node.Stats, expect bool) string {
	var b strings.Builder
	in, ex := &st.Internal, &st.External
	if expect {
		in, ex = &st.InternalExpect, &st.ExternalExpect
	}
	for _, c := range []struct {
		name string
		s    *cache.Stats
	}{{"internal", in}, {"external", ex}} {
		fmt.Fprintf(&b, "cache %s:\n", c.name)
		fmt.Fprintf(&b, "current active connections:\t%12d\n", c.s.Active)
		fmt.Fprintf(&b, "connections created:\t\t%12d\tfailed:\t%12d\n", c.s.AddOK, c.s.AddFail)
		fmt.Fprintf(&b, "connections updated:\t\t%12d\tfailed:\t%12d\n", c.s.UpdOK, c.s.UpdFail)
		fmt.Fprintf(&b, "connections destroyed:\t\t%12d\tfailed:\t%12d\n\n", c.s.DelOK, c.s.DelFail)
	}
	b.WriteString("traffic processed:\n")
	fmt.Fprintf(&b, "%20d Bytes      %20d Pckts\n\n", st.TrafficBytes, st.TrafficPackets)
	ctdActiveLink(&b, st)
	b.WriteString("message tracking:\n")
	fmt.Fprintf(&b, "%20d Malformed msgs %20d Lost msgs\n\n", malformed(st), st.SeqLost)
	return b.String()
}

// malformed is the number of received messages rejected, of any kind.
func malformed(st *node.Stats) uint64 {
	var n uint64
	for _, c := range st.RecvErrors {
		n += c
	}
	return n
}

// ctdTraffic writes a link's traffic counters.
func ctdTraffic(b *strings.Builder, s *link.Stats) {
	fmt.Fprintf(b, "%20d Bytes sent %20d Bytes recv\n", s.SentBytes, s.RecvBytes)
	fmt.Fprintf(b, "%20d Pckts sent %20d Pckts recv\n", s.SentDatagrams, s.RecvDatagrams)
	fmt.Fprintf(b, "%20d Error send %20d Error recv\n\n", s.SendErrors, s.RecvErrors)
}

// transportName is conntrackd's name of a transport in its status pages.
func transportName(t config.Transport) string {
	if t == config.TransportMulticast {
		return "multicast"
	}
	return t.String()
}

// connected is a TCP connection's state in conntrackd's -s.
func connected(up bool) string {
	if up {
		return "connected"
	}
	return "disconnected"
}

// ctdActiveLink writes the active link's traffic ("UDP traffic (active
// device=eth1):").
func ctdActiveLink(b *strings.Builder, st *node.Stats) {
	for _, ls := range st.Links {
		if ls.Active {
			if ls.Transport == config.TransportTCP {
				// conntrackd's tcp_snprintf_stats
				fmt.Fprintf(b, "TCP traffic (active device=%s) server=%s client=%s:\n", ls.Interface,
					connected(ls.ServerConnected), connected(ls.ClientConnected))
			} else {
				fmt.Fprintf(b, "%s traffic (active device=%s):\n", transportName(ls.Transport), ls.Interface)
			}
			ctdTraffic(b, &ls.Stats)
			return
		}
	}
}

// ctdNetwork is `conntrackd -s network`.
func ctdNetwork(st *node.Stats) string {
	var b strings.Builder
	b.WriteString("network statistics:\n\trecv:\n")
	for _, r := range []struct {
		label string
		n     uint64
	}{
		{"Malformed messages:", malformed(st)},
		{"Wrong protocol version:", st.RecvErrors[wire.KindBadVersion]},
		{"Malformed header:", st.RecvErrors[wire.KindBadHeader]},
		{"Malformed payload:", st.RecvErrors[wire.KindBadPayload]},
		{"Bad message type:", st.RecvErrors[wire.KindBadType]},
		{"Truncated message:", st.RecvErrors[wire.KindTruncated]},
		{"Bad message size:", st.RecvErrors[wire.KindBadSize]},
	} {
		fmt.Fprintf(&b, "\t\t%s\t%20d\n", r.label, r.n)
	}
	fmt.Fprintf(&b, "\tsend:\n\t\tMalformed messages:\t%20d\n\n", st.SendMalformed)
	b.WriteString("sequence tracking statistics:\n\trecv:\n")
	fmt.Fprintf(&b, "\t\tPackets lost:\t\t%20d\n", st.SeqLost)
	fmt.Fprintf(&b, "\t\tPackets before:\t\t%20d\n\n", st.SeqBefore)
	ctdActiveLink(&b, st)
	return b.String()
}

// ctdCache is `conntrackd -s cache`.
func ctdCache(st *node.Stats) string {
	var b strings.Builder
	for _, c := range []struct {
		name string
		s    *cache.Stats
	}{{"internal", &st.Internal}, {"external", &st.External}} {
		s := c.s
		fmt.Fprintf(&b, "cache:%s\tactive objects:\t\t%12d\n", c.name, s.Objects)
		fmt.Fprintf(&b, "\tactive/total entries:\t\t%12d/%12d\n", s.Active, s.Objects)
		fmt.Fprintf(&b, "\tcreation OK/failed:\t\t%12d/%12d\n", s.AddOK, s.AddFail)
		fmt.Fprintf(&b, "\t\tno memory available:\t%12d\n", 0)
		fmt.Fprintf(&b, "\t\tno space left in cache:\t%12d\n", s.AddFailFull)
		fmt.Fprintf(&b, "\tupdate OK/failed:\t\t%12d/%12d\n", s.UpdOK, s.UpdFail)
		fmt.Fprintf(&b, "\t\tentry not found:\t%12d\n", s.UpdFailNoEntry)
		fmt.Fprintf(&b, "\tdeletion created/failed:\t%12d/%12d\n", s.DelOK, s.DelFail)
		fmt.Fprintf(&b, "\t\tentry not found:\t%12d\n\n", s.DelFailNoEntry)
	}
	return b.String()
}

// ctdRuntime is `conntrackd -s runtime`; uptime is in minutes.
func ctdRuntime(st *node.Stats, uptimeMin int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "daemon uptime: %d min\n\n", uptimeMin)
	b.WriteString("netlink stats:\n")
	fmt.Fprintf(&b, "\tevents received:\t%20d\n", st.EventsReceived)
	fmt.Fprintf(&b, "\tevents filtered:\t%20d\n", st.EventsFiltered)
	fmt.Fprintf(&b, "\tevents unknown type:\t\t%12d\n", 0)
	fmt.Fprintf(&b, "\tcatch event failed:\t\t%12d\n", 0)
	fmt.Fprintf(&b, "\tdump unknown type:\t\t%12d\n", 0)
	fmt.Fprintf(&b, "\tnetlink overrun:\t\t%12d\n", st.EventOverflows)
	fmt.Fprintf(&b, "\tflush kernel table:\t\t%12d\n", st.KernelFlushes)
	fmt.Fprintf(&b, "\tresync with kernel table:\t%12d\n", st.KernelResyncs)
	fmt.Fprintf(&b, "\tcurrent buffer size (in bytes):\t%12d\n\n", st.WatchBuffer)
	b.WriteString("runtime stats:\n")
	fmt.Fprintf(&b, "\tchild process failed:\t\t%12d\n", 0)
	fmt.Fprintf(&b, "\t\tchild process segfault:\t%12d\n", 0)
	fmt.Fprintf(&b, "\t\tchild process termsig:\t%12d\n", 0)
	fmt.Fprintf(&b, "\tselect failed:\t\t\t%12d\n", 0)
	fmt.Fprintf(&b, "\twait failed:\t\t\t%12d\n", 0)
	fmt.Fprintf(&b, "\tlocal read failed:\t\t%12d\n", 0)
	fmt.Fprintf(&b, "\tlocal unknown request:\t\t%12d\n\n", 0)
	return b.String()
}

// ctdLinkPage is `conntrackd -s link`: every link with its state and role.
func ctdLinkPage(st *node.Stats) string {
	var b strings.Builder
	for _, ls := range st.Links {
		status, role := ls.State, "ACTIVE"
		if status == "" { // a link of no interface
			status = link.StateRunning
		}
		if !ls.Active {
			role = "BACKUP"
		}
		fmt.Fprintf(&b, "%s traffic device=%s status=%s role=%s:\n", transportName(ls.Transport), ls.Interface, status, role)
		ctdTraffic(&b, &ls.Stats)
	}
	return b.String()
}

// ctdRsqueue is `conntrackd -s rsqueue`.
func ctdRsqueue(st *node.Stats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "resent queue (len=%d)\n", len(st.ResendItems))
	for _, it := range st.ResendItems {
		if it.Control {
			fmt.Fprintf(&b, "control -> seq:%d flags:%d\n", it.Seq, it.Flags)
			continue
		}
		fmt.Fprintf(&b, "object -> seq:%d\n", it.Seq)
	}
	return b.String()
}

// ctdQueue is `conntrackd -s queue`.
func ctdQueue(st *node.Stats) string {
	var b strings.Builder
	fmt.Fprintf(&b, "allocated queue nodes:\t\t%12d\n\n", st.TxQueue)
	for _, q := range []struct {
		name     string
		cur, max int
		dropped  uint64
	}{
		{"txqueue", st.TxQueue, 1<<31 - 1, 0},
		{"errorq", 0, st.ErrorQueueLimit, 0},
		{"rsqueue", st.ResendQueue, st.ResendQueueLimit, st.ResendDropped},
	} {
		fmt.Fprintf(&b, "queue %s:\n", q.name)
		fmt.Fprintf(&b, "current elements:\t\t%12d\n", q.cur)
		fmt.Fprintf(&b, "maximum elements:\t\t%12d\n", q.max)
		fmt.Fprintf(&b, "not enough space errors:\t%12d\n\n", q.dropped)
	}
	return b.String()
}

// ctdPages are the -s pages by request code.
var ctdPages = map[uint32]func(st *node.Stats, now time.Time) string{
	CodeStats:        func(st *node.Stats, _ time.Time) string { return ctdGeneral(st, false) },
	CodeExpStats:     func(st *node.Stats, _ time.Time) string { return ctdGeneral(st, true) },
	CodeStatsNetwork: func(st *node.Stats, _ time.Time) string { return ctdNetwork(st) },
	CodeStatsCache:   func(st *node.Stats, _ time.Time) string { return ctdCache(st) },
	CodeStatsRuntime: func(st *node.Stats, now time.Time) string {
		return ctdRuntime(st, int(now.Sub(st.Started).Minutes()))
	},
	CodeStatsLink:    func(st *node.Stats, _ time.Time) string { return ctdLinkPage(st) },
	CodeStatsRsqueue: func(st *node.Stats, _ time.Time) string { return ctdRsqueue(st) },
	CodeStatsQueue:   func(st *node.Stats, _ time.Time) string { return ctdQueue(st) },
	CodeStatsProcess: func(*node.Stats, time.Time) string { return "" }, // no child processes
}
