//go:build linux

package ctnetlink

// Kernel constants of ctnetlink, mirrored from the UAPI headers
// linux/netfilter/nfnetlink.h and linux/netfilter/nfnetlink_conntrack.h.
// Attribute payloads are big-endian unless a comment says otherwise.

// netlinkNetfilter is the netlink protocol of nfnetlink (NETLINK_NETFILTER
// in linux/netlink.h), spelled out so the codec builds on every system.
const netlinkNetfilter = 12

// nfnetlink framing.
const (
	nfnlSubsysCTNetlink    = 1 // NFNL_SUBSYS_CTNETLINK
	nfnlSubsysCTNetlinkExp = 2 // NFNL_SUBSYS_CTNETLINK_EXP
	nfnetlinkV0            = 0 // NFNETLINK_V0
	// nfnetlinkV1 marks a conntrack flush whose nfgen_family must be
	// honoured (kernel 5.3+; version 0 flushes every family).
	nfnetlinkV1 = 1
	nfgenmsgLen = 4 // sizeof(struct nfgenmsg): family, version, res_id
)

// enum cntl_msg_types.
const (
	ipctnlMsgCtNew            = 0 // IPCTNL_MSG_CT_NEW
	ipctnlMsgCtGet            = 1 // IPCTNL_MSG_CT_GET
	ipctnlMsgCtDelete         = 2 // IPCTNL_MSG_CT_DELETE
	ipctnlMsgCtGetCtrZero     = 3 // IPCTNL_MSG_CT_GET_CTRZERO
	ipctnlMsgCtGetStatsCPU    = 4 // IPCTNL_MSG_CT_GET_STATS_CPU
	ipctnlMsgCtGetStats       = 5 // IPCTNL_MSG_CT_GET_STATS
	ipctnlMsgCtGetDying       = 6 // IPCTNL_MSG_CT_GET_DYING
	ipctnlMsgCtGetUnconfirmed = 7 // IPCTNL_MSG_CT_GET_UNCONFIRMED
)

// enum ctnl_exp_msg_types.
const (
	ipctnlMsgExpNew    = 0 // IPCTNL_MSG_EXP_NEW
	ipctnlMsgExpGet    = 1 // IPCTNL_MSG_EXP_GET
	ipctnlMsgExpDelete = 2 // IPCTNL_MSG_EXP_DELETE
)

// Netlink attribute header flags and the type mask (linux/netlink.h).
const (
	nlaFNested  = 0x8000 // NLA_F_NESTED
	nlaTypeMask = 0x3fff // NLA_TYPE_MASK (drops NLA_F_NESTED, NLA_F_NET_BYTEORDER)
	nlaHdrLen   = 4      // NLA_HDRLEN
)

// enum ctattr_type: top-level attributes of a conntrack message.
const (
	ctaTupleOrig      = 1  // CTA_TUPLE_ORIG (nested, enum ctattr_tuple)
	ctaTupleReply     = 2  // CTA_TUPLE_REPLY (nested, enum ctattr_tuple)
	ctaStatus         = 3  // CTA_STATUS (u32)
	ctaProtoinfo      = 4  // CTA_PROTOINFO (nested, enum ctattr_protoinfo)
	ctaHelp           = 5  // CTA_HELP (nested, enum ctattr_help)
	ctaNatSrc         = 6  // CTA_NAT_SRC (nested; CTA_NAT is the same number)
	ctaTimeout        = 7  // CTA_TIMEOUT (u32, seconds)
	ctaMark           = 8  // CTA_MARK (u32)
	ctaCountersOrig   = 9  // CTA_COUNTERS_ORIG (nested, enum ctattr_counters)
	ctaCountersReply  = 10 // CTA_COUNTERS_REPLY (nested, enum ctattr_counters)
	ctaUse            = 11 // CTA_USE (u32)
	ctaID             = 12 // CTA_ID (u32)
	ctaNatDst         = 13 // CTA_NAT_DST (nested)
	ctaTupleMaster    = 14 // CTA_TUPLE_MASTER (nested, enum ctattr_tuple)
	ctaSeqAdjOrig     = 15 // CTA_SEQ_ADJ_ORIG (CTA_NAT_SEQ_ADJ_ORIG)
	ctaSeqAdjReply    = 16 // CTA_SEQ_ADJ_REPLY (CTA_NAT_SEQ_ADJ_REPLY)
	ctaSecmark        = 17 // CTA_SECMARK (u32, obsolete)
	ctaZone           = 18 // CTA_ZONE (u16)
	ctaSecctx         = 19 // CTA_SECCTX (nested, enum ctattr_secctx)
	ctaTimestamp      = 20 // CTA_TIMESTAMP (nested, enum ctattr_tstamp)
	ctaMarkMask       = 21 // CTA_MARK_MASK (u32)
	ctaLabels         = 22 // CTA_LABELS (binary, host-order u32 words)
	ctaLabelsMask     = 23 // CTA_LABELS_MASK (binary)
	ctaSynproxy       = 24 // CTA_SYNPROXY (nested)
	ctaFilter         = 25 // CTA_FILTER (nested, enum ctattr_filter)
	ctaStatusMask     = 26 // CTA_STATUS_MASK (u32)
	ctaTimestampEvent = 27 // CTA_TIMESTAMP_EVENT (u64)
)

