package config

// DefaultStatsLogFile is conntrackd's flow log for Stats { LogFile on }
// (DEFAULT_STATS_LOGFILE).
const DefaultStatsLogFile = "/var/log/conntrackd-stats.log"

// Stats is the Stats section: conntrackd's statistics mode, which logs
// every flow that ends.
type Stats struct {
	// LogFile is the flow log, "" for none.
	LogFile string
	// Syslog is the flow log's syslog facility, "" for none.
	Syslog string
}

// stats reads the Stats section. Its other keys (NetlinkBufferSize,
// NetlinkEventsReliable, ...) are accepted with a warning.
func (p *parser) stats(opened int) error {
	s := &p.cfg.Stats
	return p.block("Stats", opened, func(key token) error {
		var err error
		switch key.text {
		case "LogFile":
			s.LogFile, err = p.logFile(key)
			if s.LogFile == DefaultLogFile {
				s.LogFile = DefaultStatsLogFile
			}
		case "Syslog":
			s.Syslog, err = p.syslog(key, s.Syslog)
		default:
			if _, err = p.value(key); err == nil {
				p.warnf(key.line, "Stats: %s is not implemented by ctq, ignored", key.text)
			}
		}
		return err
	})
}
