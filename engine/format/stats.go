package format

import (
	"strconv"

	"ctq/engine"
)

// AppendCPUStats appends one CPU's counters as conntrack -S prints them
// (no newline): "cpu=0   \tfound=0 invalid=0 ... " — the CPU number
// left-justified in four columns, a tab, then name=value pairs each
// followed by a space, in the kernel's order.
func AppendCPUStats(buf []byte, s *engine.CPUStats) []byte {
	buf = append(buf, "cpu="...)
	n := len(buf)
	buf = strconv.AppendInt(buf, int64(s.CPU), 10)
	for len(buf)-n < 4 {
		buf = append(buf, ' ')
	}
	buf = append(buf, '\t')
	for _, c := range s.Counters {
		buf = append(buf, c.Name...)
		buf = append(buf, '=')
		buf = strconv.AppendUint(buf, c.Value, 10)
		buf = append(buf, ' ')
	}
	return buf
}

// AppendCPUStatsJSON appends one CPU's counters as a JSON object:
// {"cpu":0,"found":0,...}.
func AppendCPUStatsJSON(buf []byte, s *engine.CPUStats) []byte {
	buf = append(buf, `{"cpu":`...)
	buf = strconv.AppendInt(buf, int64(s.CPU), 10)
	for _, c := range s.Counters {
		buf = append(buf, ',')
		buf = strconv.AppendQuote(buf, c.Name)
		buf = append(buf, ':')
		buf = strconv.AppendUint(buf, c.Value, 10)
	}
	return append(buf, '}')
}