// enum ctattr_tuple.
const (
	ctaTupleIP    = 1 // CTA_TUPLE_IP (nested, enum ctattr_ip)
	ctaTupleProto = 2 // CTA_TUPLE_PROTO (nested, enum ctattr_l4proto)
	ctaTupleZone  = 3 // CTA_TUPLE_ZONE (u16)
)

// enum ctattr_ip.
const (
	ctaIPv4Src = 1 // CTA_IP_V4_SRC (4 bytes)
	ctaIPv4Dst = 2 // CTA_IP_V4_DST (4 bytes)
	ctaIPv6Src = 3 // CTA_IP_V6_SRC (16 bytes)
	ctaIPv6Dst = 4 // CTA_IP_V6_DST (16 bytes)
)

// enum ctattr_l4proto.
const (
	ctaProtoNum        = 1 // CTA_PROTO_NUM (u8)
	ctaProtoSrcPort    = 2 // CTA_PROTO_SRC_PORT (u16; GRE: source key)
	ctaProtoDstPort    = 3 // CTA_PROTO_DST_PORT (u16; GRE: destination key)
	ctaProtoICMPID     = 4 // CTA_PROTO_ICMP_ID (u16)
	ctaProtoICMPType   = 5 // CTA_PROTO_ICMP_TYPE (u8)
	ctaProtoICMPCode   = 6 // CTA_PROTO_ICMP_CODE (u8)
	ctaProtoICMPv6ID   = 7 // CTA_PROTO_ICMPV6_ID (u16)
	ctaProtoICMPv6Type = 8 // CTA_PROTO_ICMPV6_TYPE (u8)
	ctaProtoICMPv6Code = 9 // CTA_PROTO_ICMPV6_CODE (u8)
)

// enum ctattr_protoinfo.
const (
	ctaProtoinfoTCP  = 1 // CTA_PROTOINFO_TCP (nested)
	ctaProtoinfoDCCP = 2 // CTA_PROTOINFO_DCCP (nested)
	ctaProtoinfoSCTP = 3 // CTA_PROTOINFO_SCTP (nested)
)

// enum ctattr_protoinfo_tcp, enum ctattr_protoinfo_dccp and enum
// ctattr_protoinfo_sctp (only the attributes ctq reads or sends).
const (
	ctaProtoinfoTCPState         = 1 // CTA_PROTOINFO_TCP_STATE (u8)
	ctaProtoinfoTCPFlagsOriginal = 4 // CTA_PROTOINFO_TCP_FLAGS_ORIGINAL (struct nf_ct_tcp_flags)
	ctaProtoinfoTCPFlagsReply    = 5 // CTA_PROTOINFO_TCP_FLAGS_REPLY (struct nf_ct_tcp_flags)
	ctaProtoinfoDCCPState        = 1 // CTA_PROTOINFO_DCCP_STATE (u8)
	ctaProtoinfoDCCPRole         = 2 // CTA_PROTOINFO_DCCP_ROLE (u8)
	ctaProtoinfoSCTPState        = 1 // CTA_PROTOINFO_SCTP_STATE (u8)
	ctaProtoinfoSCTPVtagOriginal = 2 // CTA_PROTOINFO_SCTP_VTAG_ORIGINAL (u32; see decode.go)
	ctaProtoinfoSCTPVtagReply    = 3 // CTA_PROTOINFO_SCTP_VTAG_REPLY (u32; see decode.go)
)

