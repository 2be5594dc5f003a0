package config

import (
	"net/netip"
	"strings"
	"time"

	"ctq/engine"
)

// syslogFacilities are the facility names conntrackd accepts.
var syslogFacilities = map[string]bool{
	"daemon": true, "local0": true, "local1": true, "local2": true, "local3": true,
	"local4": true, "local5": true, "local6": true, "local7": true,
}

// general reads the General section.
func (p *parser) general(opened int) error {
	g := &p.cfg.General
	return p.block("General", opened, func(key token) error {
		var err error
		switch key.text {
		case "HashSize":
			g.HashSize, err = p.numberOr(key, DefaultHashSize)
		case "HashLimit":
			g.HashLimit, err = p.numberOr(key, DefaultHashLimit)
		case "LogFile":
			g.LogFile, err = p.logFile(key)
		case "Syslog":
			g.Syslog, err = p.syslog(key, g.Syslog)
		case "LockFile":
			g.LockFile, err = p.path(key)
		case "MetricsAddress":
			g.MetricsAddress, err = p.addrPort(key)
		case "UNIX":
			err = p.unix(key)
		case "NetlinkBufferSize", "SocketBufferSize":
			g.NetlinkBufferSize, err = p.number(key)
		case "NetlinkBufferSizeMaxGrowth", "SocketBufferSizeMaxGrowth", "SocketBufferSizeMaxGrown":
			g.NetlinkBufferSizeMaxGrowth, err = p.number(key)
		case "NetlinkOverrunResync":
			g.NetlinkOverrunResync, err = p.overrunResync(key)
		case "NetlinkEventsReliable":
			g.NetlinkEventsReliable, err = p.boolean(key)
		case "EventIterationLimit":
			g.EventIterationLimit, err = p.numberOr(key, DefaultEventIterationLimit)
		case "PollSecs":
			g.PollSecs, err = p.number(key)
			if err == nil && g.PollSecs == 0 {
				err = p.errf(key.line, "PollSecs must be > 0")
			}
		case "Nice":
			_, err = p.value(key)
			if err == nil {
				p.warnf(key.line, "Nice is deprecated in conntrackd and ignored")
			}
		case "Systemd":
			// ctq notifies systemd whenever it runs under a Type=notify
			// unit (NOTIFY_SOCKET), whatever this says.
			_, err = p.boolean(key)
		case "Scheduler":
			err = p.scheduler(key)
		case "Filter":
			err = p.filter(key)
		default:
			return p.unknown(key, "General")
		}
		return err
	})
}

// logFile reads LogFile on|off|PATH.
func (p *parser) logFile(key token) (string, error) {
	t, err := p.value(key)
	if err != nil {
		return "", err
	}
	if v, ok := boolWord(t.text); ok {
		if v {
			return DefaultLogFile, nil
		}
		return "", nil
	}
	if t.text[0] != '/' {
		return "", p.errf(t.line, "LogFile: bad value %q: want on, off or an absolute path", t.text)
	}
	return t.text, nil
}

// syslog reads Syslog on|off|FACILITY; an unknown facility keeps cur with a
// warning, as conntrackd does.
func (p *parser) syslog(key token, cur string) (string, error) {
	t, err := p.value(key)
	if err != nil {
		return "", err
	}
	if v, ok := boolWord(t.text); ok {
		if v {
			return "daemon", nil
		}
		return "", nil
	}
	if !syslogFacilities[t.text] {
		p.warnf(t.line, "Syslog: %q is not a known syslog facility, ignored", t.text)
		return cur, nil
	}
	return t.text, nil
}

// overrunResync reads NetlinkOverrunResync on|off|SECONDS.
func (p *parser) overrunResync(key token) (time.Duration, error) {
	t, err := p.value(key)
	if err != nil {
		return 0, err
	}
	if v, ok := boolWord(t.text); ok {
		if v {
			return DefaultNetlinkOverrunResync, nil
		}
		return -1, nil
	}
	p.pos--
	return p.seconds(key, DefaultNetlinkOverrunResync)
}

// unix reads UNIX { Path P  Backlog N }.
func (p *parser) unix(key token) error {
	if err := p.open(key); err != nil {
		return err
	}
	return p.block("UNIX", key.line, func(k token) error {
		switch k.text {
		case "Path":
			path, err := p.path(k)
			if err != nil {
				return err
			}
			if len(path) >= maxUnixPath {
				return p.errf(k.line, "Path is longer than %d characters", maxUnixPath-1)
			}
			p.cfg.General.UnixPath = path
			return nil
		case "Backlog":
			_, err := p.number(k)
			if err == nil {
				p.warnf(k.line, "Backlog is deprecated in conntrackd and ignored")
			}
			return err
		}
		return p.unknown(k, "UNIX")
	})
}

