//go:build linux

package ctnetlink

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/mdlayher/netlink"

	"ctq/engine"
)

// ctStatNames are conntrack -S's names of enum ctattr_stats_cpu, indexed by
// attribute type (CTA_STATS_SEARCHED = 1 ... CTA_STATS_CHAIN_TOOLONG = 15).
var ctStatNames = [...]string{
	1: "searched", 2: "found", 3: "new", 4: "invalid", 5: "ignore", 6: "delete",
	7: "delete_list", 8: "insert", 9: "insert_failed", 10: "drop", 11: "early_drop",
	12: "error", 13: "search_restart", 14: "clash_resolve", 15: "chaintoolong",
}

// expStatNames are the names of enum ctattr_expect_stats
// (CTA_STATS_EXP_NEW = 1 ... CTA_STATS_EXP_DELETE = 3).
var expStatNames = [...]string{1: "expect_new", 2: "expect_create", 3: "expect_delete"}

// ipctnlMsgExpGetStatsCPU is IPCTNL_MSG_EXP_GET_STATS_CPU (enum
// ctnl_exp_msg_types).
const ipctnlMsgExpGetStatsCPU = 3

// Stats returns the per-CPU counters of the conntrack table (table
// TableConntrack, IPCTNL_MSG_CT_GET_STATS_CPU) or of the expect table
// (TableExpect), one entry per CPU in CPU order.
func (l *Live) Stats(ctx context.Context, table engine.Table) ([]engine.CPUStats, error) {
	op := "read " + table.String() + " statistics"
	var (
		req   netlink.Message
		names []string
	)
	switch table {
	case engine.TableConntrack:
		req, names = ctMessage(ipctnlMsgCtGetStatsCPU, netlink.Dump, newRequest(engine.FamilyUnspec).b), ctStatNames[:]
	case engine.TableExpect:
		req, names = expMessage(ipctnlMsgExpGetStatsCPU, netlink.Dump, newRequest(engine.FamilyUnspec).b), expStatNames[:]
	default:
		return nil, fmt.Errorf("%s: the kernel keeps statistics for the conntrack and expect tables only", op)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	c, err := l.dial()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	defer l.release(c)
	msgs, err := c.Execute(req)
	if err != nil {
		return nil, kernelError(op, err)
	}
	out := make([]engine.CPUStats, 0, len(msgs))
	for _, m := range msgs {
		s, err := decodeCPUStats(m.Data, names)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		out = append(out, s)
	}
	return out, nil
}

// decodeCPUStats decodes one per-CPU statistics message: the CPU number is
// the nfgenmsg res_id, the counters are big-endian u32 attributes.
func decodeCPUStats(data []byte, names []string) (engine.CPUStats, error) {
	if len(data) < nfgenmsgLen {
		return engine.CPUStats{}, errShortMessage
	}
	s := engine.CPUStats{CPU: int(data[2])<<8 | int(data[3])}
	b := data[nfgenmsgLen:]
	for len(b) > 0 {
		typ, val, rest, err := nextAttr(b)
		if err != nil {
			return engine.CPUStats{}, err
		}
		b = rest
		v, err := attrU32(typ, val)
		if err != nil {
			return engine.CPUStats{}, err
		}
		name := "unknown" + strconv.Itoa(int(typ))
		if int(typ) < len(names) && names[typ] != "" {
			name = names[typ]
		}
		s.Counters = append(s.Counters, engine.StatCounter{Name: name, Value: uint64(v)})
	}
	return s, nil
}

// MaxEntries is the most entries a conntrack table may hold
// (net.netfilter.nf_conntrack_max).
func (l *Live) MaxEntries() (int, error) {
	b, err := os.ReadFile("/proc/sys/net/netfilter/nf_conntrack_max")
	if err != nil {
		return 0, fmt.Errorf("read nf_conntrack_max: %w", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, fmt.Errorf("read nf_conntrack_max: %w", err)
	}
	return n, nil
}
