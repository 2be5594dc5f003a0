package repl

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

// syncLog writes a sync node's log lines where its configuration says, as
// conntrackd does: to General { LogFile } ("[date] (pid=N) [level] msg"
// lines) and to syslog with General { Syslog }'s facility; with neither,
// to standard error (the journal, under systemd).
type syncLog struct {
	mu     sync.Mutex
	file   *os.File
	stderr io.Writer
	sys    *syslog.Writer
	pid    int
}

// syslogFacility maps conntrackd's facility names.
var syslogFacility = map[string]syslog.Priority{
	"daemon": syslog.LOG_DAEMON, "local0": syslog.LOG_LOCAL0, "local1": syslog.LOG_LOCAL1,
	"local2": syslog.LOG_LOCAL2, "local3": syslog.LOG_LOCAL3, "local4": syslog.LOG_LOCAL4,
	"local5": syslog.LOG_LOCAL5, "local6": syslog.LOG_LOCAL6, "local7": syslog.LOG_LOCAL7,
}

// openSyncLog opens the log of a node of configuration g; stderr is the
// fallback.
func openSyncLog(g *config.General, stderr io.Writer) (*syncLog, error) {
	l := &syncLog{pid: os.Getpid()}
	if g.LogFile != "" {
		f, err := os.OpenFile(g.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
		if err != nil {
			return nil, fmt.Errorf("log file: %w", err)
		}
		l.file = f
	}
	if g.Syslog != "" {
		fac, ok := syslogFacility[g.Syslog]
		if !ok {
			fac = syslog.LOG_DAEMON
		}
		w, err := syslog.New(fac|syslog.LOG_NOTICE, "ctq-sync")
		if err != nil {
			l.close()
			return nil, fmt.Errorf("syslog: %w", err)
		}
		l.sys = w
	}
	if l.file == nil && l.sys == nil {
		l.stderr = stderr
	}
	return l, nil
}

// log writes one line; it is safe for concurrent use.
func (l *syncLog) log(level slog.Level, msg string) {
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
func (l *syncLog) close() error {
	var errs []error
	if l.file != nil {
		errs = append(errs, l.file.Close())
	}
	if l.sys != nil {
		errs = append(errs, l.sys.Close())
	}
	return errors.Join(errs...)
}
