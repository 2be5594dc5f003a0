package control

// conntrackd's request codes: its client sends one as a native-endian
// 32-bit integer, then reads text until the daemon closes the socket
// (Client.Conntrackd). Each has its C name (conntrackd's
// include/conntrackd.h) and the option that sends it.
const (
	CodeFlushMaster     = 0  // FLUSH_MASTER: -F ct
	CodeResyncMaster    = 1  // RESYNC_MASTER: -R ct
	CodeDumpInternal    = 16 // DUMP_INTERNAL: -i
	CodeDumpExternal    = 17 // DUMP_EXTERNAL: -e
	CodeCommit          = 18 // COMMIT: -c ct
	CodeFlushCache      = 19 // FLUSH_CACHE: -f of older clients
	CodeKill            = 20 // KILL: -k
	CodeStats           = 21 // STATS: -s
	CodeSendBulk        = 22 // SEND_BULK: -B
	CodeRequestDump     = 23 // REQUEST_DUMP: -n
	CodeDumpIntXML      = 24 // DUMP_INT_XML: -i -x
	CodeDumpExtXML      = 25 // DUMP_EXT_XML: -e -x
	CodeResetTimers     = 26 // RESET_TIMERS: -t
	CodeStatsNetwork    = 28 // STATS_NETWORK: -s network
	CodeStatsCache      = 29 // STATS_CACHE: -s cache
	CodeStatsRuntime    = 30 // STATS_RUNTIME: -s runtime
	CodeStatsLink       = 31 // STATS_LINK: -s link
	CodeStatsRsqueue    = 32 // STATS_RSQUEUE: -s rsqueue
	CodeFlushIntCache   = 33 // FLUSH_INT_CACHE: -f internal
	CodeFlushExtCache   = 34 // FLUSH_EXT_CACHE: -f external
	CodeStatsProcess    = 35 // STATS_PROCESS: -s process
	CodeStatsQueue      = 36 // STATS_QUEUE: -s queue
	CodeExpStats        = 37 // EXP_STATS: -s expect
	CodeExpFlushMaster  = 38 // EXP_FLUSH_MASTER: -F expect
	CodeExpResyncMaster = 39 // EXP_RESYNC_MASTER: -R expect
	CodeExpDumpInternal = 40 // EXP_DUMP_INTERNAL: -i expect
	CodeExpDumpExternal = 41 // EXP_DUMP_EXTERNAL: -e expect
	CodeExpCommit       = 42 // EXP_COMMIT: -c expect
	CodeAllFlushMaster  = 43 // ALL_FLUSH_MASTER: -F
	CodeAllResyncMaster = 44 // ALL_RESYNC_MASTER: -R
	CodeAllFlushCache   = 45 // ALL_FLUSH_CACHE: -f
	CodeAllCommit       = 46 // ALL_COMMIT: -c
	CodeExpDumpIntXML   = 47 // EXP_DUMP_INT_XML: -i expect -x
	CodeExpDumpExtXML   = 48 // EXP_DUMP_EXT_XML: -e expect -x
)
