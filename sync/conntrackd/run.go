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

// run runs the node of cfg until ctx ends or a client stops it; as the
// background child (bg) it tells the parent when the node is ready.
func run(ctx context.Context, con *console, cfg *config.Config, bg bool) int {
	dc := daemon.Config{Config: cfg, Stderr: con.stderr, Notify: daemon.SystemdNotifier(),
		StartLine: consoleLine, StopLine: shutdownLine}
	var ready *os.File
	if bg {
		ready = childReady()
		dc.StartLine, dc.Stderr = daemonLine, nil
	}
	n, err := daemon.Start(ctx, dc)
	if err != nil {
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
	if err := n.Stop(); err != nil {
		con.log(LevelError, err.Error())
		return 1
	}
	return 0
}
