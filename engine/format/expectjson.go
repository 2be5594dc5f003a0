package format

import (
	"ctq/engine"
)

// AppendExpectJSON appends the expectation e as one JSON object (no
// newline). Keys are the language's field names of engine.Expect, in this
// order, each when present:
//
//	family, proto, protonum, src, dst        always
//	sport, dport                             protocols with ports, or when non-zero
//	mask_src, mask_dst                       when the mask is present
//	mask_sport, mask_dport                   as sport and dport, for a present mask
//	master_proto, master_protonum,
//	master_src, master_dst                   when the master tuple is present
//	master_sport, master_dport               as sport and dport, for a present master
//	timeout, id, zone                        numbers
//	helper                                   string
//	class                                    number
//	flags, permanent, inactive, userspace    the NF_CT_EXPECT_* bits and the booleans
//	fn                                       string (the helper's expectfn)
func AppendExpectJSON(buf []byte, e *engine.Expect) []byte {
	ports := engine.HasPorts(e.ProtoNum)
	buf = append(buf, `{"family":`...)
	buf = appendJSONString(buf, e.Family)
	buf = append(buf, `,"proto":`...)
	buf = appendJSONString(buf, e.Proto)
	buf = appendJSONInt(buf, "protonum", e.ProtoNum)
	buf = appendJSONAddr(buf, "src", e.Src)
	buf = appendJSONAddr(buf, "dst", e.Dst)
	buf = appendJSONIntIf(buf, "sport", e.Sport, ports)
	buf = appendJSONIntIf(buf, "dport", e.Dport, ports)
	mask := e.Has&engine.HasExpMask != 0
	if mask {
		buf = appendJSONAddr(buf, "mask_src", e.MaskSrc)
		buf = appendJSONAddr(buf, "mask_dst", e.MaskDst)
	}
	buf = appendJSONIntIf(buf, "mask_sport", e.MaskSport, ports && mask)
	buf = appendJSONIntIf(buf, "mask_dport", e.MaskDport, ports && mask)
	master := e.Has&engine.HasExpMaster != 0
	if master {
		buf = append(buf, `,"master_proto":`...)
		buf = appendJSONString(buf, e.MasterProto)
		buf = appendJSONInt(buf, "master_protonum", e.MasterProtoNum)
		buf = appendJSONAddr(buf, "master_src", e.MasterSrc)
		buf = appendJSONAddr(buf, "master_dst", e.MasterDst)
	}
	masterPorts := master && engine.HasPorts(e.MasterProtoNum)
	buf = appendJSONIntIf(buf, "master_sport", e.MasterSport, masterPorts)
	buf = appendJSONIntIf(buf, "master_dport", e.MasterDport, masterPorts)
	if e.Has&engine.HasExpTimeout != 0 {
		buf = appendJSONInt(buf, "timeout", e.Timeout)
	}
	if e.Has&engine.HasExpID != 0 {
		buf = appendJSONInt(buf, "id", e.ID)
	}
	if e.Has&engine.HasExpZone != 0 {
		buf = appendJSONInt(buf, "zone", e.Zone)
	}
	if e.Has&engine.HasExpHelper != 0 {
		buf = append(buf, `,"helper":`...)
		buf = appendJSONString(buf, e.Helper)
	}
	if e.Has&engine.HasExpClass != 0 {
		buf = appendJSONInt(buf, "class", e.Class)
	}
	if e.Has&engine.HasExpFlags != 0 {
		buf = appendJSONInt(buf, "flags", e.Flags)
		buf = appendJSONBool(buf, "permanent", e.Flags&engine.ExpectPermanent != 0)
		buf = appendJSONBool(buf, "inactive", e.Flags&engine.ExpectInactive != 0)
		buf = appendJSONBool(buf, "userspace", e.Flags&engine.ExpectUserspace != 0)
	}
	if e.Has&engine.HasExpFn != 0 {
		buf = append(buf, `,"fn":`...)
		buf = appendJSONString(buf, e.Fn)
	}
	return append(buf, '}')
}

// appendJSONBool appends ,"key":true or ,"key":false.
func appendJSONBool(buf []byte, key string, v bool) []byte {
	buf = append(buf, ',', '"')
	buf = append(buf, key...)
	buf = append(buf, '"', ':')
	if v {
		return append(buf, "true"...)
	}
	return append(buf, "false"...)
}
