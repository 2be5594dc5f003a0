package config

import (
	"net/netip"
	"time"
)

// Defaults of conntrackd 1.4.7 (init_config in src/read_config_yy.y).
const (
	DefaultHashSize             = 65536
	DefaultHashLimit            = 262144
	DefaultResendQueueSize      = 131072
	DefaultACKWindowSize        = 300
	DefaultEventIterationLimit  = 100
	DefaultErrorQueueLength     = 128
	DefaultRefreshTime          = 60 * time.Second
	DefaultCacheTimeout         = 180 * time.Second
	DefaultPurgeTimeout         = 60 * time.Second
	DefaultNetlinkOverrunResync = 30 * time.Second
	DefaultLockFile             = "/var/lock/conntrack.lock" // DEFAULT_LOCKFILE
	DefaultLogFile              = "/var/log/conntrackd.log"  // DEFAULT_LOGFILE, for "LogFile on"
	MaxLinks                    = 4                          // MULTICHANNEL_MAX
	maxUnixPath                 = 108                        // UNIX_PATH_MAX
	maxNumber                   = 1<<31 - 1                  // conntrackd reads numbers with atoi
)

// Config is a parsed conntrackd.conf.
type Config struct {
	// File is the name given to Parse, used in messages.
	File string
	// HasSync is true when the file has a Sync section.
	HasSync bool
	// StatsLine is the line of the Stats section (conntrackd's
	// statistics mode, which ctq does not run); 0 when there is none.
	StatsLine int
	// Stats is the Stats section's settings.
	Stats   Stats
	Sync    Sync
	General General
	// Warnings lists what was accepted but is ignored or questionable,
	// in file order.
	Warnings []Warning
}

// Warning is a note about one line of the file.
type Warning struct {
	File string
	Line int
	Msg  string
}

// String formats the warning as FILE:LINE: message.
func (w Warning) String() string {
	return posString(w.File, w.Line) + w.Msg
}

// Mode is a sync mode.
type Mode int

// Sync modes.
const (
	ModeFTFW    Mode = iota // Mode FTFW (also NACK): reliable, ACK windows and resends
	ModeNOTRACK             // Mode NOTRACK: best effort
	ModeALARM               // Mode ALARM (also PERSISTENT): periodic refresh
)

// String is the mode's keyword.
func (m Mode) String() string {
	switch m {
	case ModeFTFW:
		return "FTFW"
	case ModeNOTRACK:
		return "NOTRACK"
	case ModeALARM:
		return "ALARM"
	}
	return "unknown"
}

// Sync is the Sync section.
type Sync struct {
	// Mode is the sync mode; FTFW when the file names none.
	Mode Mode
	// ModeLine is the line of the Mode block, 0 when absent.
	ModeLine int

	ResendQueueSize      int  // FTFW ResendQueueSize
	ACKWindowSize        int  // FTFW ACKWindowSize
	DisableExternalCache bool // FTFW, NOTRACK
	DisableInternalCache bool // NOTRACK
	StartupResync        bool // FTFW, NOTRACK
	// CommitTimeout is the timeout of committed entries; 0 means unset
	// (the timeout received from the peer is used).
	CommitTimeout time.Duration
	PurgeTimeout  time.Duration // -t delay
	RefreshTime   time.Duration // ALARM
	CacheTimeout  time.Duration // ALARM external-cache expiry

	// Links are the dedicated links in file order, all of one Transport.
	Links []Link
	// ErrorQueueLength is the TCP error queue length (global in conntrackd).
	ErrorQueueLength int

	// Options section.
	TCPWindowTracking bool
	ExpectationSync   bool
	// ExpectationHelpers restricts expectation sync to these helpers
	// (ExpectationSync { ftp sip }); empty means all.
	ExpectationHelpers []string
}

// Transport is the protocol of a dedicated link.
type Transport int

// Transports.
const (
	TransportUDP       Transport = iota // UDP {...}
	TransportMulticast                  // Multicast {...}
	TransportTCP                        // TCP {...}
)

// String is the transport's section keyword.
func (t Transport) String() string {
	switch t {
	case TransportUDP:
		return "UDP"
	case TransportMulticast:
		return "Multicast"
	case TransportTCP:
		return "TCP"
	}
	return "unknown"
}

