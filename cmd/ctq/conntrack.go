package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/chzyer/readline"

	"ctq/repl/conntrack"
)

// runSubcommand runs the subcommand name (cli.Subcommands) with args; prog
// is how the program was called (argv[0], or "ctq NAME"), for its usage.
func runSubcommand(name, prog string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	switch name {
	case "conntrack":
		return runConntrack(args, stdin, stdout, stderr)
	case "conntrackd":
		return runConntrackd(prog, args, stdout, stderr)
	}
	fmt.Fprintf(stderr, "ctq: unknown subcommand %s\n%s", name, usageHint)
	return 2
}

// runConntrack is ctq's conntrack(8): it runs until done, or for -E until
// SIGINT or SIGTERM.
func runConntrack(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return conntrack.Main(ctx, args, conntrack.Config{
		Stdin:    stdin,
		Stdout:   stdout,
		Stderr:   stderr,
		OpenLive: liveOpener(),
		// A terminal: readline's test, as for standard input.
		StdoutTerminal: isTerminalWriter(stdout),
	})
}

// isTerminalWriter reports whether w is a file open on a terminal.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && readline.IsTerminal(int(f.Fd()))
}
