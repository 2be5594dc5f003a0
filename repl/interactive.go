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

	"ctq/lang"
)

// Interactive runs the shell on a terminal: a prompt, history in
// ~/.ctq_history, and one statement line at a time. Ctrl-C cancels the
// running statement (or the line being typed) and returns to the prompt;
// Ctrl-D at the prompt, or an exit statement, ends the shell (exit N: with
// that code). Variables set with let stay for the following lines.
func Interactive(ctx context.Context, sess *Session, stdin *os.File, stderr io.Writer) error {
	cfg := &readline.Config{
		Prompt:          prompt,
		HistoryFile:     historyPath(),
		InterruptPrompt: "^C",
		AutoComplete:    newCompleter(),
		Stdin:           stdin,
		Stderr:          stderr,
		// A statement spread over lines is one history entry.
		DisableAutoSaveHistory: true,
	}
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return fmt.Errorf("start the shell: %w", err)
	}
	defer rl.Close()
	var pending []string // lines of a statement that continues
	for {
		line, err := rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			pending = nil
			rl.SetPrompt(prompt)
			continue
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("read input: %w", err)
		}
		if len(pending) == 0 && strings.TrimSpace(line) == "" {
			continue
		}
		if cut, ok := strings.CutSuffix(line, "\\"); ok {
			pending = append(pending, cut)
			rl.SetPrompt(continuePrompt)
			continue
		}
		pending = append(pending, line)
		text := strings.Join(pending, "\n")
		if incomplete(text) {
			rl.SetPrompt(continuePrompt)
			continue
		}
		pending = nil
		rl.SetPrompt(prompt)
		_ = rl.SaveHistory(text)
		err = runInterruptible(ctx, sess, text)
		if sess.exited {
			return err
		}
		if err != nil {
			fmt.Fprintf(stderr, "%sctq: %v%s\n", colourError, err, colourReset)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

// The shell's prompts, and the colour of its error messages (it only runs
// on a terminal).
const (
	prompt         = "ctq> "
	continuePrompt = "...> "
	colourError    = "\x1b[31m"
	colourReset    = "\x1b[0m"
)

// incomplete reports whether text stops inside an open bracket, string or
// comment, so the statement goes on on the next line.
func incomplete(text string) bool {
	_, err := lang.Parse(text)
	var le *lang.Error
	return errors.As(err, &le) && le.Incomplete
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
