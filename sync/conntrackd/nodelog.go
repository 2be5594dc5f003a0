package conntrackd

import (
	"fmt"
	"log/syslog"
	"os"
	"sync"
)

// nodeLog is the General log of a statistics-mode node: conntrackd's
// lines in General { LogFile }, and on the console in console mode.
type nodeLog struct {
	mu   sync.Mutex
	con  *console // nil in daemon mode
	file *os.File
}

// openNodeLog opens path ("" for none) for appending.
func openNodeLog(path string, con *console) (*nodeLog, error) {
	l := &nodeLog{con: con}
	if path != "" {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("can't open logfile `%s'.Reason: %w", path, err)
		}
		l.file = f
	}
	return l, nil
}

// log writes one line.
func (l *nodeLog) log(level Level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.con != nil {
		l.con.log(level, msg)
	}
	if l.file != nil {
		l.file.WriteString(logLine(l.con.clock(), os.Getpid(), level, msg))
	}
}

// close closes the file.
func (l *nodeLog) close() {
	if l.file != nil {
		l.file.Close()
	}
}

// syslogFacility maps conntrackd's facility names; daemon for any other.
func syslogFacility(name string) syslog.Priority {
	fac := map[string]syslog.Priority{"local0": syslog.LOG_LOCAL0, "local1": syslog.LOG_LOCAL1,
		"local2": syslog.LOG_LOCAL2, "local3": syslog.LOG_LOCAL3, "local4": syslog.LOG_LOCAL4,
		"local5": syslog.LOG_LOCAL5, "local6": syslog.LOG_LOCAL6, "local7": syslog.LOG_LOCAL7}
	if p, ok := fac[name]; ok {
		return p
	}
	return syslog.LOG_DAEMON
}
