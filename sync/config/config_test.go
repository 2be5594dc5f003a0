package config

import (
	"errors"
	"net/netip"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// pairConf is the conntrackd.conf written by tools/conntrackd-pair.sh (side a,
// UDP).
const pairConf = `Sync {
	Mode FTFW {
		ResendQueueSize 131072
		ACKWindowSize 300
	}
	UDP Default {
		IPv4_address 192.0.2.1
		IPv4_Destination_Address 192.0.2.2
		Port 3780
		Interface ctqa
		Checksum on
	}
}
General {
	HashSize 65536
	HashLimit 262144
	LogFile /tmp/pair/a.log
	Syslog off
	LockFile /tmp/pair/a.lock
	UNIX {
		Path /tmp/pair/a.sock
	}
	NetlinkBufferSize 33554432
	NetlinkBufferSizeMaxGrowth 268435456
}
`

// recipeMcastConf is the multicast variant of the reference's recipe.
const recipeMcastConf = `Sync {
	Mode FTFW {
		ResendQueueSize 131072
		ACKWindowSize 300
		DisableExternalCache off
	}
	Multicast Default {
		IPv4_address 225.0.0.50
		Group 3780
		IPv4_interface 192.0.2.1
		Interface sa0
		SndSocketBuffer 1249280
		RcvSocketBuffer 1249280
		Checksum on
	}
}
General {
	HashSize 65536
	HashLimit 262144
	LogFile /r/a.log
	Syslog off
	LockFile /r/a.lock
	UNIX {
		Path /r/a.sock
	}
	NetlinkBufferSize 33554432
	NetlinkBufferSizeMaxGrowth 268435456
}
`

// fullConf uses every key of the sections ctq implements.
const fullConf = `# every key
Sync {
	Mode NOTRACK {
		DisableInternalCache on
		DisableExternalCache yes
		StartupResync On
		CommitTimeout 1800
		PurgeTimeout 5
	}
	TCP {
		IPv6_address 2001:db8::1
		IPv6_Destination_Address 2001:db8::2
		Port 3781
		Interface eth9
		SndSocketBuffer 1000
		RcvSocketBuffer 2000
		Checksum off
		ErrorQueueLength 64
	}
	TCP Default { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }
	Options {
		TCPWindowTracking on
		ExpectationSync {
			ftp
			sip
		}
	}
}
General {
	HashSize 0
	HashLimit 1000
	LogFile on
	Syslog local3
	LockFile /run/ctd.lock
	UNIX { Path /run/ctd.sock Backlog 20 }
	SocketBufferSize 4096
	SocketBufferSizeMaxGrown 8192
	NetlinkOverrunResync off
	NetlinkEventsReliable on
	EventIterationLimit 50
	PollSecs 10
	Nice -1
	Systemd on
	Scheduler {
		Type FIFO
		Priority 99
	}
	Filter From Kernelspace {
		Protocol Ignore { UDP ICMP ipv6-icmp foo }
		Address Accept {
			IPv4_address 192.0.2.7 # one host
			IPv4_address 198.51.100.9/24
			IPv6_address 2001:db8::/32
		}
		State Accept {
			ESTABLISHED CLOSED TIME_WAIT CLOSE_WAIT for TCP
			LISTEN for TCP
		}
	}
}
Helper {
	Type ftp inet tcp {
		QueueNum 5
		Policy ftp { ExpectMax 1 ExpectTimeout 300 }
	}
}
`

func TestParseGood(t *testing.T) {
	pairWant := defaults("pair.conf")
	pairWant.HasSync = true
	pairWant.Sync.ModeLine = 2
	pairWant.Sync.Links = []Link{{
		Transport: TransportUDP, Default: true, Line: 6,
		Address:     netip.MustParseAddr("192.0.2.1"),
		Destination: netip.MustParseAddr("192.0.2.2"),
		Interface:   "ctqa", Port: 3780, Checksum: true,
	}}
	g := &pairWant.General
	g.LogFile, g.LockFile, g.UnixPath = "/tmp/pair/a.log", "/tmp/pair/a.lock", "/tmp/pair/a.sock"
	g.NetlinkBufferSize, g.NetlinkBufferSizeMaxGrowth = 33554432, 268435456

	mcastWant := defaults("mcast.conf")
	mcastWant.HasSync = true
	mcastWant.Sync.ModeLine = 2
	mcastWant.Sync.Links = []Link{{
		Transport: TransportMulticast, Default: true, Line: 7,
		Address:       netip.MustParseAddr("225.0.0.50"),
		InterfaceAddr: netip.MustParseAddr("192.0.2.1"),
		Interface:     "sa0", Port: 3780, Checksum: true,
		SndSocketBuffer: 1249280, RcvSocketBuffer: 1249280,
	}}
	g = &mcastWant.General
	g.LogFile, g.LockFile, g.UnixPath = "/r/a.log", "/r/a.lock", "/r/a.sock"
	g.NetlinkBufferSize, g.NetlinkBufferSizeMaxGrowth = 33554432, 268435456

	empty := defaults("empty.conf")

	fullWant := defaults("full.conf")
	fullWant.HasSync = true
	s := &fullWant.Sync
	s.Mode, s.ModeLine = ModeNOTRACK, 3
	s.DisableInternalCache, s.DisableExternalCache, s.StartupResync = true, true, true
	s.CommitTimeout, s.PurgeTimeout = 1800*time.Second, 5*time.Second
	s.ErrorQueueLength = 64
	s.TCPWindowTracking, s.ExpectationSync = true, true
	s.ExpectationHelpers = []string{"ftp", "sip"}
	s.Links = []Link{{
		Transport: TransportTCP, Line: 10,
		Address:     netip.MustParseAddr("2001:db8::1"),
		Destination: netip.MustParseAddr("2001:db8::2"),
		Interface:   "eth9", Port: 3781, SndSocketBuffer: 1000, RcvSocketBuffer: 2000,
	}, {
		Transport: TransportTCP, Default: true, Line: 20,
		Address:     netip.MustParseAddr("192.0.2.1"),
		Destination: netip.MustParseAddr("192.0.2.2"),
		Port:        3780, Checksum: true,
	}}
	g = &fullWant.General
	g.HashLimit, g.LogFile, g.Syslog = 1000, DefaultLogFile, "local3"
	g.LockFile, g.UnixPath = "/run/ctd.lock", "/run/ctd.sock"
	g.NetlinkBufferSize, g.NetlinkBufferSizeMaxGrowth = 4096, 8192
	g.NetlinkOverrunResync, g.NetlinkEventsReliable = -1, true
	g.EventIterationLimit, g.PollSecs = 50, 10
	g.Scheduler = &Scheduler{Line: 44, Policy: SchedFIFO, Priority: 99}
	g.Filter = &Filter{
		Line: 48, FromKernel: true,
		Protocol: &ProtoFilter{Ignore: true, Protos: []int{17, 1, 58}},
		Address: &AddrFilter{Prefixes: []netip.Prefix{
			netip.MustParsePrefix("192.0.2.7/32"),
			netip.MustParsePrefix("198.51.100.0/24"),
			netip.MustParsePrefix("2001:db8::/32"),
		}},
		State: &StateFilter{TCPStates: []int{3, 8, 7, 5, 9}},
	}
	// A statistics-mode file: its Stats section is noted, not warned about
	// (sync run says what to use instead).
	stats := defaults("stats.conf")
	stats.StatsLine = 2
	stats.Stats = Stats{LogFile: DefaultStatsLogFile, Syslog: "local2"}

	tests := []struct {
		name, text string
		want       *Config
		warnLines  []int
	}{
		{"pair.conf", pairConf, pairWant, nil},
		{"mcast.conf", recipeMcastConf, mcastWant, nil},
		{"empty.conf", "# nothing\n\n", empty, nil},
		{"stats.conf", "# statistics mode\nStats {\n\tLogFile on\n\tSyslog local2\n\tNetlinkEventsReliable on\n}\n", stats, []int{5}},
		{"full.conf", fullConf, fullWant, []int{35, 42, 49, 61}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.name, []byte(tt.text))
			if err != nil {
				t.Fatal(err)
			}
			var lines []int
			for _, w := range got.Warnings {
				lines = append(lines, w.Line)
				if !strings.HasPrefix(w.String(), tt.name+":") {
					t.Errorf("warning %q lacks the file name", w)
				}
			}
			if !reflect.DeepEqual(lines, tt.warnLines) {
				t.Errorf("warning lines %v, want %v (%v)", lines, tt.warnLines, got.Warnings)
			}
			got.Warnings = nil
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got\n%+v\n%+v\nwant\n%+v\n%+v", got.Sync, got.General, tt.want.Sync, tt.want.General)
			}
		})
	}
}

