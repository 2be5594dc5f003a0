package config

import (
	"encoding/hex"
	"strings"
)

// sync reads the Sync section.
func (p *parser) sync(opened int) error {
	s := &p.cfg.Sync
	return p.block("Sync", opened, func(key token) error {
		switch key.text {
		case "Mode":
			return p.mode(key)
		case "UDP", "Multicast", "TCP":
			return p.link(key)
		case "Options":
			return p.options(key)
		case "RefreshTime", "CacheTimeout", "CommitTimeout", "PurgeTimeout":
			return p.timer(key, s)
		}
		return p.unknown(key, "Sync")
	})
}

// timer reads one of the timers conntrackd accepts in Sync and in Mode
// blocks.
func (p *parser) timer(key token, s *Sync) error {
	var err error
	switch key.text {
	case "RefreshTime":
		s.RefreshTime, err = p.seconds(key, DefaultRefreshTime)
	case "CacheTimeout":
		s.CacheTimeout, err = p.seconds(key, DefaultCacheTimeout)
	case "CommitTimeout":
		s.CommitTimeout, err = p.seconds(key, 0)
	case "PurgeTimeout":
		s.PurgeTimeout, err = p.seconds(key, DefaultPurgeTimeout)
	}
	return err
}

// mode reads Mode FTFW|NOTRACK|ALARM { ... }.
func (p *parser) mode(key token) error {
	s := &p.cfg.Sync
	t, err := p.value(key)
	if err != nil {
		return err
	}
	var m Mode
	switch strings.ToLower(t.text) {
	case "ftfw":
		m = ModeFTFW
	case "nack":
		m = ModeFTFW
		p.warnf(t.line, "mode NACK is now called FTFW")
	case "notrack":
		m = ModeNOTRACK
	case "alarm":
		m = ModeALARM
	case "persistent":
		m = ModeALARM
		p.warnf(t.line, "mode PERSISTENT is now called ALARM")
	default:
		return p.errf(t.line, "Mode: bad value %q: want FTFW, NOTRACK or ALARM", t.text)
	}
	if s.ModeLine != 0 {
		return p.errf(key.line, "Mode given twice (first at line %d)", s.ModeLine)
	}
	s.Mode, s.ModeLine = m, key.line
	if err := p.open(key); err != nil {
		return err
	}
	section := "Mode " + m.String()
	return p.block(section, key.line, func(k token) error {
		var err error
		switch {
		case k.text == "CommitTimeout" || k.text == "PurgeTimeout",
			m == ModeALARM && (k.text == "RefreshTime" || k.text == "CacheTimeout"):
			err = p.timer(k, s)
		case m == ModeFTFW && k.text == "ResendQueueSize":
			s.ResendQueueSize, err = p.numberOr(k, DefaultResendQueueSize)
		case m == ModeFTFW && k.text == "ACKWindowSize":
			s.ACKWindowSize, err = p.numberOr(k, DefaultACKWindowSize)
		case m != ModeALARM && k.text == "DisableExternalCache":
			s.DisableExternalCache, err = p.boolean(k)
		case m == ModeNOTRACK && k.text == "DisableInternalCache":
			s.DisableInternalCache, err = p.boolean(k)
		case m != ModeALARM && k.text == "StartupResync":
			s.StartupResync, err = p.boolean(k)
		default:
			return p.unknown(k, section)
		}
		return err
	})
}

// options reads Options { TCPWindowTracking on|off  ExpectationSync ... }.
func (p *parser) options(key token) error {
	s := &p.cfg.Sync
	if err := p.open(key); err != nil {
		return err
	}
	return p.block("Options", key.line, func(k token) error {
		switch k.text {
		case "TCPWindowTracking":
			v, err := p.boolean(k)
			s.TCPWindowTracking = v
			return err
		case "ExpectationSync":
			if t, ok := p.peek(); ok && t.text == "{" {
				p.pos++
				s.ExpectationSync = true
				return p.list(k, "ExpectationSync", func(h token) error {
					if !isName(h.text) {
						return p.errf(h.line, "ExpectationSync: bad helper name %q", h.text)
					}
					s.ExpectationHelpers = append(s.ExpectationHelpers, h.text)
					return nil
				})
			}
			v, err := p.boolean(k)
			s.ExpectationSync = v
			if !v {
				s.ExpectationHelpers = nil
			}
			return err
		}
		return p.unknown(k, "Options")
	})
}

