package main

import (
	"context"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"ctq/sync/conntrackd"
)

// conntrackdMain runs conntrackd's front end (package sync/conntrackd)
// when ctq is started under the name conntrackd (a link) or as `ctq
// conntrackd ARGS...`: ok reports whether it ran, code is the exit code.
func conntrackdMain(argv []string) (ok bool, code int) {
	prog, args := "conntrackd", argv[1:]
	switch {
	case filepath.Base(argv[0]) == "conntrackd":
		prog = argv[0]
	case len(argv) > 1 && argv[1] == "conntrackd":
		prog, args = "ctq conntrackd", argv[2:]
	default:
		return false, 0
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	return true, conntrackd.Main(ctx, args, conntrackd.Env{Prog: prog, Stdout: os.Stdout, Stderr: os.Stderr})
}
