package format

import (
	"strconv"

	"ctq/engine"
)

// expectCSVColumns is the fixed column set of the csv format for
// expectations: the keys of AppendExpectJSON, in its order.
var expectCSVColumns = []csvColumn[engine.Expect]{
	{"family", func(b []byte, e *engine.Expect, _ map[int]string) []byte { return append(b, e.Family...) }},
	{"proto", func(b []byte, e *engine.Expect, _ map[int]string) []byte { return append(b, e.Proto...) }},
	{"protonum", func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		return strconv.AppendInt(b, int64(e.ProtoNum), 10)
	}},
	{"src", func(b []byte, e *engine.Expect, _ map[int]string) []byte { return appendValidAddr(b, e.Src) }},
	{"dst", func(b []byte, e *engine.Expect, _ map[int]string) []byte { return appendValidAddr(b, e.Dst) }},
	{"sport", expectPortCell(func(e *engine.Expect) int { return e.Sport }, 0)},
	{"dport", expectPortCell(func(e *engine.Expect) int { return e.Dport }, 0)},
	{"mask_src", func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		if e.Has&engine.HasExpMask == 0 {
			return b
		}
		return appendValidAddr(b, e.MaskSrc)
	}},
	{"mask_dst", func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		if e.Has&engine.HasExpMask == 0 {
			return b
		}
		return appendValidAddr(b, e.MaskDst)
	}},
	{"mask_sport", expectPortCell(func(e *engine.Expect) int { return e.MaskSport }, engine.HasExpMask)},
	{"mask_dport", expectPortCell(func(e *engine.Expect) int { return e.MaskDport }, engine.HasExpMask)},
	{"master_proto", func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		if e.Has&engine.HasExpMaster == 0 {
			return b
		}
		return append(b, e.MasterProto...)
	}},
	{"master_protonum", expectOptCell(func(e *engine.Expect) int { return e.MasterProtoNum }, engine.HasExpMaster)},
	{"master_src", func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		if e.Has&engine.HasExpMaster == 0 {
			return b
		}
		return appendValidAddr(b, e.MasterSrc)
	}},
	{"master_dst", func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		if e.Has&engine.HasExpMaster == 0 {
			return b
		}
		return appendValidAddr(b, e.MasterDst)
	}},
	{"master_sport", expectMasterPortCell(func(e *engine.Expect) int { return e.MasterSport })},
	{"master_dport", expectMasterPortCell(func(e *engine.Expect) int { return e.MasterDport })},
	{"timeout", expectOptCell(func(e *engine.Expect) int { return e.Timeout }, engine.HasExpTimeout)},
	{"id", expectOptCell(func(e *engine.Expect) int { return e.ID }, engine.HasExpID)},
	{"zone", expectOptCell(func(e *engine.Expect) int { return e.Zone }, engine.HasExpZone)},
	{"helper", func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		if e.Has&engine.HasExpHelper == 0 {
			return b
		}
		return append(b, e.Helper...)
	}},
	{"class", expectOptCell(func(e *engine.Expect) int { return e.Class }, engine.HasExpClass)},
	{"flags", expectOptCell(func(e *engine.Expect) int { return e.Flags }, engine.HasExpFlags)},
	{"permanent", expectFlagCell(engine.ExpectPermanent)},
	{"inactive", expectFlagCell(engine.ExpectInactive)},
	{"userspace", expectFlagCell(engine.ExpectUserspace)},
	{"fn", func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		if e.Has&engine.HasExpFn == 0 {
			return b
		}
		return append(b, e.Fn...)
	}},
}

// expectPortCell renders a port of the expected tuple (or, with bit
// HasExpMask, of the mask) for protocols that have ports.
func expectPortCell(get func(*engine.Expect) int, bit engine.ExpectAttr) func([]byte, *engine.Expect, map[int]string) []byte {
	return func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		if !engine.HasPorts(e.ProtoNum) || e.Has&bit != bit {
			return b
		}
		return strconv.AppendInt(b, int64(get(e)), 10)
	}
}

// expectMasterPortCell renders a port of a present master tuple whose
// protocol has ports.
func expectMasterPortCell(get func(*engine.Expect) int) func([]byte, *engine.Expect, map[int]string) []byte {
	return func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		if !engine.HasPorts(e.MasterProtoNum) || e.Has&engine.HasExpMaster == 0 {
			return b
		}
		return strconv.AppendInt(b, int64(get(e)), 10)
	}
}