func TestParseModes(t *testing.T) {
	tests := []struct {
		text string
		want Mode
		warn bool
	}{
		{"Sync { Mode ftfw { } }", ModeFTFW, false},
		{"Sync { Mode Nack { } }", ModeFTFW, true},
		{"Sync { Mode NoTrack { } }", ModeNOTRACK, false},
		{"Sync { Mode alarm { RefreshTime 5 CacheTimeout 9 } }", ModeALARM, false},
		{"Sync { Mode PERSISTENT { } }", ModeALARM, true},
		{"Sync { }", ModeFTFW, false},
	}
	for _, tt := range tests {
		c, err := Parse("m.conf", []byte(tt.text))
		if err != nil {
			t.Errorf("%s: %v", tt.text, err)
			continue
		}
		if c.Sync.Mode != tt.want || (len(c.Warnings) > 0) != tt.warn {
			t.Errorf("%s: mode %v warnings %v, want %v warn %v", tt.text, c.Sync.Mode, c.Warnings, tt.want, tt.warn)
		}
	}
	c, err := Parse("m.conf", []byte("Sync { Mode ALARM { RefreshTime 5 CacheTimeout 9 } }"))
	if err != nil || c.Sync.RefreshTime != 5*time.Second || c.Sync.CacheTimeout != 9*time.Second {
		t.Errorf("ALARM timers: %+v %v", c, err)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ text, want string }{
		{"General {\n  HashSiz 5\n}", `x.conf:2: unknown key "HashSiz" in section General`},
		{"Sync {\n UDP {\n  Prot 3780\n }\n}", `x.conf:3: unknown key "Prot" in section UDP`},
		{"Sync { Mode FTFW {\n DisableInternalCache on } }", `x.conf:2: unknown key "DisableInternalCache" in section Mode FTFW`},
		{"Sync { Mode ALARM {\n ACKWindowSize 3 } }", `x.conf:2: unknown key "ACKWindowSize" in section Mode ALARM`},
		{"Sync { Multicast {\n Port 3 } }", `x.conf:2: unknown key "Port" in section Multicast`},
		{"Sync { UDP {\n Group 3 } }", `x.conf:2: unknown key "Group" in section UDP`},
		{"Sync { UDP {\n ErrorQueueLength 3 } }", `x.conf:2: unknown key "ErrorQueueLength" in section UDP`},
		{"Synk {}", `x.conf:1: unknown key "Synk" in section top level`},
		{"General {\n HashSize big\n}", `x.conf:2: HashSize: bad value "big": want a non-negative integer`},
		{"General {\n HashSize 99999999999\n}", `x.conf:2: HashSize: value 99999999999 out of range (0..2147483647)`},
		{"General {\n HashSize\n}", `x.conf:2: HashSize: missing value`},
		{"General {\n LockFile rel/path\n}", `x.conf:2: LockFile: bad value "rel/path": want an absolute path`},
		{"General {\n MetricsAddress :9101\n}", `x.conf:2: MetricsAddress: bad value ":9101": want an IP address and port (127.0.0.1:9101, [::1]:9101)`},
		{"General {\n MetricsAddress localhost:9101\n}", `x.conf:2: MetricsAddress: bad value "localhost:9101": want an IP address and port (127.0.0.1:9101, [::1]:9101)`},
		{"General {\n NetlinkEventsReliable maybe }", `x.conf:2: NetlinkEventsReliable: bad value "maybe": want on or off`},
		{"General {\n UNIX {\n Path /x\n", `x.conf:2: section UNIX: missing '}'`},
		{"General {\n Filter {\n Protocol Maybe { TCP } } }", `x.conf:3: Protocol: bad value "Maybe": want Accept or Ignore`},
		{"General { Filter {\n State Accept { ESTABLISHED } } }", `x.conf:2: State: states without "for TCP"`},
		{"General { Filter { State Accept {\n BOGUS for TCP } } }", `x.conf:2: unknown key "BOGUS" in section State`},
		{"General { Filter { Address Ignore {\n IPv4_address 2001:db8::1 } } }", `x.conf:2: IPv4_address: bad value "2001:db8::1": want an address or network`},
		{"General { Scheduler {\n Priority 100 } }", `x.conf:2: Priority must be in [0, 99]`},
		{"General {\n PollSecs 0 }", `x.conf:2: PollSecs must be > 0`},
		{"Sync {\n Mode FAST { } }", `x.conf:2: Mode: bad value "FAST": want FTFW, NOTRACK or ALARM`},
		{"Sync { Mode FTFW { }\n Mode NOTRACK { } }", `x.conf:2: Mode given twice (first at line 1)`},
		{"Sync { UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 1 }\n TCP { } }",
			`x.conf:2: cannot use TCP with other dedicated link protocols (UDP at line 1)`},
		{"Sync {\n UDP { IPv4_address 192.0.2.1 Port 1 } }", `x.conf:2: UDP: missing IPv4_Destination_Address or IPv6_Destination_Address`},
		{"Sync {\n UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 } }", `x.conf:2: UDP: missing Port`},
		{"Sync {\n UDP { IPv4_address 192.0.2.1 IPv6_Destination_Address 2001:db8::2 Port 1 } }",
			`x.conf:2: UDP: local and destination addresses of different families`},
		{"Sync {\n Multicast { IPv4_address 192.0.2.1 } }", `x.conf:2: IPv4_address: 192.0.2.1 is not a multicast address`},
		{"Sync {\n Multicast { IPv4_address 225.0.0.50 Group 3780 } }", `x.conf:2: Multicast: missing IPv4_interface`},
		{"Sync { UDP {\n Port 70000 } }", `x.conf:2: Port: 70000 is not a port number`},
		{"Sync { UDP {\n Interface a/b } }", `x.conf:2: Interface: bad interface name "a/b"`},
		{"Sync { UDP {\n IPv4_address 192.0.2.300 } }", `x.conf:2: IPv4_address: bad value "192.0.2.300": want an IPv4 address`},
		{"Sync { Options {\n ExpectationSync { 9x } } }", `x.conf:2: ExpectationSync: bad helper name "9x"`},
		{"Sync {\n}\nStats {\n}", `x.conf:3: cannot use both Stats and Sync sections`},
		{"}", `x.conf:1: unexpected "}" at top level`},
		{"Sync\n Mode", `x.conf:2: Sync: want '{', found "Mode"`},
		{"General {\n {", `x.conf:2: unexpected '{' in section General`},
	}
	for _, tt := range tests {
		_, err := Parse("x.conf", []byte(tt.text))
		var cerr *Error
		if !errors.As(err, &cerr) || err.Error() != tt.want {
			t.Errorf("%q:\n got %v\nwant %s", tt.text, err, tt.want)
		}
	}
}

