package daemon

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"sync"
	"time"

	"ctq/sync/config"
)

// nodeLog writes a sync node's log lines where its configuration says, as
// conntrackd does: to General { LogFile } ("[date] (pid=N) [level] msg"
// lines) and to syslog with General { Syslog }'s facility; with neither,
// to standard error (the journal, under systemd).
type nodeLog struct {
	mu     sync.Mutex
	file   *os.File
	stderr io.Writer
	sys    *syslog.Writer
	pid    int
}

// syslogFacility maps conntrackd's facility names; daemon for any other.
func syslogFacility(name string) syslog.Priority {
	switch name {
	case "local0":
		return syslog.LOG_LOCAL0
	case "local1":
		return syslog.LOG_LOCAL1
	case "local2":
		return syslog.LOG_LOCAL2
	case "local3":
		return syslog.LOG_LOCAL3
	case "local4":
		return syslog.LOG_LOCAL4
	case "local5":
		return syslog.LOG_LOCAL5
	case "local6":
		return syslog.LOG_LOCAL6
	case "local7":
		return syslog.LOG_LOCAL7
	}
	return syslog.LOG_DAEMON
}

// openLog opens the log of a node of configuration g; stderr is the
// fallback.
func openLog(g *config.General, stderr io.Writer) (*nodeLog, error) {
	l := &nodeLog{pid: os.Getpid()}
	if g.LogFile != "" {
		f, err := os.OpenFile(g.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("log file: %w", err)
		}
		l.file = f
	}
	if g.Syslog != "" {
		// conntrackd's openlog never fails: a node whose syslog cannot be
		// reached (no /dev/log in a container) runs without it, warned.
		w, err := syslog.New(syslogFacility(g.Syslog)|syslog.LOG_NOTICE, "ctq-sync")
		if err != nil {
			fmt.Fprintf(stderr, "ctq: warning: syslog: %v: logging without it\n", err)
		}
		l.sys = w
	}
	if l.file == nil && l.sys == nil {
		l.stderr = stderr
	}
	return l, nil
}

// log writes one line; it is safe for concurrent use.
func (l *nodeLog) log(level slog.Level, msg string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	name := "notice"
	switch {
	case level >= slog.LevelError:
		name = "ERROR"
	case level >= slog.LevelWarn:
		name = "WARNING"
	}
	line := fmt.Sprintf("[%s] (pid=%d) [%s] %s\n", time.Now().Format("Mon Jan _2 15:04:05 2006"), l.pid, name, msg)
	if l.file != nil {
		l.file.WriteString(line)
	}
	if l.stderr != nil {
		fmt.Fprintf(l.stderr, "ctq sync: %s", line)
	}
	if l.sys != nil {
		switch {
		case level >= slog.LevelError:
			l.sys.Err(msg)
		case level >= slog.LevelWarn:
			l.sys.Warning(msg)
		default:
			l.sys.Notice(msg)
		}
	}
}

// close closes the log file and the syslog connection.
func (l *nodeLog) close() error {
	var errs []error
	if l.file != nil {
		errs = append(errs, l.file.Close())
	}
	if l.sys != nil {
		errs = append(errs, l.sys.Close())
	}
	return errors.Join(errs...)
}
