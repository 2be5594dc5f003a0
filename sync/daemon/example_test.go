package daemon_test

import (
	"context"
	"log"
	"os"
	"os/signal"
	"syscall"

	"ctq/sync/daemon"
)

// Run a conntrackd-compatible sync node from an unchanged conntrackd.conf
// until SIGTERM, telling systemd when it is ready (Type=notify): what
// `ctq -e 'sync run "/etc/conntrackd/conntrackd.conf"'` does. Clients
// (`ctq -e 'sync commit'`, `conntrackd -c`) reach it over the
// configuration's control socket.
func ExampleRun() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err := daemon.Run(ctx, daemon.Config{
		ConfigPath: "/etc/conntrackd/conntrackd.conf",
		Stderr:     os.Stderr,
		Notify:     daemon.SystemdNotifier(),
	})
	if err != nil {
		log.Fatal(err)
	}
}