func TestParseLinksLimit(t *testing.T) {
	one := "UDP { IPv4_address 192.0.2.1 IPv4_Destination_Address 192.0.2.2 Port 3780 }\n"
	text := "Sync {\n" + strings.Repeat(one, MaxLinks+1) + "}"
	_, err := Parse("x.conf", []byte(text))
	if err == nil || err.Error() != "x.conf:6: too many dedicated links (maximum 4)" {
		t.Errorf("got %v", err)
	}
}

// TestParseInstalledExamples parses the example files of the conntrackd
// package, which hold every section and most keys.
func TestParseInstalledExamples(t *testing.T) {
	files, err := filepath.Glob("/usr/share/doc/conntrackd/examples/*/*/conntrackd.conf")
	if err != nil || len(files) == 0 {
		t.Fatalf("no conntrackd example configs (is conntrackd installed?): %v", err)
	}
	modes := map[Mode]bool{}
	for _, f := range files {
		c, err := ParseFile(f)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		modes[c.Sync.Mode] = true
		if len(c.Sync.Links) != 1 || c.General.UnixPath == "" {
			t.Errorf("%s: links %v unix %q", f, c.Sync.Links, c.General.UnixPath)
		}
	}
	if len(modes) != 3 {
		t.Errorf("modes seen %v, want all three", modes)
	}
	if _, err := ParseFile("/nonexistent/conntrackd.conf"); err == nil {
		t.Error("missing file: no error")
	}
}

func TestParseMetricsAddress(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:9101", "[::1]:9101", "0.0.0.0:0"} {
		c, err := Parse("x.conf", []byte("General {\n MetricsAddress "+addr+"\n}\nSync { Mode NOTRACK {}\n UDP Default { IPv4_address 192.0.2.1\n IPv4_Destination_Address 192.0.2.2\n Port 3780\n Interface eth0 } }\n"))
		if err != nil || c.General.MetricsAddress != addr {
			t.Errorf("MetricsAddress %s: got %q, %v", addr, c.General.MetricsAddress, err)
		}
	}
}
