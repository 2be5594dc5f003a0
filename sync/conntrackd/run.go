package conntrackd

import (
	"context"
	"fmt"
	"os"

	"ctq/sync/config"
	"ctq/sync/daemon"
)

// conntrackd's log lines at start and stop.
const (
	consoleLine  = "-- starting in console mode --"
	daemonLine   = "-- starting in daemon mode --"
	shutdownLine = "---- shutdown received ----"
)

// node is a running node: a sync node (sync/daemon) or a statistics-mode
// one.
type node interface {
	Done() <-chan struct{}
	Stop() error
}

// run runs the node of cfg until ctx ends or a client stops it; as the
// background child (bg) it tells the parent when the node is ready.
func run(ctx context.Context, con *console, cfg *config.Config, bg bool) int {
	var ready *os.File
	if bg {
		ready = childReady()
	}
	n, stopped, err := startNode(ctx, con, cfg, bg)
	if err != nil {
		// conntrackd's log is open by then: the reason goes to its
		// LogFile too (with -d, conntrackd writes it there only).
		appendLog(cfg.General.LogFile, logLine(con.clock(), os.Getpid(), LevelError, err.Error()))
		if ready != nil {
			fmt.Fprintf(ready, "%v\n", err)
			ready.Close()
		}
		con.log(LevelError, err.Error())
		return 1
	}
	if ready != nil {
		fmt.Fprintln(ready, readyWord)
		ready.Close()
		os.Chdir("/") // conntrackd's do_chdir: a failure is only a warning
	} else {
		con.log(LevelNotice, consoleLine)
	}
	<-n.Done()
	err = n.Stop()
	if stopped != nil {
		stopped()
	}
	if err != nil {
		con.log(LevelError, err.Error())
		return 1
	}
	if ready == nil {
		con.log(LevelNotice, shutdownLine)
	}
	return 0
}

// startNode starts the node of cfg, a sync node or, for a Stats section,
// a statistics-mode one; stopped, if not nil, is called once it stopped.
func startNode(ctx context.Context, con *console, cfg *config.Config, bg bool) (n node, stopped func(), err error) {
	start, logCon := consoleLine, con
	if bg {
		start, logCon = daemonLine, nil
	}
	if !cfg.HasSync {
		log, err := openNodeLog(cfg.General.LogFile, logCon)
		if err != nil {
			return nil, nil, err
		}
		s, err := startStats(ctx, cfg, log)
		if err != nil {
			log.close()
			return nil, nil, err
		}
		if log.file != nil {
			log.file.WriteString(logLine(con.clock(), os.Getpid(), LevelNotice, start))
		}
		if nt := daemon.SystemdNotifier(); nt != nil {
			nt.Notify("READY=1") // conntrackd's sd_ct_init
		}
		return s, func() {
			if log.file != nil {
				log.file.WriteString(logLine(con.clock(), os.Getpid(), LevelNotice, shutdownLine))
			}
			log.close()
		}, nil
	}
	dc := daemon.Config{Config: cfg, Stderr: con.stderr, Notify: daemon.SystemdNotifier(),
		StartLine: start, StopLine: shutdownLine}
	if bg {
		dc.Stderr = nil
	}
	d, err := daemon.Start(ctx, dc)
	if err != nil {
		return nil, nil, err
	}
	return d, nil, nil
}

// appendLog appends line to the log file path, if any, as well as it can
// (the log may be what failed).
func appendLog(path, line string) {
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Close()
}