// scheduler reads Scheduler { Type RR|FIFO  Priority N }, checked as
// conntrackd checks it.
func (p *parser) scheduler(key token) error {
	if err := p.open(key); err != nil {
		return err
	}
	sc := &Scheduler{Line: key.line}
	p.cfg.General.Scheduler = sc
	return p.block("Scheduler", key.line, func(k token) error {
		switch k.text {
		case "Type":
			t, err := p.value(k)
			if err != nil {
				return err
			}
			switch {
			case strings.EqualFold(t.text, "rr"):
				sc.Policy = SchedRR
			case strings.EqualFold(t.text, "fifo"):
				sc.Policy = SchedFIFO
			default:
				return p.errf(t.line, "Type: unknown scheduler %q", t.text)
			}
			return nil
		case "Priority":
			n, err := p.number(k)
			if err == nil && n > 99 {
				err = p.errf(k.line, "Priority must be in [0, 99]")
			}
			sc.Priority = n
			return err
		}
		return p.unknown(k, "Scheduler")
	})
}

// filter reads Filter [From Userspace|Kernelspace] { ... }.
func (p *parser) filter(key token) error {
	f := p.cfg.General.Filter
	if f == nil {
		f = &Filter{}
		p.cfg.General.Filter = f
	}
	f.Line = key.line
	f.FromKernel = false
	if t, ok := p.peek(); ok && t.text == "From" {
		p.pos++
		w, err := p.value(t)
		if err != nil {
			return err
		}
		switch w.text {
		case "Userspace":
		case "Kernelspace":
			f.FromKernel = true
		default:
			return p.errf(w.line, "Filter From: bad value %q: want Userspace or Kernelspace", w.text)
		}
	}
	if err := p.open(key); err != nil {
		return err
	}
	return p.block("Filter", key.line, func(k token) error {
		switch k.text {
		case "Protocol":
			ignore, err := p.logic(k)
			if err != nil {
				return err
			}
			if f.Protocol == nil {
				f.Protocol = &ProtoFilter{}
			}
			f.Protocol.Ignore = ignore
			return p.list(k, "Protocol", func(t token) error {
				n, ok := engine.ProtoNum(t.text)
				if !ok {
					p.warnf(t.line, "Protocol: unknown protocol %q, ignored", t.text)
					return nil
				}
				f.Protocol.Protos = append(f.Protocol.Protos, n)
				return nil
			})
		case "Address":
			ignore, err := p.logic(k)
			if err != nil {
				return err
			}
			if f.Address == nil {
				f.Address = &AddrFilter{}
			}
			f.Address.Ignore = ignore
			return p.block("Address", k.line, func(a token) error {
				if a.text != "IPv4_address" && a.text != "IPv6_address" {
					return p.unknown(a, "Address")
				}
				pfx, err := p.prefix(a, a.text == "IPv6_address")
				if err == nil {
					f.Address.Prefixes = append(f.Address.Prefixes, pfx)
				}
				return err
			})
		case "State":
			ignore, err := p.logic(k)
			if err != nil {
				return err
			}
			if f.State == nil {
				f.State = &StateFilter{}
			}
			f.State.Ignore = ignore
			return p.states(k, f.State)
		}
		return p.unknown(k, "Filter")
	})
}

// logic reads Accept|Ignore and the '{' after it; ignore is true for Ignore.
func (p *parser) logic(key token) (ignore bool, err error) {
	t, err := p.value(key)
	if err != nil {
		return false, err
	}
	switch t.text {
	case "Accept":
	case "Ignore":
		ignore = true
	default:
		return false, p.errf(t.line, "%s: bad value %q: want Accept or Ignore", key.text, t.text)
	}
	return ignore, p.open(key)
}

// list reads the words of a list block up to its '}'.
func (p *parser) list(key token, section string, item func(t token) error) error {
	return p.block(section, key.line, item)
}

// prefix reads an address with an optional /N of one family.
func (p *parser) prefix(key token, v6 bool) (netip.Prefix, error) {
	t, err := p.value(key)
	if err != nil {
		return netip.Prefix{}, err
	}
	var pfx netip.Prefix
	if strings.Contains(t.text, "/") {
		pfx, err = netip.ParsePrefix(t.text)
	} else {
		var a netip.Addr
		a, err = netip.ParseAddr(t.text)
		if err == nil {
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
	}
	if err != nil || pfx.Addr().Is6() != v6 || pfx.Addr().Zone() != "" {
		return netip.Prefix{}, p.errf(t.line, "%s: bad value %q: want an address or network", key.text, t.text)
	}
	return pfx.Masked(), nil
}

// states reads { STATE... for TCP ... } of a State filter.
func (p *parser) states(key token, sf *StateFilter) error {
	var pending []int
	err := p.block("State", key.line, func(t token) error {
		if t.text == "for" {
			w, err := p.value(t)
			if err != nil {
				return err
			}
			if w.text != "TCP" {
				return p.errf(w.line, "State: bad value %q after for: want TCP", w.text)
			}
			sf.TCPStates = append(sf.TCPStates, pending...)
			pending = pending[:0]
			return nil
		}
		n, ok := tcpStateNum(t.text)
		if !ok {
			return p.unknown(t, "State")
		}
		pending = append(pending, n)
		return nil
	})
	if err == nil && len(pending) > 0 {
		err = p.errf(key.line, "State: states without \"for TCP\"")
	}
	return err
}

// tcpStateNum maps the TCP state keywords of conntrackd's filter to
// TCP_CONNTRACK_* numbers.
func tcpStateNum(s string) (int, bool) {
	switch s {
	case "CLOSED":
		s = "CLOSE"
	case "NONE", "SYN_SENT2":
		return 0, false
	}
	return engine.StateNum(engine.ProtoTCP, s)
}