// isName reports whether s has the form of conntrackd's string token:
// a letter, then letters, digits, '.', '-' or '_'.
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c|0x20 >= 'a' && c|0x20 <= 'z'
		switch {
		case letter:
		case i > 0 && (c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// link reads a UDP, Multicast or TCP block.
func (p *parser) link(key token) error {
	s := &p.cfg.Sync
	l := Link{Line: key.line, Checksum: true}
	switch key.text {
	case "UDP":
		l.Transport = TransportUDP
	case "Multicast":
		l.Transport = TransportMulticast
	case "TCP":
		l.Transport = TransportTCP
	}
	if t, ok := p.peek(); ok && t.text == "Default" {
		p.pos++
		l.Default = true
	}
	if len(s.Links) > 0 && s.Links[0].Transport != l.Transport {
		return p.errf(key.line, "cannot use %s with other dedicated link protocols (%s at line %d)",
			key.text, s.Links[0].Transport, s.Links[0].Line)
	}
	if len(s.Links) >= MaxLinks {
		return p.errf(key.line, "too many dedicated links (maximum %d)", MaxLinks)
	}
	if err := p.open(key); err != nil {
		return err
	}
	mcast := l.Transport == TransportMulticast
	err := p.block(key.text, key.line, func(k token) error {
		var err error
		switch {
		case k.text == "IPv4_address" || k.text == "IPv6_address":
			l.Address, err = p.addr(k, k.text == "IPv6_address")
			if err == nil && mcast && !l.Address.IsMulticast() {
				err = p.errf(k.line, "%s: %s is not a multicast address", k.text, l.Address)
			}
		case !mcast && (k.text == "IPv4_Destination_Address" || k.text == "IPv6_Destination_Address"):
			l.Destination, err = p.addr(k, k.text == "IPv6_Destination_Address")
		case mcast && k.text == "IPv4_interface":
			l.InterfaceAddr, err = p.addr(k, false)
		case mcast && k.text == "IPv6_interface":
			_, err = p.addr(k, true)
			if err == nil {
				p.warnf(k.line, "IPv6_interface is not required, ignored")
			}
		case k.text == "Interface":
			var t token
			t, err = p.value(k)
			if err == nil && (!isName(t.text) || len(t.text) > 15) {
				err = p.errf(t.line, "Interface: bad interface name %q", t.text)
			}
			l.Interface = t.text
		case !mcast && k.text == "Port", mcast && k.text == "Group":
			l.Port, err = p.number(k)
			if err == nil && l.Port > 65535 {
				err = p.errf(k.line, "%s: %d is not a port number", k.text, l.Port)
			}
		case k.text == "SndSocketBuffer":
			l.SndSocketBuffer, err = p.number(k)
		case k.text == "RcvSocketBuffer":
			l.RcvSocketBuffer, err = p.number(k)
		case k.text == "Checksum":
			l.Checksum, err = p.boolean(k)
		case k.text == "AuthKey":
			err = p.authKey(k, &l)
		case l.Transport == TransportTCP && k.text == "ErrorQueueLength":
			s.ErrorQueueLength, err = p.numberOr(k, DefaultErrorQueueLength)
		default:
			return p.unknown(k, key.text)
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := p.checkLink(&l); err != nil {
		return err
	}
	s.Links = append(s.Links, l)
	return nil
}

// checkLink demands what a link cannot work without.
func (p *parser) checkLink(l *Link) error {
	name := l.Transport.String()
	if !l.Address.IsValid() {
		return p.errf(l.Line, "%s: missing IPv4_address or IPv6_address", name)
	}
	if l.Port == 0 {
		if l.Transport == TransportMulticast {
			return p.errf(l.Line, "%s: missing Group", name)
		}
		return p.errf(l.Line, "%s: missing Port", name)
	}
	switch l.Transport {
	case TransportMulticast:
		if l.Address.Is4() && !l.InterfaceAddr.IsValid() {
			return p.errf(l.Line, "%s: missing IPv4_interface", name)
		}
	default:
		if !l.Destination.IsValid() {
			return p.errf(l.Line, "%s: missing IPv4_Destination_Address or IPv6_Destination_Address", name)
		}
		if l.Destination.Is4() != l.Address.Is4() {
			return p.errf(l.Line, "%s: local and destination addresses of different families", name)
		}
	}
	return nil
}

// MinAuthKey is the shortest AuthKey, in bytes (the link package refuses
// shorter keys too).
const MinAuthKey = 16

// authKey reads ctq's AuthKey: the shared key of a UDP or Multicast link's
// datagram authentication, in hex (conntrackd would refuse the key: only
// for links between ctq nodes).
func (p *parser) authKey(key token, l *Link) error {
	t, err := p.value(key)
	if err != nil {
		return err
	}
	if l.Transport == TransportTCP {
		// A TCP link's receiver cuts its stream at message boundaries,
		// which a trailer would break.
		return p.errf(key.line, "AuthKey: only UDP and Multicast links can be authenticated")
	}
	if l.AuthKeyLine != 0 {
		return p.errf(key.line, "AuthKey given twice (first at line %d)", l.AuthKeyLine)
	}
	b, err := hex.DecodeString(t.text)
	if err != nil {
		return p.errf(t.line, "AuthKey: bad value: want hex digits")
	}
	if len(b) < MinAuthKey {
		return p.errf(t.line, "AuthKey: a key of %d bytes: want at least %d (%d hex digits)",
			len(b), MinAuthKey, 2*MinAuthKey)
	}
	l.AuthKey, l.AuthKeyLine = b, key.line
	return nil
}
