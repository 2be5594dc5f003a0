package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"

	"github.com/chzyer/readline"
)

// Interactive runs the shell on a terminal: a prompt, history in
// ~/.ctq_history, and one statement line at a time. Ctrl-C cancels the
// running statement (or the line being typed) and returns to the prompt;
// Ctrl-D at the prompt ends the shell.
func Interactive(ctx context.Context, sess *Session, stdin *os.File, stderr io.Writer) error {
	cfg := &readline.Config{
		Prompt:          "ctq> ",
		HistoryFile:     historyPath(),
		InterruptPrompt: "^C",
		Stdin:           stdin,
		Stderr:          stderr,
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return fmt.Errorf("start the shell: %w", err)
	}
	defer rl.Close()
	for {
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("read input: %w", err)
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if err := runInterruptible(ctx, sess, line); err != nil {
			fmt.Fprintf(stderr, "ctq: %v\n", err)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// runInterruptible runs one line with SIGINT cancelling just that line.
func runInterruptible(ctx context.Context, sess *Session, line string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, os.Interrupt)
	defer signal.Stop(sigc)
	go func() {
		select {
		case <-sigc:
			cancel()
		case <-ctx.Done():
		}
	}()
	return sess.Run(ctx, "", line)
}

// historyPath is ~/.ctq_history, or nothing without a home directory.
func historyPath() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ""
	}
	return filepath.Join(home, ".ctq_history")
}
