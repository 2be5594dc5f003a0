// Command ctq is a query shell for the Linux connection-tracking tables.
//
//	ctq -e 'count where proto == tcp'        one-liners (repeatable)
//	ctq script.ctq                           a script file
//	echo 'list where dport == 22' | ctq      statements from standard input
//	ctq --from table.save -e 'count'         a saved table, no root needed
//	ctq                                      the interactive shell
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"ctq/engine"
	"ctq/internal/cli"
	"ctq/repl"
)

func main() {
	if _, ok := cli.LookupSubcommand(filepath.Base(os.Args[0])); ok {
		// ctq started as conntrack or conntrackd (a link of that name).
		os.Exit(runSubcommand(filepath.Base(os.Args[0]), os.Args[0], os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		if _, ok := cli.LookupSubcommand(args[0]); ok {
			return runSubcommand(args[0], "ctq "+args[0], args[1:], stdin, stdout, stderr)
		}
	}
	opts, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "ctq: %v\n%s", err, usageHint)
		return repl.ExitUsage
	}
	switch {
	case opts.help:
		fmt.Fprint(stdout, usage())
		return repl.ExitOK
	case opts.version:
		fmt.Fprintln(stdout, "ctq", versionString())
		return repl.ExitOK
	}
	if opts.format != "" {
		if err := repl.CheckFormat(opts.format); err != nil {
			fmt.Fprintf(stderr, "ctq: %v\n%s", err, usageHint)
			return repl.ExitUsage
		}
	}

	// The shell handles Ctrl-C itself (it cancels one statement); everywhere
	// else SIGINT ends the run.
	shell := len(opts.exprs) == 0 && opts.script == "" && opts.from != "-" && repl.CanRunShell(stdin, stdout, stderr)
	sigs := []os.Signal{syscall.SIGTERM}
	if !shell {
		sigs = append(sigs, os.Interrupt)
	}
	ctx, stop := signal.NotifyContext(context.Background(), sigs...)
	defer stop()

	sess := repl.NewSession(repl.Config{
		Stdout:    stdout,
		Stderr:    stderr,
		Format:    opts.format,
		From:      opts.from,
		NetNS:     opts.netns,
		OpenLive:  liveOpener(),
		FailEmpty: opts.failEmpty,
	})
	defer sess.Close()

	err = runInputs(ctx, sess, opts, stdin, stdout, stderr)
	var exit *repl.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintf(stderr, "ctq: %v%s\n", err, hint(err))
	}
	return repl.ExitCode(err)
}

// runInputs runs what the command line names: the -e statements, a script
// file, or standard input (a script when piped, the shell on a terminal).
func runInputs(ctx context.Context, sess *repl.Session, opts *options, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(opts.exprs) > 0 {
		// All -e statements form one script: none runs unless all compile.
		text := ""
		for _, e := range opts.exprs {
			text += e + "\n"
		}
		return sess.Run(ctx, "", text)
	}
	if opts.script != "" {
		b, err := os.ReadFile(opts.script)
		if err != nil {
			return &repl.UsageError{Msg: fmt.Sprintf("read script: %v", err)}
		}
		return sess.Run(ctx, opts.script, string(b))
	}
	if opts.from == "-" {
		return &repl.UsageError{Msg: "--from - reads the table from standard input: give the statements with -e or a script file"}
	}
	if repl.CanRunShell(stdin, stdout, stderr) {
		return repl.Interactive(ctx, sess, stdin.(*os.File), stderr)
	}
	b, err := io.ReadAll(stdin)
	if err != nil {
		return fmt.Errorf("read standard input: %w", err)
	}
	return sess.Run(ctx, "<stdin>", string(b))
}

// hint is what to add to an error about the live table that a saved one
// avoids.
func hint(err error) string {
	switch {
	case errors.Is(err, engine.ErrPermission):
		return " (use --from FILE to query a saved table without privileges)"
	case errors.Is(err, engine.ErrUnsupported):
		return " (use --from FILE to query a table saved on Linux with conntrack -L -o save)"
	}
	return ""
}