// expectOptCell renders an optional number, present when its Has bit is
// set.
func expectOptCell(get func(*engine.Expect) int, bit engine.ExpectAttr) func([]byte, *engine.Expect, map[int]string) []byte {
	return func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		if e.Has&bit == 0 {
			return b
		}
		return strconv.AppendInt(b, int64(get(e)), 10)
	}
}

// expectFlagCell renders one flag bit as true or false, when the flags are
// present.
func expectFlagCell(bit int) func([]byte, *engine.Expect, map[int]string) []byte {
	return func(b []byte, e *engine.Expect, _ map[int]string) []byte {
		if e.Has&engine.HasExpFlags == 0 {
			return b
		}
		return strconv.AppendBool(b, e.Flags&bit != 0)
	}
}

// AppendExpectCSVHeader appends the csv header row of expectations (no
// newline): the keys of AppendExpectJSON.
func AppendExpectCSVHeader(buf []byte) []byte {
	return appendCSVHeader(buf, expectCSVColumns)
}

// AppendExpectCSV appends e as one csv row (no newline), in the columns of
// AppendExpectCSVHeader; a cell is empty when its attribute is absent.
// scratch is a reusable buffer for the cells and is returned for reuse.
func AppendExpectCSV(buf, scratch []byte, e *engine.Expect) ([]byte, []byte) {
	return appendCSVRow(buf, scratch, expectCSVColumns, e, nil)
}

// expectTableColumns are the columns of the table format for
// expectations. An absent value prints as "-".
var expectTableColumns = []tableColumn[engine.Expect]{
	{"PROTO", false, func(b []byte, e *engine.Expect) []byte { return append(b, e.Proto...) }},
	{"SRC", false, func(b []byte, e *engine.Expect) []byte { return appendEndpoint(b, e.ProtoNum, e.Src, e.Sport) }},
	{"DST", false, func(b []byte, e *engine.Expect) []byte { return appendEndpoint(b, e.ProtoNum, e.Dst, e.Dport) }},
	{"MASK-SRC", false, func(b []byte, e *engine.Expect) []byte {
		if e.Has&engine.HasExpMask == 0 {
			return b
		}
		return appendEndpoint(b, e.ProtoNum, e.MaskSrc, e.MaskSport)
	}},
	{"MASK-DST", false, func(b []byte, e *engine.Expect) []byte {
		if e.Has&engine.HasExpMask == 0 {
			return b
		}
		return appendEndpoint(b, e.ProtoNum, e.MaskDst, e.MaskDport)
	}},
	{"MASTER-SRC", false, func(b []byte, e *engine.Expect) []byte {
		if e.Has&engine.HasExpMaster == 0 {
			return b
		}
		return appendEndpoint(b, e.MasterProtoNum, e.MasterSrc, e.MasterSport)
	}},
	{"MASTER-DST", false, func(b []byte, e *engine.Expect) []byte {
		if e.Has&engine.HasExpMaster == 0 {
			return b
		}
		return appendEndpoint(b, e.MasterProtoNum, e.MasterDst, e.MasterDport)
	}},
	{"TIMEOUT", true, expectTableNum(func(e *engine.Expect) int { return e.Timeout }, engine.HasExpTimeout)},
	{"ZONE", true, expectTableNum(func(e *engine.Expect) int { return e.Zone }, engine.HasExpZone)},
	{"CLASS", true, expectTableNum(func(e *engine.Expect) int { return e.Class }, engine.HasExpClass)},
	{"HELPER", false, func(b []byte, e *engine.Expect) []byte {
		if e.Has&engine.HasExpHelper == 0 {
			return b
		}
		return append(b, e.Helper...)
	}},
	{"FLAGS", false, func(b []byte, e *engine.Expect) []byte {
		start := len(b)
		for _, fl := range expectFlags {
			if expectFlagBits(e)&fl.bit == 0 {
				continue
			}
			if len(b) > start {
				b = append(b, ',')
			}
			b = append(b, fl.name...)
		}
		return b
	}},
}

func expectTableNum(get func(*engine.Expect) int, bit engine.ExpectAttr) func([]byte, *engine.Expect) []byte {
	return func(b []byte, e *engine.Expect) []byte {
		if e.Has&bit == 0 {
			return b
		}
		return strconv.AppendInt(b, int64(get(e)), 10)
	}
}