// TCP window tracking flags (IP_CT_TCP_FLAG_*), sent in the flags and
// mask bytes of struct nf_ct_tcp_flags.
const (
	ipCTTCPFlagSackPerm  = 0x02 // IP_CT_TCP_FLAG_SACK_PERM
	ipCTTCPFlagCloseInit = 0x04 // IP_CT_TCP_FLAG_CLOSE_INIT
	ipCTTCPFlagBeLiberal = 0x08 // IP_CT_TCP_FLAG_BE_LIBERAL
)

// enum ctattr_help.
const (
	ctaHelpName = 1 // CTA_HELP_NAME (NUL-terminated string)
)

// enum ctattr_secctx.
const (
	ctaSecctxName = 1 // CTA_SECCTX_NAME (NUL-terminated string)
)

// enum ctattr_counters.
const (
	ctaCountersPackets   = 1 // CTA_COUNTERS_PACKETS (u64)
	ctaCountersBytes     = 2 // CTA_COUNTERS_BYTES (u64)
	ctaCounters32Packets = 3 // CTA_COUNTERS32_PACKETS (u32, old kernels)
	ctaCounters32Bytes   = 4 // CTA_COUNTERS32_BYTES (u32, old kernels)
)

// enum ctattr_tstamp.
const (
	ctaTimestampStart = 1 // CTA_TIMESTAMP_START (u64, ns since the epoch)
	ctaTimestampStop  = 2 // CTA_TIMESTAMP_STOP (u64, ns since the epoch)
)

// enum ctattr_filter. Unlike every other ctnetlink attribute, the flag
// words are NLA_U32 in host byte order; their bits are the TupleFields.
const (
	ctaFilterOrigFlags  = 1 // CTA_FILTER_ORIG_FLAGS (u32, host order)
	ctaFilterReplyFlags = 2 // CTA_FILTER_REPLY_FLAGS (u32, host order)
)

// enum ctattr_stats_global.
const (
	ctaStatsGlobalEntries = 1 // CTA_STATS_GLOBAL_ENTRIES (u32)
)

// enum ctattr_expect: top-level attributes of an expectation message.
const (
	ctaExpectMaster   = 1  // CTA_EXPECT_MASTER (nested, enum ctattr_tuple)
	ctaExpectTuple    = 2  // CTA_EXPECT_TUPLE (nested, enum ctattr_tuple)
	ctaExpectMask     = 3  // CTA_EXPECT_MASK (nested, enum ctattr_tuple)
	ctaExpectTimeout  = 4  // CTA_EXPECT_TIMEOUT (u32, seconds)
	ctaExpectID       = 5  // CTA_EXPECT_ID (u32)
	ctaExpectHelpName = 6  // CTA_EXPECT_HELP_NAME (NUL-terminated string)
	ctaExpectZone     = 7  // CTA_EXPECT_ZONE (u16)
	ctaExpectFlags    = 8  // CTA_EXPECT_FLAGS (u32)
	ctaExpectClass    = 9  // CTA_EXPECT_CLASS (u32)
	ctaExpectNAT      = 10 // CTA_EXPECT_NAT (nested, enum ctattr_expect_nat)
	ctaExpectFn       = 11 // CTA_EXPECT_FN (NUL-terminated string)
)

// Attributes of the CTA_EXPECT_NAT nest (enum ctattr_expect_nat).
const (
	ctaExpectNATDir   = 1 // CTA_EXPECT_NAT_DIR (u32)
	ctaExpectNATTuple = 2 // CTA_EXPECT_NAT_TUPLE (nested, enum ctattr_tuple)
)
