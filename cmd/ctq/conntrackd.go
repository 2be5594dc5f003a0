package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"ctq/sync/conntrackd"
)

// runConntrackd is ctq's conntrackd(8) (package sync/conntrackd), started
// as prog: a daemon until SIGTERM or SIGINT (or -k), or a client.
func runConntrackd(prog string, args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return conntrackd.Main(ctx, args, conntrackd.Env{Prog: prog, Stdout: stdout, Stderr: stderr})
}