// Link is one dedicated link (a UDP, Multicast or TCP block).
type Link struct {
	Transport Transport
	// Default marks the link used first ("UDP Default {").
	Default bool
	// Line is the line of the block.
	Line int

	// Address is IPv4_address or IPv6_address: the local address (UDP,
	// TCP) or the multicast group (Multicast).
	Address netip.Addr
	// Destination is IPv4_Destination_Address or IPv6_Destination_Address
	// (UDP, TCP).
	Destination netip.Addr
	// InterfaceAddr is IPv4_interface (Multicast): the local address whose
	// interface joins the group.
	InterfaceAddr netip.Addr
	// Interface is the interface name.
	Interface string
	// Port is Port (UDP, TCP) or Group (Multicast): the UDP/TCP port.
	Port int
	// SndSocketBuffer and RcvSocketBuffer are socket buffer sizes, 0 for
	// the system default.
	SndSocketBuffer int
	RcvSocketBuffer int
	// Checksum is false with "Checksum off" (no UDP checksum).
	Checksum bool
	// AuthKey is ctq's AuthKey (hex, at least MinAuthKey bytes; UDP and
	// Multicast only; conntrackd has no such key): when set, every
	// datagram carries an HMAC trailer keyed by it (see link.Auth; the
	// MAC covers the block's place among the links, so both nodes list
	// their links in the same order). Nil means no authentication, as
	// conntrackd does.
	AuthKey []byte
	// AuthKeyLine is the line of AuthKey, 0 without one.
	AuthKeyLine int
}

// General is the General section.
type General struct {
	HashSize  int
	HashLimit int
	// LogFile is the log path, "" when off.
	LogFile string
	// Syslog is the syslog facility name ("daemon", "local0" ...), "" when
	// off.
	Syslog   string
	LockFile string
	// UnixPath is UNIX { Path }, the control socket; "" when absent.
	UnixPath                   string
	NetlinkBufferSize          int
	NetlinkBufferSizeMaxGrowth int
	// NetlinkOverrunResync is the delay of the kernel re-dump after an
	// event overrun; negative when off.
	NetlinkOverrunResync  time.Duration
	NetlinkEventsReliable bool
	EventIterationLimit   int
	// PollSecs is PollSecs: with it (> 0) the node reads the kernel table
	// every PollSecs seconds instead of following its events; 0 when
	// unset.
	PollSecs int
	// Filter is the Filter block; nil when absent.
	Filter *Filter
	// Scheduler is the Scheduler block; nil when absent.
	Scheduler *Scheduler
	// MetricsAddress is ctq's MetricsAddress (not conntrackd's): the IP
	// address and port where the node serves Prometheus metrics on
	// /metrics; "" when off.
	MetricsAddress string
}

// Scheduler is General { Scheduler { Type RR|FIFO  Priority N } }: the
// real-time scheduling the node runs with (Policy SchedOther when the
// block names no Type, as conntrackd then keeps the default policy).
type Scheduler struct {
	Line     int
	Policy   SchedPolicy
	Priority int
}

// SchedPolicy is a Linux scheduling policy.
type SchedPolicy int

// Scheduling policies (SCHED_* of sched.h).
const (
	SchedOther SchedPolicy = 0 // SCHED_OTHER
	SchedFIFO  SchedPolicy = 1 // SCHED_FIFO
	SchedRR    SchedPolicy = 2 // SCHED_RR
)

// Filter is General { Filter {...} }.
type Filter struct {
	Line int
	// FromKernel is "Filter From Kernelspace"; false for Userspace or no
	// From.
	FromKernel bool
	// Protocol, Address and State are nil when the block has no such item.
	Protocol *ProtoFilter
	Address  *AddrFilter
	State    *StateFilter
}

// ProtoFilter is Protocol Accept|Ignore { names }.
type ProtoFilter struct {
	Ignore bool
	Protos []int // IP protocol numbers
}

// AddrFilter is Address Accept|Ignore { IPv4_address A[/N] ... }; a
// single address is a full-length prefix.
type AddrFilter struct {
	Ignore   bool
	Prefixes []netip.Prefix
}

// StateFilter is State Accept|Ignore { STATES for TCP }.
type StateFilter struct {
	Ignore    bool
	TCPStates []int // TCP_CONNTRACK_* numbers
}

// defaults returns a Config holding conntrackd's defaults.
func defaults(file string) *Config {
	return &Config{
		File: file,
		Sync: Sync{
			Mode:             ModeFTFW,
			ResendQueueSize:  DefaultResendQueueSize,
			ACKWindowSize:    DefaultACKWindowSize,
			PurgeTimeout:     DefaultPurgeTimeout,
			RefreshTime:      DefaultRefreshTime,
			CacheTimeout:     DefaultCacheTimeout,
			ErrorQueueLength: DefaultErrorQueueLength,
		},
		General: General{
			HashSize:             DefaultHashSize,
			HashLimit:            DefaultHashLimit,
			LockFile:             DefaultLockFile,
			NetlinkOverrunResync: DefaultNetlinkOverrunResync,
			EventIterationLimit:  DefaultEventIterationLimit,
		},
	}
}
